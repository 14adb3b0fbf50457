#include "client/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace berth::client {

Status RunBounded(size_t count, int concurrency, const std::function<Status(size_t)>& work,
                  const std::function<bool()>& stop, const std::function<void()>& on_failure) {
  if (count == 0) return Status::Ok();
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;  // guarded by mu
  auto worker = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= count || stop()) return;
      Status st = work(i);
      if (!st.ok()) {
        {
          std::lock_guard lock(mu);
          if (first_error.ok() || first_error.Is(Errc::kCanceled)) first_error = st;
        }
        on_failure();
      }
    }
  };
  size_t n = std::clamp<size_t>(static_cast<size_t>(std::max(concurrency, 1)), 1, count);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace berth::client
