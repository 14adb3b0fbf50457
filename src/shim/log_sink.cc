#include "shim/log_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include "common/logging.h"
#include "common/unique_fd.h"

namespace berth::shim {
namespace {

// Writes to the log fifo it owns, or to stderr when there is none.
class FdSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit FdSink(UniqueFd fd) : fd_(std::move(fd)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    (void)!::write(fd_ ? fd_.get() : STDERR_FILENO, buf.data(), buf.size());  // EAGAIN: dropped
  }
  void flush_() override {}

 private:
  UniqueFd fd_;
};

}  // namespace

void SetupLogging(const std::string& bundle, bool debug) {
  // No fifo, or nobody reading it: stderr.
  UniqueFd fd(::open((bundle + "/log").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  auto logger = std::make_shared<spdlog::logger>("berth-shim", std::make_shared<FdSink>(std::move(fd)));
  spdlog::set_default_logger(logger);
  spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_pattern("time=\"%Y-%m-%dT%H:%M:%S.%fZ\" level=%l %v", spdlog::pattern_time_type::utc);
}

}  // namespace berth::shim
