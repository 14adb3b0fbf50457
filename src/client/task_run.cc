#include "client/task_run.h"

#include "client/cio.h"
#include "common/logging.h"

namespace berth::client {

Result<uint32_t> RunTaskToExit(Client& client, const Container& container, int out_fd, int err_fd) {
  const std::string& id = container.id;
  TaskCreateRequest request;
  request.container_id = id;
  if (!container.snapshot_key.empty()) {
    BERTH_ASSIGN_OR_RETURN(request.rootfs, client.SnapshotMounts(container.snapshotter, container.snapshot_key));
  }
  BERTH_ASSIGN_OR_RETURN(auto fifos, FifoSet::Create(id, /*terminal=*/false));
  request.stdout_path = fifos->paths().stdout_path;
  request.stderr_path = fifos->paths().stderr_path;
  IoPaths paths = fifos->paths();
  paths.stdin_path.clear();
  IoCopier io(paths, IoCopier::Streams{-1, out_fd, err_fd});
  auto pid = client.CreateTask(request);
  if (!pid.ok()) return pid.status().Wrap("failed to create task");
  if (auto started = client.StartTask(id); !started.ok()) {
    client.DeleteTask(id).IgnoreError();
    return started.status().Wrap("failed to start task");
  }
  auto exit = client.WaitTask(id);
  io.WaitOutput(std::chrono::seconds(5));  // the process is gone: its output ends soon
  auto deleted = client.DeleteTask(id);
  if (!exit.ok()) return exit.status();
  if (!deleted.ok()) return deleted.status().Wrap("failed to delete task");
  return exit->code;
}

}  // namespace berth::client
