// How the CLI prints: aligned tables, label lists and event timestamps.
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/timestamp.pb.h>

#include "common/labels.h"

namespace berth::cli {

// Spaces between table columns.
inline constexpr size_t kColumnGap = 3;

// A table printed with each column as wide as its widest cell (in UTF-8 characters), the
// columns kColumnGap spaces apart, and no trailing blanks. Rows may be shorter than others.
class Table {
 public:
  Table() = default;
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // One line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Characters (UTF-8 code points) in `s`.
size_t DisplayWidth(const std::string& s);

// "k1=v1,k2=v2", sorted by key, as `ctr namespaces ls` shows labels.
std::string FormatLabels(const labels::Labels& labels);

// Go's time.Time.String() in UTC ("2006-01-02 15:04:05.999999999 +0000 UTC"), which is how
// `ctr events` prints event timestamps.
std::string FormatGoTime(const google::protobuf::Timestamp& ts);

}  // namespace berth::cli
