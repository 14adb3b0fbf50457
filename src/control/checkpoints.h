// The seed's named checkpoints of a container (REST `/containers/{id}/checkpoint/{name}`,
// `berth checkpoints`), server side. A named checkpoint is a containerd checkpoint image: an OCI
// index (images/checkpoint_index.h) over the task's criu tar and spec (Tasks::Checkpoint) and the
// checkpoint options, named `checkpoint/<container id>:<name>` and labelled as
// checkpoint/media_types.h says, so `ctr images ls` shows it and the CLI finds it over gRPC.
// Image records change as the Images service changes them: /images/create and /images/delete
// events, a collection scheduled after a delete (the blobs go then).
//
// Thread-safety: stateless over the DB, the content store and Tasks; safe from any thread. Two
// creates of one name race to the image record: the loser gets AlreadyExists and its blobs go
// at the next collection.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "checkpoint/store_blob.h"
#include "common/status.h"
#include "common/timeutil.h"
#include "control/tasks.h"
#include "events/exchange.h"
#include "metadata/content_store.h"
#include "metadata/db.h"

namespace berth::control {

// The seed's checkpoint options.
struct CheckpointFlags {
  bool exit = false;          // the task stops once checkpointed
  bool tcp = false;           // established TCP connections (criu --tcp-established)
  bool unix_sockets = false;  // external unix sockets
  bool shell = false;         // a shell job (the task's terminal)
};

struct NamedCheckpoint {
  std::string name;
  TimePoint created_at{};
  CheckpointFlags flags;
};

class Checkpoints {
 public:
  Checkpoints(metadata::Db& db, metadata::ContentStore& content, Tasks& tasks, events::Publisher& publisher,
              std::function<void()> schedule_gc)
      : db_(db), content_(content), tasks_(tasks), publisher_(publisher), schedule_gc_(std::move(schedule_gc)) {}

  // Checkpoints the container's task into a new named checkpoint. InvalidArgument for a name
  // that is not an identifier, NotFound for a missing container or task, AlreadyExists when the
  // name is taken, Tasks::Checkpoint's errors (FailedPrecondition naming criu when criu is
  // unusable here). Works under a lease of its own, deleted at the end whatever happens: a
  // failure leaves no image record, and its blobs go at the next collection.
  Result<NamedCheckpoint> Create(const std::string& ns, const std::string& container_id, const std::string& name,
                                 const CheckpointFlags& flags);
  // The container's checkpoints, oldest first. NotFound for a missing container.
  Result<std::vector<NamedCheckpoint>> List(const std::string& ns, const std::string& container_id) const;
  // Deletes the image record (the container need not exist any more); publishes /images/delete
  // and schedules a collection. NotFound when there is no such checkpoint.
  Status Delete(const std::string& ns, const std::string& container_id, const std::string& name);
  // The criu tar of a checkpoint, to restore a task from (TaskRequest::checkpoint); the container
  // need not exist. NotFound when there is no such checkpoint, FailedPrecondition when its index
  // is unreadable or holds no criu tar.
  Result<checkpoint::Blob> Find(const std::string& ns, const std::string& container_id,
                                const std::string& name) const;

 private:
  void Publish(const std::string& ns, std::string_view topic, const google::protobuf::Message& event);

  metadata::Db& db_;
  metadata::ContentStore& content_;
  Tasks& tasks_;
  events::Publisher& publisher_;
  std::function<void()> schedule_gc_;
};

}  // namespace berth::control
