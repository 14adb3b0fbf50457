#include "runtime/shim_stats.h"

#include <condition_variable>
#include <mutex>

namespace berth::runtime {

namespace {

// Shared with the callbacks, which may run after StatsOfAll gave up waiting for them.
struct Pending {
  std::mutex mu;
  std::condition_variable done;
  size_t remaining = 0;                                // guarded by mu
  std::vector<Result<shimapi::StatsResponse>> results;  // guarded by mu
};

}  // namespace

std::vector<Result<shimapi::StatsResponse>> StatsOfAll(const std::vector<std::shared_ptr<ShimTask>>& tasks,
                                                       std::chrono::milliseconds timeout) {
  auto pending = std::make_shared<Pending>();
  pending->remaining = tasks.size();
  pending->results.assign(tasks.size(), Status(Errc::kDeadlineExceeded, "shim did not answer Stats"));
  for (size_t i = 0; i < tasks.size(); ++i) {
    shimapi::StatsRequest req;
    req.set_id(tasks[i]->id());
    tasks[i]->client().CallAsync(
        ShimTask::kService, "Stats", req.SerializeAsString(), ttrpc::WithNamespace(tasks[i]->ns(), timeout),
        [pending, i](Status status, std::string payload) {
          Result<shimapi::StatsResponse> result = Status(Errc::kInternal, "cannot decode the shim's StatsResponse");
          if (!status.ok()) {
            result = std::move(status);
          } else if (shimapi::StatsResponse resp; resp.ParseFromString(payload)) {
            result = std::move(resp);
          }
          std::lock_guard lock(pending->mu);
          pending->results[i] = std::move(result);
          if (--pending->remaining == 0) pending->done.notify_all();
        });
  }
  // Every call ends by its deadline on the loop; the margin covers a loop that stopped (its
  // callbacks are dropped, never run): those stay DeadlineExceeded.
  std::unique_lock lock(pending->mu);
  pending->done.wait_for(lock, timeout + std::chrono::seconds(2), [&] { return pending->remaining == 0; });
  return pending->results;
}

}  // namespace berth::runtime
