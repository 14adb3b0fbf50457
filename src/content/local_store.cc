#include "content/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "common/logging.h"
#include "common/files.h"
#include "content/hash_file.h"
#include "content/ingest_filter.h"

namespace berth::content {
namespace {

TimePoint MTime(const struct stat& st) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}
TimePoint ATime(const struct stat& st) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(
      std::chrono::seconds(st.st_atim.tv_sec) + std::chrono::nanoseconds(st.st_atim.tv_nsec)));
}

BlobInfo InfoFromStat(const Digest& digest, const struct stat& st) {
  return BlobInfo{.digest = digest, .size = static_cast<int64_t>(st.st_size), .created_at = MTime(st),
                  .updated_at = ATime(st)};
}

Result<int64_t> ParseInt(std::string_view text, const std::filesystem::path& what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return Internal("{}: not a number: {:?}", what.string(), text);
  }
  return v;
}

Result<TimePoint> ReadTime(const std::filesystem::path& path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, files::ReadSmall(path));
  BERTH_ASSIGN_OR_RETURN(int64_t nanos, ParseInt(text, path));
  return FromUnixNanos(nanos);
}

Status WriteTime(const std::filesystem::path& path, TimePoint t) {
  return files::WriteAtomic(path, std::to_string(ToUnixNanos(t)));
}

Status MakeDirs(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Errc::kUnknown, fmt::format("create {}: {}", dir.string(), ec.message()));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::filesystem::path& root) {
  BERTH_RETURN_IF_ERROR(MakeDirs(root / "blobs"));
  BERTH_RETURN_IF_ERROR(MakeDirs(root / "ingest"));
  return std::unique_ptr<LocalStore>(new LocalStore(root));
}

std::filesystem::path LocalStore::BlobPath(const Digest& digest) const {
  return BlobsRoot() / digest.algorithm / digest.hex;
}

std::filesystem::path LocalStore::IngestDir(std::string_view ref) const {
  return IngestRoot() / Sha256Of(ref).hex;
}

Result<BlobInfo> LocalStore::Info(const Digest& digest) const {
  const auto path = BlobPath(digest);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("content {}", digest.String());
    return ErrnoStatus(fmt::format("stat blob {}", digest.String()), errno);
  }
  return InfoFromStat(digest, st);
}

Result<bool> LocalStore::Exists(const Digest& digest) const {
  auto info = Info(digest);
  if (info.ok()) return true;
  if (info.status().Is(Errc::kNotFound)) return false;
  return info.status();
}

Result<ReaderAt> LocalStore::Reader(const Digest& digest) const {
  auto r = ReaderAt::Open(BlobPath(digest));
  if (!r.ok() && r.status().Is(Errc::kNotFound)) return NotFound("content {}", digest.String());
  return r;
}

Status LocalStore::Delete(const Digest& digest) {
  const auto path = BlobPath(digest);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return NotFound("content {}", digest.String());
    return ErrnoStatus(fmt::format("delete blob {}", digest.String()), errno);
  }
  return Status::Ok();
}

Status LocalStore::Walk(const std::function<Status(const BlobInfo&)>& fn) const {
  BERTH_ASSIGN_OR_RETURN(auto algorithms, files::ListDir(BlobsRoot()));
  for (const auto& alg : algorithms) {
    if (alg != "sha256" && alg != "sha512") continue;  // as containerd: unknown algorithms are skipped
    auto names = files::ListDir(BlobsRoot() / alg);
    if (!names.ok()) {
      if (names.status().Is(Errc::kNotFound)) continue;
      return names.status();
    }
    for (const auto& name : *names) {
      auto digest = ParseDigest(alg + ":" + name);
      if (!digest.ok()) {
        log::Warn("invalid digest for blob path", {{"path", (BlobsRoot() / alg / name).string()}});
        continue;
      }
      struct stat st {};
      if (::lstat(BlobPath(*digest).c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // removed meanwhile
        return ErrnoStatus(fmt::format("stat blob {}", digest->String()), errno);
      }
      if (!S_ISREG(st.st_mode)) continue;
      BERTH_RETURN_IF_ERROR(fn(InfoFromStat(*digest, st)));
    }
  }
  return Status::Ok();
}

Result<IngestStatus> LocalStore::IngestAt(const std::filesystem::path& dir) const {
  struct stat st {};
  const auto data = dir / "data";
  if (::stat(data.c_str(), &st) != 0) return ErrnoStatus(fmt::format("stat {}", data.string()), errno);
  IngestStatus out;
  BERTH_ASSIGN_OR_RETURN(out.ref, files::ReadSmall(dir / "ref"));
  out.offset = static_cast<int64_t>(st.st_size);
  BERTH_ASSIGN_OR_RETURN(out.started_at, ReadTime(dir / "startedat"));
  BERTH_ASSIGN_OR_RETURN(out.updated_at, ReadTime(dir / "updatedat"));
  if (MTime(st) > out.updated_at) out.updated_at = MTime(st);
  if (auto total = files::ReadSmall(dir / "total"); total.ok()) {
    auto v = ParseInt(*total, dir / "total");
    if (v.ok()) out.total = *v;
  }
  if (auto expected = files::ReadSmall(dir / "expected"); expected.ok()) out.expected = *expected;
  return out;
}

Result<IngestStatus> LocalStore::Ingest(std::string_view ref) const {
  auto st = IngestAt(IngestDir(ref));
  if (!st.ok()) {
    if (st.status().Is(Errc::kNotFound)) return NotFound("ingest ref {:?}", ref);
    return st.status();
  }
  if (st->ref != ref) return NotFound("ingest ref {:?}", ref);
  return st;
}

Result<std::vector<IngestStatus>> LocalStore::ListIngests(const filters::FilterPtr& filter) const {
  BERTH_ASSIGN_OR_RETURN(auto names, files::ListDir(IngestRoot()));
  std::vector<IngestStatus> out;
  for (const auto& name : names) {
    auto st = IngestAt(IngestRoot() / name);
    if (!st.ok()) {
      if (st.status().Is(Errc::kNotFound)) continue;  // half-made or going away
      return st.status();
    }
    if (!content::IngestMatches(filter, *st)) continue;
    out.push_back(std::move(*st));
  }
  return out;
}

Status LocalStore::WalkIngestRefs(const std::function<Status(const std::string& ref)>& fn) const {
  BERTH_ASSIGN_OR_RETURN(auto names, files::ListDir(IngestRoot()));
  for (const auto& name : names) {
    auto ref = files::ReadSmall(IngestRoot() / name / "ref");
    if (!ref.ok()) {
      log::Warn("read ingest ref", {{"path", (IngestRoot() / name).string()}, {"error", ref.status().ToString()}});
      continue;
    }
    BERTH_RETURN_IF_ERROR(fn(*ref));
  }
  return Status::Ok();
}

Result<RefLock> LocalStore::LockRef(std::string_view ref, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  Result<RefLock> lock = locks_.TryLock(ref);
  while (!lock.ok() && lock.status().Is(Errc::kUnavailable) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    lock = locks_.TryLock(ref);
  }
  return lock;
}

Status LocalStore::Abort(std::string_view ref) {
  BERTH_ASSIGN_OR_RETURN(RefLock lock, LockRef(ref));
  return AbortLocked(ref, lock);
}

Status LocalStore::AbortLocked(std::string_view ref, const RefLock& held) {
  (void)held;  // proof that no writer is using the ingest
  const auto dir = IngestDir(ref);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("ingest ref {:?}", ref);
    return ErrnoStatus(fmt::format("stat ingest {:?}", ref), errno);
  }
  return files::RemoveAll(dir);
}

Result<std::unique_ptr<Writer>> LocalStore::OpenWriter(const WriterOptions& options) {
  const std::string& ref = options.ref;
  if (ref.empty()) return InvalidArgument("ref must not be empty");
  if (options.total < 0) return InvalidArgument("ingest {:?}: negative total {}", ref, options.total);
  BERTH_ASSIGN_OR_RETURN(RefLock lock, locks_.TryLock(ref));

  if (options.expected) {
    BERTH_ASSIGN_OR_RETURN(bool exists, Exists(*options.expected));
    if (exists) return AlreadyExists("content {}", options.expected->String());
  }
  const std::string algorithm = options.expected ? options.expected->algorithm : options.algorithm;
  BERTH_ASSIGN_OR_RETURN(Hasher hasher, Hasher::New(algorithm));

  const auto dir = IngestDir(ref);
  const auto data = dir / "data";
  int64_t total = options.total;
  int64_t offset = 0;
  TimePoint started_at, updated_at;
  std::string expected = options.expected ? options.expected->String() : "";
  bool resumed = false;

  if (::mkdir(dir.c_str(), 0755) != 0) {
    if (errno != EEXIST) return ErrnoStatus(fmt::format("create ingest {:?}", ref), errno);
    // An ingest is there: resume it unless it is not the one this writer asks for.
    auto status = IngestAt(dir);
    Status why;
    if (!status.ok()) {
      why = status.status();
    } else if (status->ref != ref) {
      why = FailedPrecondition("ref key does not match: {} != {}", ref, status->ref);
    } else if (total > 0 && status->total > 0 && total != status->total) {
      why = FailedPrecondition("provided total differs from status: {} != {}", total, status->total);
    }
    // The data may be gone while the rest is there: a crash after the commit renamed it into
    // blobs/ and before the ingest directory was removed.
    auto fd = why.ok() ? files::Open(data, O_RDONLY) : Result<UniqueFd>(why);
    if (why.ok() && !fd.ok()) {
      if (!fd.status().Is(Errc::kNotFound)) return fd.status();  // EIO, EMFILE...: keep the data
      why = fd.status();
    }
    if (why.ok()) {
      BERTH_ASSIGN_OR_RETURN(offset, HashFd(fd->get(), hasher, data));
      started_at = status->started_at;
      updated_at = status->updated_at;
      if (status->total > 0) total = status->total;
      if (expected.empty()) expected = status->expected;
      resumed = true;
    } else {
      log::Info("cannot resume ingest, starting it over", {{"ref", ref}, {"reason", why.ToString()}});
    }
  }

  if (!resumed) {
    started_at = updated_at = Clock::now();
    BERTH_RETURN_IF_ERROR(WriteTime(dir / "startedat", started_at));
    BERTH_RETURN_IF_ERROR(WriteTime(dir / "updatedat", updated_at));
    if (total > 0) {
      BERTH_RETURN_IF_ERROR(files::WriteAtomic(dir / "total", std::to_string(total)));
    } else {
      std::error_code ignored;  // a stale one from an ingest started over
      std::filesystem::remove(dir / "total", ignored);
    }
    if (!expected.empty()) {
      BERTH_RETURN_IF_ERROR(files::WriteAtomic(dir / "expected", expected));
    } else {
      std::error_code ignored;
      std::filesystem::remove(dir / "expected", ignored);
    }
    // The ref last: an ingest dir without one is never resumed.
    BERTH_RETURN_IF_ERROR(files::WriteAtomic(dir / "ref", ref));
  }

  int flags = O_RDWR | O_CREAT | (resumed ? 0 : O_TRUNC);  // read too: Verify may re-hash
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, files::Open(data, flags, 0644));
  log::Debug("content writer opened", {{"ref", ref}, {"offset", offset}, {"total", total},
                                       {"resumed", resumed ? "true" : "false"}});
  return std::unique_ptr<Writer>(new Writer(*this, ref, dir, std::move(fd), std::move(lock),
                                            std::move(hasher), offset, total, std::move(expected),
                                            started_at, updated_at));
}

}  // namespace berth::content
