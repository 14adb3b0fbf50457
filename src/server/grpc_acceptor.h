// The accept loop of berthd's gRPC socket. gRPC 1.51 (Debian 12's) stops accepting for good
// once accept4 fails with EMFILE (grpc issue 20418): a daemon that ran out of descriptors once
// would never serve again. So berthd listens itself and hands each connection to gRPC
// (grpc::AddInsecureChannelFromFd); when accept fails for want of descriptors it waits and
// tries again, and serves as soon as some are free.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "common/unique_fd.h"

namespace grpc { class Server; }

namespace berth::server {

// A listening unix socket bound at `path` (backlog as gRPC's), not yet accepting.
Result<UniqueFd> ListenUnix(const std::filesystem::path& path);

// Thread-safe: Start, then Stop (or the destructor) from any thread; the loop runs on a thread
// of its own.
class GrpcAcceptor {
 public:
  // Accepts on `listener` and gives the connections to `server` (which must outlive this).
  static Result<std::unique_ptr<GrpcAcceptor>> Start(UniqueFd listener, grpc::Server* server);
  ~GrpcAcceptor();
  GrpcAcceptor(const GrpcAcceptor&) = delete;
  GrpcAcceptor& operator=(const GrpcAcceptor&) = delete;

  // Stops accepting (connections already handed over stay gRPC's); idempotent.
  void Stop();
  // Accepts that failed for want of descriptors (for tests and logs).
  uint64_t fd_exhaustions() const { return fd_exhaustions_.load(); }

 private:
  GrpcAcceptor(UniqueFd listener, UniqueFd wake, grpc::Server* server)
      : listener_(std::move(listener)), wake_(std::move(wake)), server_(server) {}
  void Run();

  std::mutex stop_mu_;  // Stop from two threads: one joins, both return once it has stopped
  UniqueFd listener_;
  UniqueFd wake_;  // eventfd: Stop's signal to the loop
  grpc::Server* server_;
  std::atomic<uint64_t> fd_exhaustions_{0};
  std::thread thread_;
};

}  // namespace berth::server
