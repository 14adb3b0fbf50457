// WriteDiff / Differ: the changeset between two trees, round-tripped through ApplyLayer, and
// the Differ's content-store side (labels, namespaces, media types, mounts).
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "content/local_store.h"
#include "diff/compare.h"
#include "diff/differ.h"
#include "diff_test_util.h"
#include "metadata/content_store.h"
#include "support/store_test_fixture.h"

namespace berth::diff {
namespace {

using namespace testutil;

void MakeLower(const fs::path& r) {
  WriteFile(r / "etc/greeting", "hello\n");
  WriteFile(r / "etc/unchanged", "same\n");
  WriteFile(r / "deleted.txt", "bye");
  WriteFile(r / "gone/a/b", "deep");
  WriteFile(r / "file-becomes-dir", "f");
  WriteFile(r / "dir-becomes-file/x", "x");
  fs::create_symlink("etc/greeting", r / "link");
}

// The upper tree: lower with changes of every kind.
void MakeUpper(const fs::path& lower, const fs::path& r) {
  ASSERT_EQ(Shell("cp -a '" + lower.string() + "' '" + r.string() + "'"), 0);
  WriteFile(r / "etc/greeting", "changed\n");
  fs::remove(r / "deleted.txt");
  fs::remove_all(r / "gone");
  fs::remove(r / "file-becomes-dir");
  WriteFile(r / "file-becomes-dir/inner", "i");
  fs::remove_all(r / "dir-becomes-file");
  WriteFile(r / "dir-becomes-file", "now a file");
  WriteFile(r / "new/dir/file", "new");
  fs::create_hard_link(r / "new/dir/file", r / "new/hardlink");
  ASSERT_EQ(::chmod((r / "new/dir").c_str(), 0700), 0);
  fs::remove(r / "link");
  fs::create_symlink("etc/unchanged", r / "link");
}

TEST(CompareWriteDiff, RoundTripsThroughApply) {
  TempTree tmp;
  MakeLower(tmp / "lower");
  MakeUpper(tmp / "lower", tmp / "upper");
  std::string tar;
  Status st = WriteDiff(tmp / "lower", tmp / "upper", [&](std::string_view d) {
    tar.append(d);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_NE(tar.find(".wh.deleted.txt"), std::string::npos);
  EXPECT_NE(tar.find(".wh.gone"), std::string::npos);
  EXPECT_EQ(tar.find("unchanged"), tar.find("etc/unchanged") + 4);  // only as a symlink target
  WriteFile(tmp / "diff.tar", tar);

  ASSERT_EQ(Shell("cp -a '" + (tmp / "lower").string() + "' '" + (tmp / "applied").string() + "'"), 0);
  auto applied = ApplyFile(tmp / "diff.tar", tmp / "applied");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->diff_id, Sha256Of(tar));
  EXPECT_EQ(Listing(tmp / "applied"), Listing(tmp / "upper"));
  EXPECT_EQ(Lstat(tmp / "applied/new/dir").st_mode & 07777, 0700u);
  EXPECT_EQ(Lstat(tmp / "applied/new/hardlink").st_ino, Lstat(tmp / "applied/new/dir/file").st_ino);
}

TEST(CompareWriteDiff, IdenticalTreesGiveAnEmptyChangeset) {
  TempTree tmp;
  MakeLower(tmp / "lower");
  ASSERT_EQ(Shell("cp -a '" + (tmp / "lower").string() + "' '" + (tmp / "upper").string() + "'"), 0);
  std::string tar;
  ASSERT_TRUE(WriteDiff(tmp / "lower", tmp / "upper", [&](std::string_view d) {
                tar.append(d);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(tar, std::string(1024, '\0'));  // just the end-of-archive blocks
}

class CompareDifferTest : public metadata::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto local = content::LocalStore::Open(tmp_ / "content");
    ASSERT_TRUE(local.ok()) << local.status().ToString();
    local_ = std::move(*local);
    store_ = std::make_unique<metadata::ContentStore>(*db_, *local_);
    differ_ = std::make_unique<Differ>(*store_, tmp_ / "tmpmounts");
  }
  void TearDown() override {
    differ_.reset();
    store_.reset();
    local_.reset();
    StoreTest::TearDown();
  }
  static mount::Mount Bind(const fs::path& p) { return mount::Mount{"bind", p.string(), {"rbind", "rw"}}; }

  TempTree tmp_;
  std::unique_ptr<content::LocalStore> local_;
  std::unique_ptr<metadata::ContentStore> store_;
  std::unique_ptr<Differ> differ_;
  metadata::ContentScope ns1_{"ns1", std::nullopt};
};

TEST_F(CompareDifferTest, CompareThenApplyRoundTrips) {
  MakeLower(tmp_ / "lower");
  MakeUpper(tmp_ / "lower", tmp_ / "upper");
  CompareOptions opts;
  opts.labels = {{"test", "yes"}};
  auto layer = differ_->Compare(ns1_, {Bind(tmp_ / "lower")}, {Bind(tmp_ / "upper")}, opts);
  ASSERT_TRUE(layer.ok()) << layer.status().ToString();
  EXPECT_EQ(layer->media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  auto d = ParseDigest(layer->digest);
  ASSERT_TRUE(d.ok());
  auto info = store_->Info(ns1_, *d);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->labels["test"], "yes");
  ASSERT_TRUE(info->labels.contains(kUncompressedLabel));
  EXPECT_EQ(info->size, layer->size);
  EXPECT_TRUE(store_->ListIngests(ns1_, nullptr)->empty());

  ASSERT_EQ(Shell("cp -a '" + (tmp_ / "lower").string() + "' '" + (tmp_ / "applied").string() + "'"), 0);
  auto applied = differ_->Apply(ns1_, {layer->media_type, layer->digest, layer->size}, {Bind(tmp_ / "applied")});
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->digest, info->labels[kUncompressedLabel]);
  EXPECT_EQ(applied->media_type, "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(Listing(tmp_ / "applied"), Listing(tmp_ / "upper"));

  // Plain tar media type: the blob is the uncompressed stream. Its digest is not compared with
  // the first layer's: whiteouts carry the time of the diff (as containerd's), so two diffs of
  // the same trees differ when a second boundary falls between them.
  opts.media_type = "application/vnd.oci.image.layer.v1.tar";
  auto plain = differ_->Compare(ns1_, {Bind(tmp_ / "lower")}, {Bind(tmp_ / "upper")}, opts);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->media_type, "application/vnd.oci.image.layer.v1.tar");
  ASSERT_EQ(Shell("cp -a '" + (tmp_ / "lower").string() + "' '" + (tmp_ / "applied2").string() + "'"), 0);
  auto applied2 = differ_->Apply(ns1_, {plain->media_type, plain->digest, plain->size}, {Bind(tmp_ / "applied2")});
  ASSERT_TRUE(applied2.ok()) << applied2.status().ToString();
  EXPECT_EQ(applied2->digest, plain->digest);  // uncompressed: blob digest == diff id
  EXPECT_EQ(Listing(tmp_ / "applied2"), Listing(tmp_ / "upper"));

  opts.media_type = "application/vnd.oci.image.layer.v1.tar+zstd";
  auto zstd = differ_->Compare(ns1_, {Bind(tmp_ / "lower")}, {Bind(tmp_ / "upper")}, opts);
  ASSERT_FALSE(zstd.ok());
  EXPECT_EQ(zstd.status().code(), Errc::kNotImplemented);
}

TEST_F(CompareDifferTest, ApplyErrorsAsContainerd) {
  WriteFile(tmp_ / "empty.tar", std::string(1024, '\0'));
  MakeLower(tmp_ / "lower");
  auto layer = differ_->Compare(ns1_, {}, {Bind(tmp_ / "lower")}, {});
  ASSERT_TRUE(layer.ok()) << layer.status().ToString();
  fs::create_directories(tmp_ / "target");

  metadata::ContentScope ns2{"ns2", std::nullopt};
  auto missing = differ_->Apply(ns2, {layer->media_type, layer->digest, layer->size}, {Bind(tmp_ / "target")});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Errc::kNotFound);
  EXPECT_EQ(missing.status().ToString(),
            "failed to get reader from content store: content digest " + layer->digest + ": not found");

  auto bad = differ_->Apply(ns1_, {"application/vnd.oci.image.manifest.v1+json", layer->digest, layer->size},
                            {Bind(tmp_ / "target")});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(fs::is_empty(tmp_ / "target"));

  auto ok = differ_->Apply(ns1_, {layer->media_type, layer->digest, layer->size}, {Bind(tmp_ / "target")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(Listing(tmp_ / "target"), Listing(tmp_ / "lower"));
}

TEST_F(CompareDifferTest, OverlayMountsAreMountedOrAppliedToTheUpperdir) {
  // lower: one layer; upper: an overlay on it with changes in its upperdir.
  fs::path l1 = tmp_ / "l1", up = tmp_ / "up", work = tmp_ / "work";
  MakeLower(l1);
  fs::create_directories(up);
  fs::create_directories(work);
  fs::create_directories(tmp_ / "l0");
  WriteFile(tmp_ / "l0/base", "base");
  std::string lowers = "lowerdir=" + l1.string() + ":" + (tmp_ / "l0").string();
  mount::Mount upper_mount{"overlay", "overlay", {lowers, "upperdir=" + up.string(), "workdir=" + work.string()}};

  // Apply a layer with a whiteout into the overlay: the upperdir gets an overlay whiteout.
  fs::path tar = tmp_ / "layer.tar";
  ASSERT_TRUE(MakeTar(tar, "add('etc/.wh.greeting')\nadd('added', data=b'a')\n"));
  {
    std::string data = ReadFile(tar);
    auto w = store_->OpenWriter(ns1_, "layer", 0, std::nullopt);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(data).ok());
    ASSERT_TRUE((*w)->Commit(0, std::nullopt, {}).ok());
  }
  std::string dgst = Sha256Of(ReadFile(tar)).String();
  auto applied = differ_->Apply(ns1_, {"application/vnd.oci.image.layer.v1.tar", dgst, 0}, {upper_mount});
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->digest, dgst);
  EXPECT_TRUE(S_ISCHR(Lstat(up / "etc/greeting").st_mode));
  EXPECT_EQ(Lstat(up / "etc").st_mode & 07777, Lstat(l1 / "etc").st_mode & 07777);

  // Compare lower (a two-lowerdir overlay: mounted) with the overlay (mounted read-only).
  mount::Mount lower_mount{"overlay", "overlay", {lowers}};
  auto layer = differ_->Compare(ns1_, {lower_mount}, {upper_mount}, {});
  ASSERT_TRUE(layer.ok()) << layer.status().ToString();
  fs::path check = tmp_ / "check";
  ASSERT_EQ(Shell("cp -a '" + l1.string() + "' '" + check.string() + "' && cp -a '" + (tmp_ / "l0/base").string() +
                  "' '" + check.string() + "/'"),
            0);
  auto re = differ_->Apply(ns1_, {layer->media_type, layer->digest, layer->size}, {Bind(check)});
  ASSERT_TRUE(re.ok()) << re.status().ToString();
  EXPECT_FALSE(fs::exists(check / "etc/greeting"));
  EXPECT_EQ(ReadFile(check / "added"), "a");
  EXPECT_TRUE(fs::is_empty(tmp_ / "tmpmounts"));  // temp mounts cleaned up
}

}  // namespace
}  // namespace berth::diff
