// berth-shim: the shim socket: naming and listening.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "shim/exit_status.h"
#include "shim/oci_runtime.h"
#include "shim/oom_watcher.h"
#include "shim/runtime_options.h"
#include "shim/socket.h"
#include "support/temp_dir.h"

namespace berth::shim {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

TEST(SocketTest, PathIsSha256OfAddressNamespaceId) {
  // sha256("/run/containerd/containerd.sock/default/t1"), as containerd's shim would name it.
  std::string p = SocketPath("/run/berth/s", "/run/containerd/containerd.sock", "default", "t1");
  EXPECT_EQ(p.rfind("/run/berth/s/", 0), 0u);
  EXPECT_EQ(p.size(), std::string("/run/berth/s/").size() + 64);
  EXPECT_LT(p.size(), 108u);
  EXPECT_EQ(p, SocketPath("/run/berth/s", "/run/containerd/containerd.sock/", "default", "t1"));
  EXPECT_NE(p, SocketPath("/run/berth/s", "/run/containerd/containerd.sock", "default", "t2"));
  EXPECT_EQ(SocketAddress("/a/b"), "unix:///a/b");
  EXPECT_EQ(SocketPathOf("unix:///a/b"), "/a/b");
  EXPECT_EQ(SocketPathOf("/a/b"), "/a/b");
}

TEST(SocketTest, ListenCanConnectAlreadyExists) {
  TempDir d;
  std::string path = (d.path() / "s" / "sock").string();
  auto fd = ListenUnix(path);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  EXPECT_TRUE(CanConnect(path));
  EXPECT_TRUE(ListenUnix(path).status().Is(Errc::kAlreadyExists));
  fd->Reset();
  EXPECT_FALSE(CanConnect(path));
  RemoveSocket(path);
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace berth::shim
