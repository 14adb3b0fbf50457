#include "berth/task_run.h"

#include <unistd.h>

#include "client/cio.h"
#include "common/logging.h"

namespace berth::cli {

Result<int> RunTask(client::Client& client, const client::Container& container,
                    const TaskRunOptions& options, ProcessSession* session) {
  const std::string& id = container.id;
  client::TaskCreateRequest request;
  request.container_id = id;
  if (!container.snapshot_key.empty()) {
    if (container.snapshotter.empty()) {
      return InvalidArgument("container {:?} has a snapshot key but no snapshotter", id);
    }
    BERTH_ASSIGN_OR_RETURN(request.rootfs,
                           client.SnapshotMounts(container.snapshotter, container.snapshot_key));
  }
  BERTH_ASSIGN_OR_RETURN(auto fifos, client::FifoSet::Create(id, options.terminal));
  request.stdin_path = fifos->paths().stdin_path;
  request.stdout_path = fifos->paths().stdout_path;
  request.stderr_path = fifos->paths().stderr_path;
  request.terminal = options.terminal;
  request.checkpoint = options.checkpoint;

  // Detached, the fifos still need a reader until the task started: the runtime's open of
  // the write side waits for one (ctr copies to its own output until it leaves, as here).
  std::unique_ptr<client::IoCopier> detached_io;
  if (session != nullptr) {
    session->StartIo(client, fifos->paths(), id, "");
  } else {
    detached_io = std::make_unique<client::IoCopier>(
        fifos->paths(), client::IoCopier::Streams{-1, STDOUT_FILENO, STDERR_FILENO});
  }
  auto pid = client.CreateTask(request);
  if (!pid.ok()) {
    if (session != nullptr) session->FinishIo(false);
    return pid.status().Wrap("failed to create task");
  }
  auto abandon = [&](const Status& why) -> Status {
    if (session != nullptr) session->FinishIo(false);
    detached_io.reset();
    if (auto st = client.DeleteTask(id); !st.ok()) {
      log::Warn("deleting the task", {{"id", id}, {"error", st.status().ToString()}});
    }
    return why;
  };
  if (session != nullptr && session->early_signal() != 0) {
    return abandon(Status(Errc::kCanceled, fmt::format("interrupted (signal {})",
                                                       session->early_signal())));
  }
  if (auto started = client.StartTask(id); !started.ok()) {
    return abandon(started.status().Wrap("failed to start task"));
  }
  if (options.detach) {
    fifos->Keep();
    return 0;
  }
  session->Attach(client, id, "");
  auto exit = client.WaitTask(id);
  session->FinishIo(exit.ok());
  auto deleted = client.DeleteTask(id);
  if (!exit.ok()) return exit.status();
  if (!deleted.ok()) return deleted.status().Wrap("failed to delete task");
  return ExitCodeOf(exit->code);
}

}  // namespace berth::cli
