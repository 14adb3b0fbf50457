// Containers in the metadata DB, with containerd 1.6's semantics (metadata/containers.go):
// a container is only metadata (id, runtime, spec, snapshot reference, labels, extensions);
// tasks run elsewhere. Spec, runtime options and extensions are kept as the client sent
// them (serialized google.protobuf.Any), never interpreted here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/filters.h"
#include "common/records.h"
#include "common/status.h"
#include "metadata/db.h"

namespace berth::metadata {

// The container record (common/records.h), the same type the client library hands out.
using Container = berth::Container;

// Stateless: every call runs inside the caller's transaction.
namespace containers {

// containerd's validateContainer: id an identifier, extension names non-empty, labels within
// limits, runtime name and spec set, a snapshotter when there is a snapshot key.
Status Validate(const Container& container);

// NotFound `container "x" in namespace "ns"` (containerd's text for Get).
Result<Container> Get(Tx& tx, std::string_view ns, std::string_view id);
// Containers of `ns` matching any of `filters` (fields `id`, `image`, `runtime.name`,
// `labels.<k>`, as containerd's adaptContainer), by id.
Result<std::vector<Container>> List(Tx& tx, std::string_view ns,
                                    const std::vector<std::string>& filters);
// Validates ("create container failed validation: ..."), creates the namespace if needed.
// AlreadyExists `container "x"`.
Result<Container> Create(Tx& tx, std::string_view ns, Container container);
// Applies `paths` ("labels", "labels.<k>", "spec", "extensions", "extensions.<k>", "image",
// "snapshotkey") from `container`. No paths replace all of those, and then a different
// snapshotter or runtime name is refused (immutable). NotFound `container "x"`.
Result<Container> Update(Tx& tx, std::string_view ns, const Container& container,
                         const std::vector<std::string>& paths);
// NotFound `container x` (containerd's text).
Status Delete(Tx& tx, std::string_view ns, std::string_view id);

// The filter view of a container (containerd's adaptContainer). Refers to `container`.
filters::FuncAdaptor Adapt(const Container& container);

}  // namespace containers
}  // namespace berth::metadata
