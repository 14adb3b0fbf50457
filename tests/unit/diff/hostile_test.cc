// ApplyLayer against hostile archives: whatever an entry names, nothing is created, changed or
// removed outside the target, and a refused entry is a clean error (no crash, no hang).
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "diff_test_util.h"

namespace berth::diff {
namespace {

using namespace testutil;

struct Case {
  const char* name;
  const char* body;  // python, see MakeTar
};

// `OUT` is replaced by the absolute path of a directory outside the target.
const Case kCases[] = {
    {"dotdot", "add('../../outside/x', data=b'pwned')\nadd('../y', data=b'pwned')\n"},
    {"absolute", "add('/abs-berth-test', data=b'pwned')\nadd('OUT/z', data=b'pwned')\n"},
    {"symlink_then_file", "add('evil', 'l', link='OUT')\nadd('evil/pwned', data=b'pwned')\n"},
    {"relative_symlink_then_file", "add('evil', 'l', link='../outside')\nadd('evil/pwned', data=b'pwned')\n"},
    {"symlink_dotdot_chain",
     "add('a', 'l', link='b')\nadd('b', 'l', link='../../../../..')\nadd('a/outside/pwned', data=b'pwned')\n"},
    {"symlink_then_dir", "add('evil', 'l', link='OUT')\nadd('evil/', 'd', mode=0o777)\nadd('evil/sub/', 'd')\n"},
    {"hardlink_outside", "add('hl', 'h', link='../outside/sentinel')\n"},
    {"hardlink_absolute", "add('hl', 'h', link='OUT/sentinel')\n"},
    {"hardlink_etc_passwd", "add('hl', 'h', link='/etc/passwd')\nadd('hl2', 'h', link='../../../../etc/passwd')\n"},
    {"hardlink_through_symlink", "add('s', 'l', link='OUT')\nadd('hl', 'h', link='s/sentinel')\n"},
    {"hardlink_to_root", "add('hl', 'h', link='..')\n"},
    {"write_through_existing_symlink", "add('s', 'l', link='OUT/sentinel')\nadd('s', data=b'pwned')\n"},
    {"whiteout_dotdot", "add('.wh...')\n"},
    {"whiteout_dot", "add('sub/.wh..')\n"},
    {"whiteout_empty", "add('.wh.')\n"},
    {"whiteout_escape", "add('../.wh.outside')\nadd('../../.wh.outside')\n"},
    {"whiteout_through_symlink", "add('s', 'l', link='OUT')\nadd('s/.wh.sentinel')\nadd('s/.wh..wh..opq')\n"},
    {"opaque_at_root", "add('.wh..wh..opq')\nadd('keep', data=b'k')\n"},
    {"long_component", "add('a' * 300, data=b'x')\n"},
    {"long_path", "add('/'.join(['d'] * 3000) + '/f', data=b'x')\n"},
    {"deep_symlink_loop", "add('l1', 'l', link='l2')\nadd('l2', 'l', link='l1')\nadd('l1/x', data=b'x')\n"},
    {"fifo_then_file", "add('f', 'p')\nadd('f', data=b'not blocked')\n"},
    {"device_then_file", "add('dev/', 'd')\nadd('dev/zero', 'c', major=1, minor=5)\nadd('dev/zero', data=b'x')\n"},
    {"dir_symlink_swap",
     "add('d/', 'd')\nadd('d/f', data=b'1')\nadd('d', 'l', link='OUT')\nadd('d/g', data=b'pwned')\n"},
    {"root_entries", "add('.', 'd', mode=0o777)\nadd('./', 'd')\nadd('/', 'd')\nadd('..', 'd')\n"},
};

class HostileTest : public ::testing::TestWithParam<Case> {};

TEST_P(HostileTest, NothingEscapesTheTarget) {
  TempTree tmp;
  fs::path sandbox = tmp / "sandbox";
  fs::path target = sandbox / "target";
  fs::path outside = sandbox / "outside";
  fs::create_directories(target);
  WriteFile(outside / "sentinel", "original");
  fs::create_directories(target / "sub");

  std::string body = GetParam().body;
  for (size_t pos; (pos = body.find("OUT")) != std::string::npos;) body.replace(pos, 3, outside.string());
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, body));

  auto outside_before = Listing(outside);
  auto sandbox_entries = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(sandbox)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  };
  auto before = sandbox_entries();
  struct stat passwd_before {};
  ASSERT_EQ(::stat("/etc/passwd", &passwd_before), 0);

  for (const char* how : {"none", "gzip"}) {
    auto applied = ApplyFile(Compress(tar, how), target);
    if (!applied.ok()) {
      EXPECT_FALSE(applied.status().message().empty());
    }
    EXPECT_EQ(Listing(outside), outside_before) << how;
    EXPECT_EQ(sandbox_entries(), before) << how;
    EXPECT_FALSE(fs::exists(tmp / "outside")) << how;
    EXPECT_FALSE(fs::exists("/abs-berth-test")) << how;
    struct stat passwd {};
    ASSERT_EQ(::stat("/etc/passwd", &passwd), 0);
    EXPECT_EQ(passwd.st_nlink, passwd_before.st_nlink) << how;
    EXPECT_EQ(passwd.st_mtim.tv_sec, passwd_before.st_mtim.tv_sec) << how;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& param_info) { return std::string(param_info.param.name); });

TEST(HostileApply, EscapingNamesLandInsideTheRoot) {
  // containerd's semantics: `..`, absolute names and symlinks are re-rooted, not refused.
  TempTree tmp;
  fs::path target = tmp / "target";
  fs::create_directories(target);
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, "add('../../etc/x', data=b'1')\nadd('/abs', data=b'2')\n"
                           "add('up', 'l', link='..')\nadd('up/y', data=b'3')\n"));
  auto applied = ApplyFile(tar, target);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(ReadFile(target / "etc/x"), "1");
  EXPECT_EQ(ReadFile(target / "abs"), "2");
  EXPECT_EQ(ReadFile(target / "y"), "3");
}

// containerd decompresses a layer once; libarchive would undo gzip(gzip(...)) 25 deep, each
// level multiplying what a small blob expands to. Found by fuzz/layer_apply.
TEST(HostileApply, ALayerCompressedTwiceIsRefused) {
  TempTree tmp;
  fs::create_directories(tmp / "target");
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, "add('a', data=b'1')\n"));
  fs::path once = Compress(tar, "gzip");
  fs::path twice = tmp / "layer.tar.gz.gz";
  ASSERT_EQ(Shell("gzip -c '" + once.string() + "' > '" + twice.string() + "'"), 0);
  auto applied = ApplyFile(twice, tmp / "target");
  ASSERT_FALSE(applied.ok());
  EXPECT_TRUE(applied.status().Is(Errc::kInvalidArgument)) << applied.status().ToString();
  EXPECT_NE(applied.status().message().find("compressed more than once"), std::string::npos)
      << applied.status().ToString();
  EXPECT_FALSE(fs::exists(tmp / "target" / "a"));
  EXPECT_TRUE(ApplyFile(once, tmp / "target").ok()) << "compressed once is a layer";
}

TEST(HostileApply, BadWhiteoutNamesAreInvalidArchives) {
  TempTree tmp;
  fs::create_directories(tmp / "target");
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, "add('.wh...')\n"));
  auto applied = ApplyFile(tar, tmp / "target");
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.status().message().find("invalid whiteout name: .wh...: invalid archive"), std::string::npos)
      << applied.status().ToString();
}

}  // namespace
}  // namespace berth::diff
