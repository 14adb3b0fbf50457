#include "shim/process_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/files.h"

namespace berth::shim {
namespace {

bool IsFifo(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

// A path that does not exist yet becomes a fifo, as containerd's fifo package does.
Status EnsureFifo(const std::string& path) {
  if (::mkfifo(path.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus("mkfifo " + path, errno);
  return Status::Ok();
}

}  // namespace

Result<UniqueFd> OpenOutput(const std::string& spec, UniqueFd* keep) {
  if (spec.empty()) return UniqueFd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  std::string path = spec;
  bool file = false;
  if (path.starts_with("file://")) {
    path = path.substr(7);
    file = true;
  } else if (path.find("://") != std::string::npos) {
    return NotImplemented("stdio {:?}: unsupported scheme", spec);
  } else {
    struct stat st{};
    file = ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }
  if (file) return files::Open(path, O_WRONLY | O_APPEND | O_CREAT, 0640);
  if (!IsFifo(path)) BERTH_RETURN_IF_ERROR(EnsureFifo(path));
  BERTH_ASSIGN_OR_RETURN(*keep, files::Open(path, O_RDONLY | O_NONBLOCK));
  return files::Open(path, O_WRONLY);
}

Result<UniqueFd> OpenInput(const std::string& path, UniqueFd* writer, bool nonblock) {
  if (!IsFifo(path)) BERTH_RETURN_IF_ERROR(EnsureFifo(path));
  BERTH_ASSIGN_OR_RETURN(*writer, files::Open(path, O_RDWR));
  return files::Open(path, O_RDONLY | (nonblock ? O_NONBLOCK : 0));
}

Result<ProcessIo> ProcessIo::Open(const StdioPaths& p) {
  ProcessIo io;
  if (p.in.empty()) {
    io.stdin_child_.Reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  } else {
    BERTH_ASSIGN_OR_RETURN(io.stdin_child_, OpenInput(p.in, &io.stdin_writer_, false));
  }
  BERTH_ASSIGN_OR_RETURN(io.out_child_, OpenOutput(p.out, &io.out_keep_));
  if (!p.err.empty() && p.err == p.out) {
    io.err_child_.Reset(::fcntl(io.out_child_.get(), F_DUPFD_CLOEXEC, 3));
  } else {
    BERTH_ASSIGN_OR_RETURN(io.err_child_, OpenOutput(p.err, &io.err_keep_));
  }
  return io;
}

void ProcessIo::ReleaseChildFds() {
  stdin_child_.Reset();
  out_child_.Reset();
  err_child_.Reset();
}

void ProcessIo::Close() {
  ReleaseChildFds();
  stdin_writer_.Reset();
  out_keep_.Reset();
  err_keep_.Reset();
}

}  // namespace berth::shim
