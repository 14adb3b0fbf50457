// containerd 1.6 itself (Debian's /usr/bin/containerd) on its own temp root, state and
// socket, for side-by-side checks: the same ctr command against both daemons must give the
// same result. Never touches the system containerd's default paths.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace berth::e2e {

class Containerd {
 public:
  static constexpr const char* kBinary = "/usr/bin/containerd";

  // Starts containerd on dirs under `base`; fails the test if it is not ready in time.
  explicit Containerd(const std::filesystem::path& base);
  ~Containerd();  // Stop()
  Containerd(const Containerd&) = delete;
  Containerd& operator=(const Containerd&) = delete;

  void Stop();
  const std::filesystem::path& socket() const { return socket_; }
  const std::filesystem::path& root() const { return root_; }
  std::string Log() const;

  // `ctr --address SOCK args...`
  CommandResult Ctr(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(120)) const;

 private:
  std::filesystem::path root_, state_, socket_, config_, log_;
  pid_t pid_ = -1;
};

}  // namespace berth::e2e
