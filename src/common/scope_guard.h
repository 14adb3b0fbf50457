// ScopeGuard: runs a callable when the scope ends, unless dismissed. The unwinding of a setup
// made of several steps, each undone if a later one fails:
//
//   ScopeGuard remove_dir([&] { RemoveDir(dir); });
//   BERTH_RETURN_IF_ERROR(FillDir(dir));   // a failure removes the directory
//   remove_dir.Dismiss();                  // it all worked: keep it
//
// Guards run in reverse order of declaration, as destructors do. The callable must not throw.
#pragma once

#include <utility>

namespace berth {

template <typename F>
class [[nodiscard]] ScopeGuard {
 public:
  explicit ScopeGuard(F fn) : fn_(std::move(fn)) {}
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ~ScopeGuard() {
    if (armed_) fn_();
  }

  // The callable will not run.
  void Dismiss() { armed_ = false; }

 private:
  F fn_;
  bool armed_ = true;
};

}  // namespace berth
