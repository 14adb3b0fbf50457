// Namespaces in the metadata DB, with containerd's semantics: names are identifiers,
// labels are per namespace, creating any object in a namespace creates it implicitly,
// and only an empty namespace can be deleted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "metadata/db.h"

namespace berth::metadata {

struct Namespace {
  std::string name;
  labels::Labels labels;
};

// Stateless: every call runs inside the caller's transaction.
namespace namespaces {

// AlreadyExists when taken, InvalidArgument for a bad name or labels.
Status Create(Tx& tx, std::string_view name, const labels::Labels& labels);
// Creates the namespace if missing (what every namespaced object does first).
Status Ensure(Tx& tx, std::string_view name);
Result<bool> Exists(Tx& tx, std::string_view name);
// Labels of a namespace; empty for one that does not exist (as containerd answers).
Result<labels::Labels> Labels(Tx& tx, std::string_view name);
// Sets one label; an empty value deletes it. Creates the namespace if missing.
Status SetLabel(Tx& tx, std::string_view name, std::string_view key, std::string_view value);
Result<std::vector<Namespace>> List(Tx& tx);
// NotFound when missing; FailedPrecondition naming what it still holds when not empty.
Status Delete(Tx& tx, std::string_view name);

// What a namespace still holds, one entry per kind ("images", "containers", ...).
// Each store that keeps namespaced objects registers its table here.
Result<std::vector<std::string>> Contents(Tx& tx, std::string_view name);

}  // namespace namespaces
}  // namespace berth::metadata
