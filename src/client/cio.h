// berth's small counterpart of containerd's cio: the fifos a task's stdio goes through, and
// copying between them and the caller's own stdio.
//
//   BERTH_ASSIGN_OR_RETURN(auto fifos, FifoSet::Create(id, /*terminal=*/false));
//   IoCopier io(fifos->paths(), {0, 1, 2}, [&] { client.CloseIO(id); });
//   client.CreateTask({.container_id = id, .stdin_path = fifos->paths().stdin_path, ...});
//   ... WaitTask ...; io.WaitOutput(5s); client.DeleteTask(id);
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::client {

// Where FifoSet makes its directories.
inline constexpr const char* kDefaultFifoRoot = "/run/berth/fifo";

// The stdio of a process as the tasks API names it (fifo paths; "" for none).
struct IoPaths {
  std::string stdin_path;
  std::string stdout_path;
  std::string stderr_path;
  bool terminal = false;
};

// A fresh directory `<root>/<random>/` holding the fifos `<id>-stdin`, `<id>-stdout` and
// `<id>-stderr` (with a terminal, stderr is named but not made: a pty has one output). The
// directory goes with the object unless Keep() was called (a detached task's stdio).
// Thread-compatible: const accessors from any thread; Keep() and destruction by the owner only.
class FifoSet {
 public:
  static Result<std::unique_ptr<FifoSet>> Create(const std::string& id, bool terminal,
                                                 const std::filesystem::path& root = kDefaultFifoRoot);
  ~FifoSet();
  FifoSet(const FifoSet&) = delete;
  FifoSet& operator=(const FifoSet&) = delete;

  const IoPaths& paths() const { return paths_; }
  const std::filesystem::path& dir() const { return dir_; }
  void Keep() { keep_ = true; }

 private:
  FifoSet() = default;
  std::filesystem::path dir_;
  IoPaths paths_;
  bool keep_ = false;
};

// Removes the directory of a task's fifos if FifoSet made it (under `root`): what deleting a
// detached task leaves behind.
void RemoveFifoDir(const IoPaths& paths, const std::filesystem::path& root = kDefaultFifoRoot);

// Copies the caller's input to the stdin fifo and the stdout/stderr fifos to the caller's
// outputs, one thread per stream. Output ends when the process side closes its end (EOF); input
// ends at EOF of `in`, after which the fifo is closed and `on_stdin_eof` runs (CloseIO).
// Thread-safe: WaitOutput and Cancel may be called from any thread (one mutex; the copies run on
// their own threads); the destructor belongs to the owner.
class IoCopier {
 public:
  struct Streams {
    int in = -1;   // -1: no input
    int out = -1;  // -1: discard
    int err = -1;
  };

  IoCopier(const IoPaths& paths, Streams streams, std::function<void()> on_stdin_eof = {});
  ~IoCopier();  // Cancel(), then joins
  IoCopier(const IoCopier&) = delete;
  IoCopier& operator=(const IoCopier&) = delete;

  // Waits until every output stream reached EOF; false when `timeout` passed first.
  bool WaitOutput(std::chrono::milliseconds timeout);
  // Stops every copy now (what is in flight is dropped). Idempotent.
  void Cancel();

 private:
  void CopyOut(const std::string& path, int dst);
  void CopyIn(const std::string& path, int src);

  const UniqueFd stop_fd_;  // eventfd, readable once canceled
  std::string stdin_path_;
  std::function<void()> on_stdin_eof_;
  std::mutex mu_;
  std::condition_variable cv_;
  int outputs_left_ = 0;  // guarded by mu_
  bool canceled_ = false;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace berth::client
