#include "berth/label_update.h"

namespace berth::cli {

Result<LabelUpdate> ParseLabelUpdate(const std::vector<std::string>& args) {
  BERTH_ASSIGN_OR_RETURN(labels::Labels parsed, labels::ParseKeyValues(args));
  LabelUpdate update;
  for (auto& [key, value] : parsed) {
    update.paths.push_back("labels." + key);
    if (!value.empty()) update.labels[key] = std::move(value);
  }
  return update;
}

}  // namespace berth::cli
