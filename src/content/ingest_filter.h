// Ingest listings are filtered on one field, `ref` (containerd's ListStatuses filters).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/filters.h"
#include "content/types.h"

namespace berth::content {

// True when there is no filter or the ingest's ref matches it.
inline bool IngestMatches(const filters::FilterPtr& filter, const IngestStatus& ingest) {
  if (!filter) return true;
  filters::FuncAdaptor adaptor([&](const std::vector<std::string>& path) -> std::optional<std::string> {
    if (!path.empty() && path[0] == "ref") return ingest.ref;
    return std::nullopt;
  });
  return filter->Match(adaptor);
}

}  // namespace berth::content
