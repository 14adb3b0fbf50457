#include "content/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/crash_point.h"
#include "common/files.h"
#include "common/logging.h"
#include "content/hash_file.h"
#include "content/local_store.h"

namespace berth::content {

Writer::Writer(const LocalStore& store, std::string ref, std::filesystem::path dir, UniqueFd fd,
               RefLock lock, Hasher hasher, int64_t offset, int64_t total, std::string expected,
               TimePoint started_at, TimePoint updated_at)
    : store_(store),
      ref_(std::move(ref)),
      dir_(std::move(dir)),
      fd_(std::move(fd)),
      lock_(std::move(lock)),
      hasher_(std::move(hasher)),
      offset_(offset),
      total_(total),
      expected_(std::move(expected)),
      started_at_(started_at),
      updated_at_(updated_at) {}

Writer::~Writer() {
  Status st = Close();
  if (!st.ok()) log::Warn("close content writer", {{"ref", ref_}, {"error", st.ToString()}});
}

IngestStatus Writer::Progress() const {
  return IngestStatus{.ref = ref_, .offset = offset_, .total = total_, .started_at = started_at_,
                      .updated_at = updated_at_, .expected = expected_};
}

Digest Writer::CurrentDigest() const { return hasher_.Peek(); }

Status Writer::Write(std::string_view data) {
  if (!fd_.valid()) return FailedPrecondition("content writer {:?} is closed", ref_);
  const auto path = dir_ / "data";
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(offset_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(fmt::format("write ingest {:?}", ref_), errno);
    }
    hasher_.Update(data.data(), static_cast<size_t>(n));
    offset_ += n;
    data.remove_prefix(static_cast<size_t>(n));
  }
  updated_at_ = Clock::now();
  CrashPoint("content.ingest.write");
  return Status::Ok();
}

Status Writer::Truncate(int64_t size) {
  if (!fd_.valid()) return FailedPrecondition("content writer {:?} is closed", ref_);
  if (size != 0) return InvalidArgument("truncate ingest {:?}: unsupported size {}", ref_, size);
  if (::ftruncate(fd_.get(), 0) != 0) return ErrnoStatus(fmt::format("truncate ingest {:?}", ref_), errno);
  auto fresh = Hasher::New(hasher_.Peek().algorithm);
  if (!fresh.ok()) return fresh.status();
  hasher_ = std::move(fresh).value();
  offset_ = 0;
  updated_at_ = Clock::now();
  return Status::Ok();
}

void Writer::Finish() {
  fd_.Reset();
  verified_.reset();
  lock_.Release();
}

Result<Writer::Verified> Writer::Verify(int64_t size, const std::optional<Digest>& expected) {
  if (!fd_.valid()) return FailedPrecondition("cannot commit on closed writer {:?}", ref_);
  const auto data = dir_ / "data";
  if (::fsync(fd_.get()) != 0) {
    Status st = ErrnoStatus(fmt::format("sync ingest {:?}", ref_), errno);
    Finish();
    return st;
  }
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) {
    Status s = ErrnoStatus(fmt::format("stat ingest {:?}", ref_), errno);
    Finish();
    return s;
  }
  const int64_t actual_size = static_cast<int64_t>(st.st_size);
  if (size > 0 && size != actual_size) {
    Finish();
    return FailedPrecondition("unexpected commit size {}, expected {}", actual_size, size);
  }
  Digest actual = hasher_.Peek();
  if (expected && expected->algorithm != actual.algorithm) {
    // The writer hashed with another algorithm than the one the commit names: hash again.
    auto other = Hasher::New(expected->algorithm);
    if (!other.ok()) {
      Finish();
      return other.status();
    }
    auto n = HashFd(fd_.get(), *other, data);
    if (!n.ok()) {
      Finish();
      return n.status();
    }
    actual = other->Finish();
  }
  if (expected && *expected != actual) {
    Finish();
    return FailedPrecondition("unexpected commit digest {}, expected {}", actual.String(), expected->String());
  }
  fd_.Reset();  // synced above; the rename happens in Install
  verified_ = Verified{actual, actual_size};
  return *verified_;
}

Status Writer::Install() {
  if (!verified_) return FailedPrecondition("install of ingest {:?} before it was verified", ref_);
  const Digest digest = verified_->digest;
  const auto target = store_.BlobPath(digest);
  const auto data = dir_ / "data";
  auto finish = [&](Status st) {
    Status rm = files::RemoveAll(dir_);
    if (!rm.ok()) log::Error("remove ingest directory", {{"ref", ref_}, {"error", rm.ToString()}});
    Finish();
    return st;
  };

  std::error_code ec;
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) {
    Finish();
    return Status(Errc::kUnknown, fmt::format("create {}: {}", target.parent_path().string(), ec.message()));
  }
  struct stat st {};
  if (::lstat(target.c_str(), &st) == 0) return finish(AlreadyExists("content {}", digest.String()));
  CrashPoint("content.commit.verified");
  if (::rename(data.c_str(), target.c_str()) != 0) {
    Status err = ErrnoStatus(fmt::format("commit ingest {:?} as {}", ref_, digest.String()), errno);
    Finish();
    return err;
  }
  // From here the blob is in the store; what follows only tidies up, so it logs rather than
  // fails (containerd's local writer does the same).
  if (::utimes(target.c_str(), nullptr) != 0) {
    log::Warn("set commit time", {{"digest", digest.String()}, {"errno", errno}});
  }
  if (::chmod(target.c_str(), 0444) != 0) {
    log::Warn("make blob read-only", {{"digest", digest.String()}, {"errno", errno}});
  }
  Status sync = files::SyncDir(target.parent_path());
  if (!sync.ok()) log::Warn("sync blob directory", {{"digest", digest.String()}, {"error", sync.ToString()}});
  CrashPoint("content.commit.installed");
  return finish(Status::Ok());
}

Status Writer::Commit(int64_t size, const std::optional<Digest>& expected) {
  auto verified = Verify(size, expected);
  if (!verified.ok()) return verified.status();
  return Install();
}

Status Writer::Close() {
  if (verified_) {
    // Verified but never installed: the data stays in the ingest for a later writer.
    Finish();
    return Status::Ok();
  }
  if (!fd_.valid()) return Status::Ok();
  Status result;
  if (::fsync(fd_.get()) != 0) result = ErrnoStatus(fmt::format("sync ingest {:?}", ref_), errno);
  if (int err = fd_.Close(); err > 0 && result.ok()) {
    result = ErrnoStatus(fmt::format("close ingest {:?}", ref_), err);
  }
  Status ts = files::WriteAtomic(dir_ / "updatedat", std::to_string(ToUnixNanos(updated_at_)));
  if (!ts.ok() && !ts.Is(Errc::kNotFound)) {
    log::Warn("record ingest update time", {{"ref", ref_}, {"error", ts.ToString()}});
  }
  Finish();
  return result;
}

}  // namespace berth::content
