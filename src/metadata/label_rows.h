// Rows of the `*_labels` tables (image_labels, container_labels, lease_labels): every
// labelled object keeps its labels as (namespace, <object column>, key, value) rows.
#pragma once

#include <string_view>

#include "common/labels.h"
#include "common/status.h"
#include "metadata/db.h"

namespace berth::metadata::label_rows {

// Which table and which column names the object ("name" for images, "id" otherwise).
struct Table {
  std::string_view table;
  std::string_view object_column;
};
inline constexpr Table kImages{"image_labels", "name"};
inline constexpr Table kContainers{"container_labels", "id"};
inline constexpr Table kLeases{"lease_labels", "id"};

Result<labels::Labels> Read(Tx& tx, const Table& t, std::string_view ns, std::string_view object);
// Replaces the object's labels with `labels`; empty values are not stored (containerd drops
// them: an empty value means "no such label").
Status Write(Tx& tx, const Table& t, std::string_view ns, std::string_view object,
             const labels::Labels& labels);
// Drops empty values, as Write does, so that what callers return matches what is stored.
void DropEmpty(labels::Labels& labels);

}  // namespace berth::metadata::label_rows
