// criu's image directory as a tar and back (WriteImageTar / ExtractImageTar): the round trip
// keeps names, contents and modes, the tar is the same for the same files, anything but files
// and directories is refused, and a hostile tar cannot write outside the directory it is
// extracted into.
#include "checkpoint/image_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "content/reader.h"

namespace berth::checkpoint {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "berth-image-tar-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr) << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& p, const std::string& data, fs::perms perms = fs::perms(0644)) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
  fs::permissions(p, perms);
}

// Every path below `root` (relative): "d" for a directory, "f:<content>" for a file, "l:<target>"
// for a symlink, "o" for anything else.
std::map<std::string, std::string> Listing(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto& e = *it;
    const std::string rel = e.path().lexically_relative(root).string();  // symlinks not followed
    const auto st = e.symlink_status();
    if (fs::is_symlink(st)) {
      out[rel] = "l:" + fs::read_symlink(e.path()).string();
    } else if (fs::is_directory(st)) {
      out[rel] = "d";
    } else if (fs::is_regular_file(st)) {
      out[rel] = "f:" + ReadFile(e.path());
    } else {
      out[rel] = "o";
    }
  }
  return out;
}

unsigned Mode(const fs::path& p) {
  struct stat st{};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// WriteImageTar of `dir` into a string.
Result<std::string> TarOf(const fs::path& dir) {
  std::string out;
  Status st = WriteImageTar(dir, [&out](std::string_view chunk) {
    out.append(chunk);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

// ExtractImageTar of the blob in file `blob` into `dir` (through a content::ReaderAt, as the
// daemon reads it from the content store).
Status ExtractFile(const fs::path& blob, const fs::path& dir) {
  auto reader = content::ReaderAt::Open(blob);
  if (!reader.ok()) return reader.status();
  return ExtractImageTar(*reader, dir);
}

Status ExtractBytes(const std::string& bytes, const fs::path& blob, const fs::path& dir) {
  std::ofstream(blob, std::ios::binary) << bytes;
  return ExtractFile(blob, dir);
}

// A criu-like image directory: files at the top, one empty, one larger than the writer's 1 MiB
// buffer, a subdirectory with a file, an empty subdirectory.
void MakeImageDir(const fs::path& dir) {
  WriteFile(dir / "core-1.img", "core of pid 1\n", fs::perms(0600));
  WriteFile(dir / "inventory.img", "inventory\n");
  WriteFile(dir / "empty.img", "");
  std::string big(3 * (1 << 20) + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
  WriteFile(dir / "pages-1.img", big);
  WriteFile(dir / "sub" / "nested.img", "nested\n");
  fs::create_directories(dir / "sub" / "empty-dir");
  fs::permissions(dir / "sub", fs::perms(0750));
}

TEST(ImageTarTest, RoundTripKeepsFilesDirectoriesAndModes) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src", dst = tmp.path() / "dst";
  MakeImageDir(src);
  fs::create_directories(dst);

  auto tar = TarOf(src);
  ASSERT_TRUE(tar.ok()) << tar.status().ToString();
  ASSERT_FALSE(tar->empty());
  Status st = ExtractBytes(*tar, tmp.path() / "blob.tar", dst);
  ASSERT_TRUE(st.ok()) << st.ToString();

  const auto want = Listing(src);
  ASSERT_EQ(want.size(), 7u);  // 4 files, sub, sub/nested.img, sub/empty-dir
  EXPECT_EQ(Listing(dst), want);
  EXPECT_EQ(ReadFile(dst / "pages-1.img"), ReadFile(src / "pages-1.img")) << "the large file byte for byte";
  EXPECT_EQ(Mode(dst / "core-1.img"), 0600u);
  EXPECT_EQ(Mode(dst / "inventory.img"), 0644u);
  EXPECT_EQ(Mode(dst / "sub"), 0750u);
}

TEST(ImageTarTest, NamesAreRelativeAndSorted) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src";
  MakeImageDir(src);
  auto tar = TarOf(src);
  ASSERT_TRUE(tar.ok()) << tar.status().ToString();

  // Read back with libarchive itself: entry names in order.
  struct archive* a = archive_read_new();
  ASSERT_NE(a, nullptr);
  archive_read_support_format_all(a);
  ASSERT_EQ(archive_read_open_memory(a, tar->data(), tar->size()), ARCHIVE_OK) << archive_error_string(a);
  std::vector<std::string> names;
  struct archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) names.push_back(archive_entry_pathname(e));
  archive_read_free(a);
  const std::vector<std::string> want = {"core-1.img", "empty.img", "inventory.img", "pages-1.img",
                                         "sub/",       "sub/empty-dir/", "sub/nested.img"};
  EXPECT_EQ(names, want);
}

TEST(ImageTarTest, SameFilesGiveTheSameTar) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src";
  MakeImageDir(src);
  auto first = TarOf(src);
  auto second = TarOf(src);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(*first == *second) << "sizes " << first->size() << " and " << second->size();
}

TEST(ImageTarTest, EmptyDirectoryRoundTrips) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src", dst = tmp.path() / "dst";
  fs::create_directories(src);
  fs::create_directories(dst);
  auto tar = TarOf(src);
  ASSERT_TRUE(tar.ok()) << tar.status().ToString();
  Status st = ExtractBytes(*tar, tmp.path() / "blob.tar", dst);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(Listing(dst).empty());
}

TEST(ImageTarTest, CompressedTarIsExtractedToo) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src", dst = tmp.path() / "dst";
  MakeImageDir(src);
  fs::create_directories(dst);
  auto tar = TarOf(src);
  ASSERT_TRUE(tar.ok()) << tar.status().ToString();
  const fs::path plain = tmp.path() / "blob.tar", gz = tmp.path() / "blob.tar.gz";
  std::ofstream(plain, std::ios::binary) << *tar;
  const std::string cmd = "gzip -n -c '" + plain.string() + "' > '" + gz.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  Status st = ExtractFile(gz, dst);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Listing(dst), Listing(src));
}

TEST(ImageTarTest, SymlinkIsRefused) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src";
  WriteFile(src / "core-1.img", "core\n");
  fs::create_symlink("/etc/passwd", src / "link.img");
  auto tar = TarOf(src);
  ASSERT_FALSE(tar.ok()) << "a tar of a directory holding a symlink";
  EXPECT_EQ(tar.status().code(), Errc::kFailedPrecondition) << tar.status().ToString();
  EXPECT_NE(tar.status().message().find("link.img"), std::string::npos) << tar.status().ToString();
}

TEST(ImageTarTest, SymlinkInASubdirectoryIsRefused) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src";
  WriteFile(src / "sub" / "a.img", "a\n");
  fs::create_symlink("a.img", src / "sub" / "b.img");
  auto tar = TarOf(src);
  ASSERT_FALSE(tar.ok());
  EXPECT_EQ(tar.status().code(), Errc::kFailedPrecondition) << tar.status().ToString();
  EXPECT_NE(tar.status().message().find("sub/b.img"), std::string::npos) << tar.status().ToString();
}

TEST(ImageTarTest, FifoIsRefused) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src";
  fs::create_directories(src);
  ASSERT_EQ(::mkfifo((src / "pipe").c_str(), 0600), 0);
  auto tar = TarOf(src);
  ASSERT_FALSE(tar.ok());
  EXPECT_EQ(tar.status().code(), Errc::kFailedPrecondition) << tar.status().ToString();
}

TEST(ImageTarTest, SinkErrorIsReturned) {
  TempDir tmp;
  const fs::path src = tmp.path() / "src";
  MakeImageDir(src);
  Status st = WriteImageTar(src, [](std::string_view) { return Unavailable("disk gone"); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("disk gone"), std::string::npos) << st.ToString();
}

TEST(ImageTarTest, MissingDirectoryIsAnError) {
  TempDir tmp;
  auto tar = TarOf(tmp.path() / "absent");
  EXPECT_FALSE(tar.ok());
}

// A tar written entry by entry with libarchive, names as given (hostile ones included).
struct Entry {
  std::string name;
  std::string data;      // a file's content
  std::string symlink;   // non-empty: a symlink to this
};

bool WriteRawTar(const fs::path& out, const std::vector<Entry>& entries) {
  struct archive* a = archive_write_new();
  if (a == nullptr) return false;
  bool ok = archive_write_set_format_pax_restricted(a) == ARCHIVE_OK &&
            archive_write_open_filename(a, out.c_str()) == ARCHIVE_OK;
  for (const auto& en : entries) {
    if (!ok) break;
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, en.name.c_str());
    archive_entry_set_mtime(e, 1000000, 0);
    if (!en.symlink.empty()) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_perm(e, 0777);
      archive_entry_set_symlink(e, en.symlink.c_str());
      archive_entry_set_size(e, 0);
      ok = archive_write_header(a, e) == ARCHIVE_OK;
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, static_cast<la_int64_t>(en.data.size()));
      ok = archive_write_header(a, e) == ARCHIVE_OK &&
           archive_write_data(a, en.data.data(), en.data.size()) == static_cast<la_ssize_t>(en.data.size());
    }
    archive_entry_free(e);
  }
  ok = archive_write_close(a) == ARCHIVE_OK && ok;
  archive_write_free(a);
  return ok;
}

TEST(ImageTarTest, HostileTarStaysInsideTheDirectory) {
  TempDir tmp;
  const fs::path sandbox = tmp.path() / "sandbox";
  const fs::path target = sandbox / "target";
  fs::create_directories(target);
  WriteFile(sandbox / "sentinel", "original");
  const fs::path blob = tmp.path() / "hostile.tar";
  ASSERT_TRUE(WriteRawTar(blob, {
                                    {"../evil", "pwned", ""},
                                    {"../../evil2", "pwned", ""},
                                    {"../sentinel", "pwned", ""},
                                    {"up", "", ".."},
                                    {"up/evil3", "pwned", ""},
                                }));
  const auto sandbox_before = Listing(sandbox);

  Status st = ExtractFile(blob, target);
  // Nothing outside the target changed, whatever the outcome.
  auto sandbox_after = Listing(sandbox);
  for (auto it = sandbox_after.begin(); it != sandbox_after.end();) {
    it = it->first.starts_with("target") ? sandbox_after.erase(it) : std::next(it);
  }
  auto before_outside = sandbox_before;
  for (auto it = before_outside.begin(); it != before_outside.end();) {
    it = it->first.starts_with("target") ? before_outside.erase(it) : std::next(it);
  }
  EXPECT_EQ(sandbox_after, before_outside) << "the tar wrote outside the directory";
  EXPECT_EQ(ReadFile(sandbox / "sentinel"), "original");
  EXPECT_FALSE(fs::exists(sandbox / "evil"));
  EXPECT_FALSE(fs::exists(tmp.path() / "evil2"));
  EXPECT_FALSE(fs::exists(sandbox / "evil3"));
  // As containerd (diff::ApplyLayer's rules): such names are re-rooted inside, not refused.
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ReadFile(target / "evil"), "pwned");
  EXPECT_EQ(ReadFile(target / "evil2"), "pwned");
  EXPECT_EQ(ReadFile(target / "sentinel"), "pwned");
  EXPECT_EQ(ReadFile(target / "evil3"), "pwned") << "up/ resolved inside the target";
}

TEST(ImageTarTest, GarbageIsAnError) {
  TempDir tmp;
  const fs::path dst = tmp.path() / "dst";
  fs::create_directories(dst);
  Status st = ExtractBytes(std::string(1024, 'x'), tmp.path() / "garbage", dst);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(Listing(dst).empty());
}

}  // namespace
}  // namespace berth::checkpoint
