// The objects of the tasks service as the client library hands them out (containerd's
// api/services/tasks/v1 and api/types/task).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "client/types.h"
#include "common/timeutil.h"

namespace berth::client {

// containerd.v1.types.Status, same numbers.
enum class TaskStatus : int {
  kUnknown = 0,
  kCreated = 1,
  kRunning = 2,
  kStopped = 3,
  kPaused = 4,
  kPausing = 5
};

// "UNKNOWN", "CREATED", "RUNNING", "STOPPED", "PAUSED", "PAUSING" (what `ctr tasks ls` prints).
constexpr std::string_view TaskStatusName(TaskStatus status) {
  switch (status) {
    case TaskStatus::kCreated: return "CREATED";
    case TaskStatus::kRunning: return "RUNNING";
    case TaskStatus::kStopped: return "STOPPED";
    case TaskStatus::kPaused: return "PAUSED";
    case TaskStatus::kPausing: return "PAUSING";
    case TaskStatus::kUnknown: break;
  }
  return "UNKNOWN";
}

// A task (the container's init process, `id` == container id) or one of its exec'd processes.
struct TaskProcess {
  std::string container_id;
  std::string id;
  uint32_t pid = 0;
  TaskStatus status = TaskStatus::kUnknown;
  std::string stdin_path, stdout_path, stderr_path;
  bool terminal = false;
  uint32_t exit_status = 0;
  TimePoint exited_at;
};

struct ExitStatus {
  uint32_t code = 0;
  TimePoint exited_at;
  uint32_t pid = 0;  // Delete only
};

struct TaskCreateRequest {
  std::string container_id;
  std::vector<Mount> rootfs;  // empty: the runtime uses the bundle's rootfs
  std::string stdin_path, stdout_path, stderr_path;
  bool terminal = false;
  std::optional<google::protobuf::Any> options;  // runtime options for this task
  std::string runtime_path;
  std::optional<Descriptor> checkpoint;  // restore from this criu tar (containerd's WithTaskCheckpoint)
};

struct ExecRequest {
  std::string container_id;
  std::string exec_id;
  std::string stdin_path, stdout_path, stderr_path;
  bool terminal = false;
  google::protobuf::Any spec;  // an OCI process spec (see oci::kProcessTypeUrl)
};

// One process of a task (ListPids): its pid and what the runtime says of it.
struct ProcessInfo {
  uint32_t pid = 0;
  std::optional<google::protobuf::Any> info;
};

// A task's cgroup figures: `data` is io.containerd.cgroups.v1.Metrics or .v2.Metrics.
struct TaskMetric {
  TimePoint timestamp;
  std::string id;
  google::protobuf::Any data;
};

}  // namespace berth::client
