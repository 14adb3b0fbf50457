#include "server/listener.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/unique_fd.h"
#include "support/temp_dir.h"

namespace berth::server {
namespace {

namespace fs = std::filesystem;

UniqueFd BindAt(const fs::path& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
  return fd;
}

TEST(ListenerTest, AStagedSocketAppearsWithItsModeAndLeavesNothingBehind) {
  berth::testing::TempDir dir;
  const fs::path final_path = dir.path() / "berth.sock";
  {
    auto staged = StagedSocket::Make(final_path);
    ASSERT_TRUE(staged.ok()) << staged.status().ToString();
    struct stat st {};
    ASSERT_EQ(::stat(staged->path().parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << "the staging directory lets others reach the socket";
    UniqueFd bound = BindAt(staged->path());
    ASSERT_TRUE(bound.valid());
    EXPECT_FALSE(fs::exists(final_path));
    ASSERT_TRUE(staged->Publish(0, 0).ok());
    ASSERT_EQ(::stat(final_path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);
  }
  // Only the published socket is left in the directory.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(ListenerTest, AnUnpublishedStagingDirectoryIsRemoved) {
  berth::testing::TempDir dir;
  fs::path staging;
  {
    auto staged = StagedSocket::Make(dir.path() / "berth.sock");
    ASSERT_TRUE(staged.ok());
    staging = staged->path().parent_path();
    ASSERT_TRUE(BindAt(staged->path()).valid());
  }
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_FALSE(fs::exists(dir.path() / "berth.sock"));
}

TEST(ListenerTest, APathTooLongToStageIsRefusedUpFront) {
  berth::testing::TempDir dir;
  // The final path fits sun_path (108 bytes); the staged one (the .<name>.<pid>/s dir) does not.
  fs::path long_dir = dir.path() / std::string(73, 'd');
  fs::create_directories(long_dir);
  auto staged = StagedSocket::Make(long_dir / "berth.sock");
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace berth::server
