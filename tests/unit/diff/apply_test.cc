// ApplyLayer: compressions, metadata restored, whiteouts (plain and overlay), replacement
// rules, and the diff_id (sha256 of the uncompressed stream, trailing data included).
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <gtest/gtest.h>

#include "diff/media_type.h"
#include "diff_test_util.h"

namespace berth::diff {
namespace {

using namespace testutil;

constexpr const char* kRichLayer = R"PY(
cap = '\x00\x00\x00\x02\x00\x04\x00\x00' + '\x00' * 12
add('etc/', 'd', mode=0o750, uid=3, gid=4, mtime=111111)
add('etc/greeting', data=b'hello from berth\n', mode=0o640, uid=1000, gid=1001, mtime=222222)
add('etc/hard', 'h', link='etc/greeting', mode=0o640, uid=1000, gid=1001, mtime=222222)
add('bin/', 'd', mode=0o755)
add('bin/tool', data=b'#!/bin/sh\n', mode=0o4755, uid=0, gid=0, pax={'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.note': 'hi'})
add('bin/sgid', data=b'x', mode=0o2711, uid=5, gid=6)
add('tmp/', 'd', mode=0o1777)
add('link', 'l', link='etc/greeting', uid=7, gid=8)
add('dev/', 'd', mode=0o755)
add('dev/null', 'c', mode=0o666, major=1, minor=3)
add('dev/loopx', 'b', mode=0o660, major=7, minor=200)
add('fifo', 'p', mode=0o600)
add('ignored-trusted', data=b'', pax={'SCHILY.xattr.trusted.overlay.opaque': 'y'})
)PY";

class ApplyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ApplyTest, RestoresEverythingAndReportsDiffId) {
  TempTree tmp;
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, kRichLayer));
  fs::path blob = Compress(tar, GetParam());
  fs::create_directory(tmp / "root");
  auto applied = ApplyFile(blob, tmp / "root");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->diff_id, Sha256File(tar));
  EXPECT_EQ(applied->size, static_cast<int64_t>(fs::file_size(tar)));

  fs::path r = tmp / "root";
  EXPECT_EQ(ReadFile(r / "etc/greeting"), "hello from berth\n");
  auto g = Lstat(r / "etc/greeting");
  EXPECT_EQ(g.st_uid, 1000u);
  EXPECT_EQ(g.st_gid, 1001u);
  EXPECT_EQ(g.st_mode & 07777, 0640u);
  EXPECT_EQ(g.st_mtim.tv_sec, 222222);
  EXPECT_EQ(Lstat(r / "etc/hard").st_ino, g.st_ino);
  auto etc = Lstat(r / "etc");
  EXPECT_EQ(etc.st_mode & 07777, 0750u);
  EXPECT_EQ(etc.st_uid, 3u);
  EXPECT_EQ(etc.st_mtim.tv_sec, 111111);  // set after its contents
  EXPECT_EQ(Lstat(r / "bin/tool").st_mode & 07777, 04755u);
  EXPECT_EQ(Lstat(r / "bin/sgid").st_mode & 07777, 02711u);
  EXPECT_EQ(Lstat(r / "tmp").st_mode & 07777, 01777u);
  char cap[64];
  ssize_t n = ::lgetxattr((r / "bin/tool").c_str(), "security.capability", cap, sizeof(cap));
  EXPECT_EQ(n, 20);
  char note[8];
  n = ::lgetxattr((r / "bin/tool").c_str(), "user.note", note, sizeof(note));
  ASSERT_EQ(n, 2);
  EXPECT_EQ(std::string(note, 2), "hi");
  EXPECT_LT(::lgetxattr((r / "ignored-trusted").c_str(), "trusted.overlay.opaque", note, sizeof(note)), 0);
  auto link = Lstat(r / "link");
  EXPECT_TRUE(S_ISLNK(link.st_mode));
  EXPECT_EQ(link.st_uid, 7u);
  EXPECT_EQ(fs::read_symlink(r / "link"), "etc/greeting");
  auto null = Lstat(r / "dev/null");
  EXPECT_TRUE(S_ISCHR(null.st_mode));
  EXPECT_EQ(major(null.st_rdev), 1u);
  EXPECT_EQ(minor(null.st_rdev), 3u);
  auto loop = Lstat(r / "dev/loopx");
  EXPECT_TRUE(S_ISBLK(loop.st_mode));
  EXPECT_EQ(minor(loop.st_rdev), 200u);
  EXPECT_TRUE(S_ISFIFO(Lstat(r / "fifo").st_mode));
}

INSTANTIATE_TEST_SUITE_P(Compressions, ApplyTest, ::testing::Values("none", "gzip", "zstd"));

TEST(ApplyLayer, DiffIdCoversTrailingDataAndEmptyLayers) {
  TempTree tmp;
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, "add('a', data=b'a')\ntrailing(b'\\0' * 4096 + b'junk')\n"));
  fs::create_directory(tmp / "root");
  auto applied = ApplyFile(Compress(tar, "gzip"), tmp / "root");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->diff_id, Sha256File(tar));
  EXPECT_EQ(applied->size, static_cast<int64_t>(fs::file_size(tar)));

  WriteFile(tmp / "empty", "");
  applied = ApplyFile(tmp / "empty", tmp / "root");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->size, 0);
  EXPECT_EQ(applied->diff_id, Sha256Of(""));
}

TEST(ApplyLayer, GarbageAndTruncatedBlobsFailCleanly) {
  TempTree tmp;
  fs::create_directory(tmp / "root");
  WriteFile(tmp / "garbage", std::string(3000, 'x'));
  EXPECT_FALSE(ApplyFile(tmp / "garbage", tmp / "root").ok());
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, "add('a', data=b'a' * 100000)\n"));
  fs::path gz = Compress(tar, "gzip");
  std::string data = ReadFile(gz);
  WriteFile(tmp / "truncated.gz", data.substr(0, data.size() / 2));
  auto applied = ApplyFile(tmp / "truncated.gz", tmp / "root");
  EXPECT_FALSE(applied.ok());
}

void PopulateLower(const fs::path& r) {
  WriteFile(r / "whiteout/deleted.txt", "d");
  WriteFile(r / "whiteout/kept.txt", "k");
  WriteFile(r / "whiteout/gone-dir/x", "x");
  WriteFile(r / "whiteout/opaque/old.txt", "o");
  WriteFile(r / "whiteout/opaque/sub/old2.txt", "o2");
}

constexpr const char* kWhiteoutLayer = R"PY(
add('whiteout/', 'd', mode=0o755)
add('whiteout/.wh.deleted.txt')
add('whiteout/.wh.gone-dir')
add('whiteout/opaque/', 'd', mode=0o755)
add('whiteout/opaque/.wh..wh..opq')
add('whiteout/opaque/new.txt', data=b'new')
)PY";

TEST(ApplyLayer, PlainWhiteoutsDelete) {
  TempTree tmp;
  PopulateLower(tmp / "root");
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, kWhiteoutLayer));
  auto applied = ApplyFile(tar, tmp / "root");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  std::map<std::string, std::string> want{{"whiteout", "d"},
                                          {"whiteout/kept.txt", "f:k"},
                                          {"whiteout/opaque", "d"},
                                          {"whiteout/opaque/new.txt", "f:new"}};
  EXPECT_EQ(Listing(tmp / "root"), want);
}

TEST(ApplyLayer, OverlayWhiteoutsAreDevicesAndOpaqueXattrs) {
  TempTree tmp;
  fs::create_directories(tmp / "upper");
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, kWhiteoutLayer));
  ApplyOptions opts;
  opts.overlay_whiteouts = true;
  auto applied = ApplyFile(tar, tmp / "upper", opts);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  auto wh = Lstat(tmp / "upper/whiteout/deleted.txt");
  EXPECT_TRUE(S_ISCHR(wh.st_mode));
  EXPECT_EQ(wh.st_rdev, ::makedev(0, 0));
  EXPECT_TRUE(S_ISCHR(Lstat(tmp / "upper/whiteout/gone-dir").st_mode));
  char v[4];
  ssize_t n = ::lgetxattr((tmp / "upper/whiteout/opaque").c_str(), "trusted.overlay.opaque", v, sizeof(v));
  ASSERT_EQ(n, 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_FALSE(fs::exists(tmp / "upper/whiteout/opaque/.wh..wh..opq"));
  EXPECT_EQ(ReadFile(tmp / "upper/whiteout/opaque/new.txt"), "new");
}

TEST(ApplyLayer, OverlayParentsTakeTheLowerDirectorysAttributes) {
  TempTree tmp;
  fs::create_directories(tmp / "lower/etc");
  ASSERT_EQ(::chmod((tmp / "lower/etc").c_str(), 0710), 0);
  ASSERT_EQ(::chown((tmp / "lower/etc").c_str(), 12, 34), 0);
  fs::create_directories(tmp / "upper");
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, "add('etc/new', data=b'n')\nadd('var/lib/x', data=b'x')\n"));
  ApplyOptions opts;
  opts.overlay_whiteouts = true;
  opts.parents = {tmp / "lower"};
  auto applied = ApplyFile(tar, tmp / "upper", opts);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  auto etc = Lstat(tmp / "upper/etc");
  EXPECT_EQ(etc.st_mode & 07777, 0710u);
  EXPECT_EQ(etc.st_uid, 12u);
  EXPECT_EQ(etc.st_gid, 34u);
  EXPECT_EQ(Lstat(tmp / "upper/var/lib").st_mode & 07777, 0755u);  // no lower: default
}

TEST(ApplyLayer, ReplacesExistingEntriesLikeContainerd) {
  TempTree tmp;
  fs::path r = tmp / "root";
  WriteFile(r / "dir-to-file/child", "c");
  WriteFile(r / "file-to-dir", "f");
  WriteFile(r / "merged/old", "old");
  fs::create_directory_symlink("merged", r / "link-to-file");
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, R"PY(
add('dir-to-file', data=b'now a file')
add('file-to-dir/', 'd', mode=0o700)
add('file-to-dir/inner', data=b'i')
add('merged/', 'd', mode=0o711)
add('merged/new', data=b'new')
add('link-to-file', data=b'plain')
)PY"));
  auto applied = ApplyFile(tar, r);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(ReadFile(r / "dir-to-file"), "now a file");
  EXPECT_EQ(ReadFile(r / "file-to-dir/inner"), "i");
  EXPECT_EQ(ReadFile(r / "merged/old"), "old");
  EXPECT_EQ(ReadFile(r / "merged/new"), "new");
  EXPECT_EQ(Lstat(r / "merged").st_mode & 07777, 0711u);
  EXPECT_TRUE(S_ISREG(Lstat(r / "link-to-file").st_mode));
  EXPECT_FALSE(fs::exists(r / "merged/link-to-file"));
}

TEST(ApplyLayer, SymlinkedParentsResolveInsideTheRoot) {
  // usrmerge images: /lib -> usr/lib, files then added under lib/.
  TempTree tmp;
  fs::path r = tmp / "root";
  fs::create_directories(r / "usr/lib");
  fs::create_directory_symlink("usr/lib", r / "lib");
  fs::create_directory_symlink("/usr/lib", r / "abslib");
  fs::path tar = tmp / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, "add('lib/a.so', data=b'a')\nadd('abslib/b.so', data=b'b')\n"));
  auto applied = ApplyFile(tar, r);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(ReadFile(r / "usr/lib/a.so"), "a");
  EXPECT_EQ(ReadFile(r / "usr/lib/b.so"), "b");
  EXPECT_TRUE(fs::is_symlink(r / "lib"));
}

TEST(ApplyLayerCompression, MediaTypes) {
  EXPECT_EQ(*LayerCompression("application/vnd.oci.image.layer.v1.tar"), Compression::kNone);
  EXPECT_EQ(*LayerCompression("application/vnd.oci.image.layer.v1.tar+gzip"), Compression::kGzip);
  EXPECT_EQ(*LayerCompression("application/vnd.oci.image.layer.v1.tar+zstd"), Compression::kZstd);
  EXPECT_EQ(*LayerCompression("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"), Compression::kGzip);
  EXPECT_EQ(*LayerCompression("application/vnd.docker.image.rootfs.diff.tar.gzip"), Compression::kGzip);
  EXPECT_EQ(*LayerCompression("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"), Compression::kGzip);
  EXPECT_EQ(*LayerCompression("application/vnd.docker.image.rootfs.diff.tar"), Compression::kUnknown);
  auto bad = LayerCompression("application/vnd.oci.image.config.v1+json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "failed to get stream processor for application/vnd.oci.image.config.v1+json: no processor for media-type");
  EXPECT_FALSE(LayerCompression("application/vnd.oci.image.layer.v1.tar+gzip+encrypted").ok());
}

}  // namespace
}  // namespace berth::diff
