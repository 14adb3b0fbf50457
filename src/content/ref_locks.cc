#include "content/ref_locks.h"

#include <chrono>

#include <fmt/chrono.h>

namespace berth::content {

RefLock::RefLock(RefLock&& o) noexcept : locks_(std::exchange(o.locks_, nullptr)), ref_(std::move(o.ref_)) {}

RefLock& RefLock::operator=(RefLock&& o) noexcept {
  if (this != &o) {
    Release();
    locks_ = std::exchange(o.locks_, nullptr);
    ref_ = std::move(o.ref_);
  }
  return *this;
}

void RefLock::Release() {
  if (locks_ != nullptr) std::exchange(locks_, nullptr)->Unlock(ref_);
}

Result<RefLock> RefLocks::TryLock(std::string_view ref) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  if (auto it = held_.find(ref); it != held_.end()) {
    auto held_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second);
    return Unavailable("ref {} locked for {} (since {})", ref, held_for, FormatRfc3339(it->second));
  }
  held_.emplace(std::string(ref), now);
  return RefLock(this, std::string(ref));
}

bool RefLocks::IsLocked(std::string_view ref) const {
  std::lock_guard lock(mu_);
  return held_.contains(ref);
}

void RefLocks::Unlock(const std::string& ref) {
  std::lock_guard lock(mu_);
  held_.erase(ref);
}

}  // namespace berth::content
