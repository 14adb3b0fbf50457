#include "shim/log_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include "common/logging.h"

namespace berth::shim {
namespace {

class FdSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  ~FdSink() override {
    if (fd_ > 2) ::close(fd_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    (void)!::write(fd_, buf.data(), buf.size());  // EAGAIN: dropped
  }
  void flush_() override {}

 private:
  int fd_;
};

}  // namespace

void SetupLogging(const std::string& bundle, bool debug) {
  int fd = ::open((bundle + "/log").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fd = 2;  // no fifo, or nobody reading it
  auto logger = std::make_shared<spdlog::logger>("berth-shim", std::make_shared<FdSink>(fd));
  spdlog::set_default_logger(logger);
  spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_pattern("time=\"%Y-%m-%dT%H:%M:%S.%fZ\" level=%l %v", spdlog::pattern_time_type::utc);
}

}  // namespace berth::shim
