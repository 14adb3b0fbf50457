// files: the small-file and directory helpers every component uses.
#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace berth::files {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("berth-files-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FilesTest, WriteAtomicThenReadSmall) {
  const fs::path p = dir_ / "ref";
  ASSERT_TRUE(WriteAtomic(p, "first").ok());
  ASSERT_TRUE(WriteAtomic(p, "second", Sync::kNo).ok());
  auto text = ReadSmall(p);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "second");
  EXPECT_FALSE(fs::exists(dir_ / "ref.tmp"));
}

TEST_F(FilesTest, WriteFileCreatesTruncatesWithMode) {
  const fs::path p = dir_ / "address";
  ASSERT_TRUE(WriteFile(p, "a much longer first text").ok());
  ASSERT_TRUE(WriteFile(p, "short", 0600).ok());
  EXPECT_EQ(*ReadSmall(p), "short");
  struct stat st{};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);  // the mode applies when the file is created
}

TEST_F(FilesTest, ReadSmallMissingIsNotFoundAndLimitIsInternal) {
  EXPECT_TRUE(ReadSmall(dir_ / "missing").status().Is(Errc::kNotFound));
  ASSERT_TRUE(WriteFile(dir_ / "big", std::string(10000, 'x')).ok());
  EXPECT_TRUE(ReadSmall(dir_ / "big", 4096).status().Is(Errc::kInternal));
  EXPECT_EQ(ReadSmall(dir_ / "big", 10000)->size(), 10000u);
}

TEST_F(FilesTest, ReadFdFromAnOffsetLeavesThePositionAlone) {
  const fs::path p = dir_ / "log";
  ASSERT_TRUE(WriteFile(p, "0123456789").ok());
  auto fd = Open(p, O_RDONLY);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(*ReadFd(fd->get(), p, 4), "456789");
  EXPECT_EQ(*ReadFd(fd->get(), p), "0123456789");  // again, from the start
  EXPECT_EQ(::lseek(fd->get(), 0, SEEK_CUR), 0);
}

TEST_F(FilesTest, ListDirAndListDirFd) {
  ASSERT_TRUE(WriteFile(dir_ / "a", "").ok());
  fs::create_directory(dir_ / "b");
  auto names = ListDir(dir_);
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(ListDir(dir_ / "missing").status().Is(Errc::kNotFound));

  auto dir = Open(dir_, O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(dir.ok());
  for (int round = 0; round < 2; ++round) {  // each call reads from the start
    auto by_fd = ListDirFd(dir->get(), dir_);
    ASSERT_TRUE(by_fd.ok());
    EXPECT_EQ(by_fd->size(), 2u);
  }
  EXPECT_GE(::fcntl(dir->get(), F_GETFD), 0);  // still open: the caller's
}

TEST_F(FilesTest, PreadFullStopsAtEnd) {
  ASSERT_TRUE(WriteFile(dir_ / "f", "abc").ok());
  auto fd = Open(dir_ / "f", O_RDONLY);
  char buf[8];
  auto n = PreadFull(fd->get(), buf, 1, dir_ / "f");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "bc");
}

}  // namespace
}  // namespace berth::files
