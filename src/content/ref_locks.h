// In-process exclusive locks on ingest refs: one writer per ref at a time, as containerd's
// content/local locks. A second writer gets Unavailable ("ref <r> locked for <d> (since <t>)"),
// which clients retry.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/timeutil.h"

namespace berth::content {

class RefLocks;

// Holds one ref's lock; releases it when destroyed (or on Release()).
// Not thread-safe: owned by one holder; releasing it is safe from any thread.
class RefLock {
 public:
  RefLock() = default;
  RefLock(const RefLock&) = delete;
  RefLock& operator=(const RefLock&) = delete;
  RefLock(RefLock&& o) noexcept;
  RefLock& operator=(RefLock&& o) noexcept;
  ~RefLock() { Release(); }

  void Release();
  bool held() const { return locks_ != nullptr; }

 private:
  friend class RefLocks;
  RefLock(RefLocks* locks, std::string ref) : locks_(locks), ref_(std::move(ref)) {}
  RefLocks* locks_ = nullptr;
  std::string ref_;
};

// Thread-safe: all methods may be called concurrently (one mutex).
class RefLocks {
 public:
  RefLocks() = default;
  RefLocks(const RefLocks&) = delete;
  RefLocks& operator=(const RefLocks&) = delete;

  // Unavailable when another holder has `ref`.
  Result<RefLock> TryLock(std::string_view ref);
  bool IsLocked(std::string_view ref) const;

 private:
  friend class RefLock;
  void Unlock(const std::string& ref);

  mutable std::mutex mu_;
  std::map<std::string, TimePoint, std::less<>> held_;
};

}  // namespace berth::content
