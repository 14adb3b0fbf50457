#include "oci/mount_flag.h"

#include <string>
#include <vector>

namespace berth::oci {
namespace {

// One CSV record (Go's encoding/csv: ',' separated, '"' quoted fields, "" an escaped quote).
Result<std::vector<std::string>> CsvFields(std::string_view s) {
  std::vector<std::string> fields;
  size_t i = 0;
  while (true) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (true) {
        if (i >= s.size()) return InvalidArgument("mount {:?}: unterminated quote", s);
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += s[i++];
      }
      if (i < s.size() && s[i] != ',') return InvalidArgument("mount {:?}: extraneous quote", s);
    } else {
      size_t end = s.find(',', i);
      field = std::string(s.substr(i, end == std::string_view::npos ? end : end - i));
      if (field.find('"') != std::string::npos) {
        return InvalidArgument("mount {:?}: bare quote in a field", s);
      }
      i = end == std::string_view::npos ? s.size() : end;
    }
    fields.push_back(std::move(field));
    if (i >= s.size()) break;
    ++i;  // the comma
  }
  return fields;
}

std::vector<std::string> SplitColon(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(':', start);
    out.push_back(s.substr(start, pos == std::string::npos ? pos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

}  // namespace

Result<Mount> ParseMountFlag(std::string_view flag) {
  BERTH_ASSIGN_OR_RETURN(auto fields, CsvFields(flag));
  Mount m;
  for (const auto& field : fields) {
    size_t eq = field.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument("invalid mount specification {:?}: expected key=val", flag);
    }
    std::string key = field.substr(0, eq);
    std::string val = field.substr(eq + 1);
    if (key == "type") {
      m.type = val;
    } else if (key == "source" || key == "src") {
      m.source = val;
    } else if (key == "destination" || key == "dst") {
      m.destination = val;
    } else if (key == "options") {
      m.options = SplitColon(val);
    } else {
      return InvalidArgument("mount option {:?} not supported", key);
    }
  }
  return m;
}

}  // namespace berth::oci
