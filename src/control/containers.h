// Container records as both front-ends (the gRPC Containers service, the REST API) change them:
// the metadata transaction, then the log line and the /containers/* event, then (for a delete)
// a garbage collection soon. One place, so the two front-ends cannot drift.
//
// Thread-safety: stateless over the DB; safe from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "events/exchange.h"
#include "metadata/containers.h"
#include "metadata/db.h"

namespace berth::control {

class Containers {
 public:
  Containers(metadata::Db& db, events::Publisher& publisher, std::function<void()> schedule_gc)
      : db_(db), publisher_(publisher), schedule_gc_(std::move(schedule_gc)) {}

  // metadata::containers::Create's errors (AlreadyExists, InvalidArgument); publishes
  // /containers/create after the commit.
  Result<metadata::Container> Create(const std::string& ns, metadata::Container c);
  // metadata::containers::Update's errors; publishes /containers/update.
  Result<metadata::Container> Update(const std::string& ns, metadata::Container c,
                                     const std::vector<std::string>& paths);
  // NotFound; publishes /containers/delete and schedules a collection.
  Status Delete(const std::string& ns, const std::string& id);
  // NotFound `container "ID" in namespace "NS": not found`.
  Result<metadata::Container> Get(const std::string& ns, const std::string& id) const;
  Result<std::vector<metadata::Container>> List(const std::string& ns, const std::vector<std::string>& filters) const;

  // Whether namespace `ns` exists (a create makes it on first use, as containerd's).
  bool NamespaceExists(const std::string& ns) const;
  // Removes `ns` if nothing is left in it (undoing a create that made it); errors are logged.
  void RemoveNamespaceIfEmpty(const std::string& ns);

 private:
  void Publish(const std::string& ns, std::string_view topic, const google::protobuf::Message& event);

  metadata::Db& db_;
  events::Publisher& publisher_;
  std::function<void()> schedule_gc_;
};

}  // namespace berth::control
