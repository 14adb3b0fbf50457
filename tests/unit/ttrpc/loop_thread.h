// Test helpers: an EventLoop running on its own thread (as berthd runs one), a way to run code
// on it and wait, and a temp directory removed after the test.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "ttrpc/event_loop.h"

namespace berth::ttrpc::testing {

class LoopThread {
 public:
  LoopThread() {
    auto loop = EventLoop::Create();
    EXPECT_TRUE(loop.ok()) << loop.status().ToString();
    loop_ = std::move(*loop);
  }
  ~LoopThread() { Stop(); }

  EventLoop& loop() { return *loop_; }

  void Start() {
    thread_ = std::thread([this] {
      Status st = loop_->Run();
      EXPECT_TRUE(st.ok()) << st.ToString();
    });
  }
  void Stop() {
    if (!thread_.joinable()) return;
    loop_->Stop();
    thread_.join();
  }

  // Runs `fn` on the loop thread and waits for it (bounded, so a wedged loop fails the test).
  void Sync(std::function<void()> fn) {
    if (!thread_.joinable()) {
      fn();
      return;
    }
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    loop_->Post([fn = std::move(fn), done] {
      fn();
      done->set_value();
    });
    ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "event loop wedged";
  }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "berth-ttrpc-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Polls `pred` until true or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

}  // namespace berth::ttrpc::testing
