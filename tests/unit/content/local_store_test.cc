// content::LocalStore: the on-disk CAS (commit, verification, resume, locking, abort, walk).
#include "content/local_store.h"

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

namespace berth::content {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Digest DigestOf(std::string_view algorithm, std::string_view data) {
  auto h = Hasher::New(algorithm);
  h->Update(data.data(), data.size());
  return h->Finish();
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("berth-content-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    auto store = LocalStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(root_);
  }

  std::unique_ptr<Writer> Open(const std::string& ref, int64_t total = 0,
                               std::optional<Digest> expected = std::nullopt) {
    auto w = store_->OpenWriter(WriterOptions{.ref = ref, .total = total, .expected = expected});
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(*w) : nullptr;
  }
  // Commits `data` under `ref`; returns its digest.
  Digest Put(const std::string& ref, std::string_view data) {
    auto w = Open(ref);
    EXPECT_TRUE(w->Write(data).ok());
    Digest d = Sha256Of(data);
    Status st = w->Commit(static_cast<int64_t>(data.size()), d);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return d;
  }
  std::string ReadAll(const Digest& d) {
    auto r = store_->Reader(d);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::string out(static_cast<size_t>(r->size()), '\0');
    auto n = r->ReadAt(std::span<char>(out.data(), out.size()), 0);
    EXPECT_TRUE(n.ok());
    out.resize(n.ok() ? *n : 0);
    return out;
  }
  size_t BlobFiles() {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "blobs")) n += e.is_regular_file();
    return n;
  }

  fs::path root_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, CommitMovesIntoBlobsAndReads) {
  auto w = Open("ref-1", 11);
  ASSERT_TRUE(w->Write("hello ").ok());
  ASSERT_TRUE(w->Write("world").ok());
  EXPECT_EQ(w->offset(), 11);
  EXPECT_EQ(w->CurrentDigest(), Sha256Of("hello world"));
  auto progress = store_->Ingest("ref-1");
  ASSERT_TRUE(progress.ok()) << progress.status().ToString();
  EXPECT_EQ(progress->ref, "ref-1");
  EXPECT_EQ(progress->total, 11);
  const Digest d = Sha256Of("hello world");
  ASSERT_TRUE(w->Commit(11, d).ok());

  const fs::path blob = root_ / "blobs" / "sha256" / d.hex;
  EXPECT_EQ(store_->BlobPath(d), blob);
  ASSERT_TRUE(fs::is_regular_file(blob));
  struct stat st {};
  ASSERT_EQ(::stat(blob.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u) << "committed blobs are read-only";
  EXPECT_TRUE(store_->Ingest("ref-1").status().Is(Errc::kNotFound));
  EXPECT_TRUE(fs::is_empty(root_ / "ingest"));

  auto info = store_->Info(d);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 11);
  EXPECT_EQ(ReadAll(d), "hello world");
  auto r = store_->Reader(d);
  ASSERT_TRUE(r.ok());
  char buf[5];
  auto n = r->ReadAt(buf, 6);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string_view(buf, *n), "world");
  n = r->ReadAt(buf, 9);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  n = r->ReadAt(buf, 11);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST_F(LocalStoreTest, SizeMismatchIsFailedPreconditionAndKeepsIngest) {
  auto w = Open("r");
  ASSERT_TRUE(w->Write("abcde").ok());
  Status st = w->Commit(6, std::nullopt);
  EXPECT_TRUE(st.Is(Errc::kFailedPrecondition)) << st.ToString();
  EXPECT_EQ(st.ToString(), "unexpected commit size 5, expected 6: failed precondition");
  EXPECT_TRUE(w->closed());
  EXPECT_FALSE(store_->IsLocked("r")) << "a failed commit releases the ref";
  EXPECT_TRUE(store_->Ingest("r").ok()) << "the ingest stays for resume or abort";
  EXPECT_EQ(BlobFiles(), 0u);
}

TEST_F(LocalStoreTest, DigestMismatchIsFailedPrecondition) {
  auto w = Open("r");
  ASSERT_TRUE(w->Write("abcde").ok());
  const Digest wrong = Sha256Of("other");
  Status st = w->Commit(5, wrong);
  EXPECT_TRUE(st.Is(Errc::kFailedPrecondition));
  EXPECT_EQ(st.message(), "unexpected commit digest " + Sha256Of("abcde").String() + ", expected " + wrong.String());
  EXPECT_EQ(BlobFiles(), 0u);
  EXPECT_TRUE(store_->Info(wrong).status().Is(Errc::kNotFound));
}

TEST_F(LocalStoreTest, ResumeRehashesExistingData) {
  {
    auto w = Open("resume-me", 10);
    ASSERT_TRUE(w->Write("01234").ok());
    ASSERT_TRUE(w->Close().ok());
  }
  auto w = Open("resume-me", 10);
  EXPECT_EQ(w->offset(), 5);
  EXPECT_EQ(w->total(), 10);
  EXPECT_EQ(w->CurrentDigest(), Sha256Of("01234"));
  ASSERT_TRUE(w->Write("56789").ok());
  ASSERT_TRUE(w->Commit(10, Sha256Of("0123456789")).ok());
  EXPECT_EQ(ReadAll(Sha256Of("0123456789")), "0123456789");
}

TEST_F(LocalStoreTest, ResumeWithOtherTotalStartsOver) {
  {
    auto w = Open("r", 10);
    ASSERT_TRUE(w->Write("01234").ok());
  }
  auto w = Open("r", 7);
  EXPECT_EQ(w->offset(), 0);
  EXPECT_EQ(w->total(), 7);
  auto st = store_->Ingest("r");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->offset, 0);
}

// A crash between the commit's rename into blobs/ and the removal of the ingest directory
// leaves the directory without its data: the next writer on the ref starts over.
TEST_F(LocalStoreTest, AnIngestWhoseDataIsGoneStartsOver) {
  {
    auto w = Open("crashed", 10);
    ASSERT_TRUE(w->Write("01234").ok());
    ASSERT_TRUE(w->Close().ok());
  }
  bool found = false;
  for (const auto& e : fs::recursive_directory_iterator(root_)) {
    if (e.path().filename() == "data") found = fs::remove(e.path());
  }
  ASSERT_TRUE(found);
  auto w = Open("crashed", 10);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->offset(), 0);
  ASSERT_TRUE(w->Write("0123456789").ok());
  ASSERT_TRUE(w->Commit(10, Sha256Of("0123456789")).ok());
  EXPECT_EQ(ReadAll(Sha256Of("0123456789")), "0123456789");
}

TEST_F(LocalStoreTest, TruncateToZeroRestarts) {
  auto w = Open("r");
  ASSERT_TRUE(w->Write("garbage").ok());
  ASSERT_TRUE(w->Truncate(0).ok());
  EXPECT_EQ(w->offset(), 0);
  EXPECT_TRUE(w->Truncate(3).Is(Errc::kInvalidArgument));
  ASSERT_TRUE(w->Write("good").ok());
  ASSERT_TRUE(w->Commit(4, Sha256Of("good")).ok());
}

TEST_F(LocalStoreTest, SecondWriterOnRefIsUnavailable) {
  auto first = Open("busy");
  auto second = store_->OpenWriter(WriterOptions{.ref = "busy"});
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().Is(Errc::kUnavailable));
  EXPECT_THAT(second.status().message(), StartsWith("ref busy locked for "));
  // Other refs are independent.
  EXPECT_TRUE(store_->OpenWriter(WriterOptions{.ref = "other"}).ok());
  first.reset();
  EXPECT_TRUE(store_->OpenWriter(WriterOptions{.ref = "busy"}).ok()) << "released with the writer";
}

TEST_F(LocalStoreTest, EmptyRefIsInvalid) {
  auto w = store_->OpenWriter(WriterOptions{});
  EXPECT_TRUE(w.status().Is(Errc::kInvalidArgument));
  EXPECT_EQ(w.status().message(), "ref must not be empty");
}

TEST_F(LocalStoreTest, CommitOfExistingBlobIsAlreadyExistsAndRemovesIngest) {
  Digest d = Put("a", "same bytes");
  auto w = Open("b");
  ASSERT_TRUE(w->Write("same bytes").ok());
  Status st = w->Commit(0, d);
  EXPECT_TRUE(st.Is(Errc::kAlreadyExists)) << st.ToString();
  EXPECT_EQ(st.ToString(), "content " + d.String() + ": already exists");
  EXPECT_TRUE(store_->Ingest("b").status().Is(Errc::kNotFound));
  EXPECT_EQ(BlobFiles(), 1u);
  // Announcing an existing digest up front is refused before any data moves.
  auto again = store_->OpenWriter(WriterOptions{.ref = "c", .expected = d});
  EXPECT_TRUE(again.status().Is(Errc::kAlreadyExists));
}

TEST_F(LocalStoreTest, AbortRemovesIngest) {
  EXPECT_TRUE(store_->Abort("missing").Is(Errc::kNotFound));
  {
    auto w = Open("gone");
    ASSERT_TRUE(w->Write("x").ok());
  }
  ASSERT_TRUE(store_->Ingest("gone").ok());
  ASSERT_TRUE(store_->Abort("gone").ok());
  EXPECT_TRUE(store_->Ingest("gone").status().Is(Errc::kNotFound));
  EXPECT_TRUE(fs::is_empty(root_ / "ingest"));
}

// A writer that is still closing (its client half-closed the stream and moved on) holds the ref
// for a moment: Abort waits for it instead of deleting under it (this raced in containerd's Go
// client tests: "directory not empty"); a writer that stays open keeps its ingest (Unavailable).
TEST_F(LocalStoreTest, AbortWaitsForAClosingWriterAndSparesAnOpenOne) {
  auto w = Open("closing");
  ASSERT_TRUE(w->Write("data").ok());
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    w.reset();
  });
  Status aborted = store_->Abort("closing");
  closer.join();
  EXPECT_TRUE(aborted.ok()) << aborted.ToString();
  EXPECT_TRUE(store_->Ingest("closing").status().Is(Errc::kNotFound));

  auto open = Open("open");
  ASSERT_TRUE(open->Write("data").ok());
  Status busy = store_->Abort("open");
  EXPECT_TRUE(busy.Is(Errc::kUnavailable)) << busy.ToString();
  EXPECT_TRUE(store_->Ingest("open").ok()) << "the open writer's ingest is kept";
}

TEST_F(LocalStoreTest, DeleteAndWalk) {
  Digest a = Put("a", "alpha");
  Digest b = Put("b", "beta");
  // sha512 blobs too.
  const Digest c = DigestOf("sha512", "gamma");
  {
    auto w = store_->OpenWriter(WriterOptions{.ref = "c", .algorithm = "sha512"});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("gamma").ok());
    EXPECT_EQ((*w)->CurrentDigest(), c);
    ASSERT_TRUE((*w)->Commit(5, c).ok());
  }
  // Junk that is not a blob is skipped.
  fs::create_directories(root_ / "blobs" / "md5");
  { std::ofstream(root_ / "blobs" / "md5" / "abc") << "x"; }
  { std::ofstream(root_ / "blobs" / "sha256" / "not-hex") << "x"; }

  std::set<std::string> seen;
  ASSERT_TRUE(store_->Walk([&](const BlobInfo& info) {
    seen.insert(info.digest.String());
    return Status::Ok();
  }).ok());
  EXPECT_EQ(seen, (std::set<std::string>{a.String(), b.String(), c.String()}));

  ASSERT_TRUE(store_->Delete(a).ok());
  EXPECT_TRUE(store_->Delete(a).Is(Errc::kNotFound));
  EXPECT_TRUE(store_->Info(a).status().Is(Errc::kNotFound));
  EXPECT_TRUE(store_->Reader(a).status().Is(Errc::kNotFound));
  auto exists = store_->Exists(b);
  ASSERT_TRUE(exists.ok());
  EXPECT_TRUE(*exists);

  // Walk stops at the first error.
  int calls = 0;
  Status st = store_->Walk([&](const BlobInfo&) {
    ++calls;
    return Internal("stop");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(st.message(), "stop");
}

TEST_F(LocalStoreTest, CommitWithDigestOfOtherAlgorithmRehashes) {
  auto w = Open("r");
  ASSERT_TRUE(w->Write("data").ok());
  const Digest d512 = DigestOf("sha512", "data");
  ASSERT_TRUE(w->Commit(4, d512).ok());
  EXPECT_TRUE(fs::exists(root_ / "blobs" / "sha512" / d512.hex));
}

TEST_F(LocalStoreTest, ListIngestsFiltersByRef) {
  auto a = Open("layer-a");
  auto b = Open("layer-b");
  auto c = Open("config");
  auto all = store_->ListIngests();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto filter = filters::Parse("ref~=layer");
  ASSERT_TRUE(filter.ok());
  auto some = store_->ListIngests(*filter);
  ASSERT_TRUE(some.ok());
  std::set<std::string> refs;
  for (const auto& s : *some) refs.insert(s.ref);
  EXPECT_EQ(refs, (std::set<std::string>{"layer-a", "layer-b"}));

  std::set<std::string> walked;
  ASSERT_TRUE(store_->WalkIngestRefs([&](const std::string& ref) {
    walked.insert(ref);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(walked, (std::set<std::string>{"layer-a", "layer-b", "config"}));
}

TEST_F(LocalStoreTest, RefsNeverBecomePaths) {
  auto w = Open("../../escape/attempt");
  const fs::path dir = store_->IngestDir("../../escape/attempt");
  EXPECT_EQ(dir.parent_path(), root_ / "ingest");
  EXPECT_EQ(dir.filename().string().size(), 64u);
  EXPECT_TRUE(fs::exists(dir / "data"));
  EXPECT_FALSE(fs::exists(root_.parent_path() / "escape"));
}

}  // namespace
}  // namespace berth::content
