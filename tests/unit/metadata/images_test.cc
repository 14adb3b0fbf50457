#include "metadata/images.h"

#include <gtest/gtest.h>

#include "metadata/namespaces.h"
#include "support/store_test_fixture.h"

namespace berth::metadata {
namespace {

constexpr const char* kDigest =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kDigest2 =
    "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
constexpr const char* kIndex = "application/vnd.oci.image.index.v1+json";

Image MakeImage(std::string name, labels::Labels l = {}) {
  return Image{std::move(name), std::move(l), Descriptor{kIndex, kDigest, 123, {}}, {}, {}};
}

class ImagesStoreTest : public StoreTest {
 protected:
  Result<Image> Create(const std::string& ns, Image image) {
    return InUpdate<Image>([&](Tx& tx) { return images::Create(tx, ns, image); });
  }
  Result<Image> Get(const std::string& ns, const std::string& name) {
    return InView<Image>([&](Tx& tx) { return images::Get(tx, ns, name); });
  }
  Result<std::vector<Image>> List(const std::string& ns, std::vector<std::string> filters = {}) {
    return InView<std::vector<Image>>([&](Tx& tx) { return images::List(tx, ns, filters); });
  }
  Result<Image> UpdateImage(const std::string& ns, const Image& image,
                            std::vector<std::string> paths) {
    return InUpdate<Image>([&](Tx& tx) { return images::Update(tx, ns, image, paths); });
  }
  std::vector<std::string> Names(const std::vector<Image>& all) {
    std::vector<std::string> out;
    for (const auto& i : all) out.push_back(i.name);
    return out;
  }
};

TEST_F(ImagesStoreTest, CreateGetRoundTripsAndCreatesNamespace) {
  Image in = MakeImage("docker.io/library/alpine:latest", {{"a", "b"}, {"empty", ""}});
  in.target.annotations = {{"org.opencontainers.image.ref.name", "latest"}};
  auto created = Create("ns1", in);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->labels, (labels::Labels{{"a", "b"}}));  // empty values are not kept
  EXPECT_NE(created->created_at, TimePoint{});
  EXPECT_EQ(created->created_at, created->updated_at);

  auto got = Get("ns1", in.name);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, in.name);
  EXPECT_EQ(got->labels, (labels::Labels{{"a", "b"}}));
  EXPECT_EQ(got->target.digest, kDigest);
  EXPECT_EQ(got->target.media_type, kIndex);
  EXPECT_EQ(got->target.size, 123);
  EXPECT_EQ(got->target.annotations, in.target.annotations);
  EXPECT_EQ(got->created_at, created->created_at);

  auto exists = InView<bool>([](Tx& tx) { return namespaces::Exists(tx, "ns1"); });
  ASSERT_TRUE(exists.ok());
  EXPECT_TRUE(*exists);
  // The namespace now holds an image: it cannot be deleted.
  Status del_ns = Update([](Tx& tx) { return namespaces::Delete(tx, "ns1"); });
  EXPECT_TRUE(del_ns.Is(Errc::kFailedPrecondition)) << del_ns.ToString();
}

TEST_F(ImagesStoreTest, ErrorsUseContainerdMessages) {
  ASSERT_TRUE(Create("ns", MakeImage("img")).ok());
  auto dup = Create("ns", MakeImage("img"));
  EXPECT_TRUE(dup.status().Is(Errc::kAlreadyExists));
  EXPECT_EQ(dup.status().ToString(), "image \"img\": already exists");
  // Another namespace is another world.
  EXPECT_TRUE(Create("other", MakeImage("img")).ok());

  auto missing = Get("ns", "nope");
  EXPECT_EQ(missing.status().ToString(), "image \"nope\": not found");
  Status del = Update([](Tx& tx) { return images::Delete(tx, "ns", "nope"); });
  EXPECT_EQ(del.ToString(), "image \"nope\": not found");
  auto upd = UpdateImage("ns", MakeImage("nope"), {});
  EXPECT_EQ(upd.status().ToString(), "image \"nope\": not found");
}

TEST_F(ImagesStoreTest, Validation) {
  auto no_name = Create("ns", MakeImage(""));
  EXPECT_EQ(no_name.status().ToString(), "image name must not be empty: invalid argument");

  Image bad_digest = MakeImage("x");
  bad_digest.target.digest = "sha256:abc";
  EXPECT_EQ(Create("ns", bad_digest).status().ToString(),
            "Target.Digest \"sha256:abc\" invalid: invalid checksum digest length: invalid argument");
  Image no_digest = MakeImage("x");
  no_digest.target.digest = "";
  EXPECT_TRUE(Create("ns", no_digest).status().Is(Errc::kInvalidArgument));

  Image zero = MakeImage("x");
  zero.target.size = 0;
  EXPECT_EQ(Create("ns", zero).status().ToString(),
            "Target.Size must be greater than zero: invalid argument");
  Image no_type = MakeImage("x");
  no_type.target.media_type = "";
  EXPECT_EQ(Create("ns", no_type).status().ToString(),
            "Target.MediaType must be set: invalid argument");

  Image big = MakeImage("x", {{"k", std::string(labels::kMaxSize, 'v')}});
  auto st = Create("ns", big);
  EXPECT_TRUE(st.status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(st.status().message().starts_with("image.Labels: ")) << st.status().ToString();

  // Nothing was stored by the failures, and a namespace name must be an identifier.
  EXPECT_TRUE(List("ns")->empty());
  EXPECT_TRUE(Create("bad ns", MakeImage("x")).status().Is(Errc::kInvalidArgument));
}

TEST_F(ImagesStoreTest, UpdateWithMasks) {
  ASSERT_TRUE(Create("ns", MakeImage("img", {{"keep", "1"}, {"drop", "2"}})).ok());
  auto before = Get("ns", "img");
  ASSERT_TRUE(before.ok());

  // labels.<key>: set one, remove one (absent from the request).
  Image req = MakeImage("img", {{"new", "3"}});
  auto upd = UpdateImage("ns", req, {"labels.new", "labels.drop"});
  ASSERT_TRUE(upd.ok()) << upd.status().ToString();
  EXPECT_EQ(upd->labels, (labels::Labels{{"keep", "1"}, {"new", "3"}}));
  EXPECT_EQ(upd->created_at, before->created_at);
  EXPECT_GE(upd->updated_at, before->updated_at);
  EXPECT_EQ(Get("ns", "img")->labels, upd->labels);

  // labels: replace all.
  upd = UpdateImage("ns", MakeImage("img", {{"only", "x"}}), {"labels"});
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd->labels, (labels::Labels{{"only", "x"}}));

  // target: as a unit, validated.
  Image t = MakeImage("img");
  t.target = Descriptor{"application/vnd.oci.image.manifest.v1+json", kDigest2, 7, {{"a", "b"}}};
  upd = UpdateImage("ns", t, {"target"});
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(Get("ns", "img")->target.digest, kDigest2);
  EXPECT_EQ(Get("ns", "img")->labels, (labels::Labels{{"only", "x"}}));  // untouched
  t.target.size = -1;
  EXPECT_TRUE(UpdateImage("ns", t, {"target"}).status().Is(Errc::kInvalidArgument));

  // annotations.<key> and annotations.
  Image a = MakeImage("img");
  a.target.annotations = {{"c", "d"}};
  upd = UpdateImage("ns", a, {"annotations.c", "annotations.a"});
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd->target.annotations, (labels::Labels{{"c", "d"}}));
  EXPECT_EQ(upd->target.digest, kDigest2);

  // Unknown path.
  auto bad = UpdateImage("ns", MakeImage("img"), {"name"});
  EXPECT_EQ(bad.status().ToString(), "cannot update \"name\" field on image \"img\": invalid argument");

  // No mask: labels and target replaced.
  upd = UpdateImage("ns", MakeImage("img", {{"z", "1"}}), {});
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd->labels, (labels::Labels{{"z", "1"}}));
  EXPECT_EQ(upd->target.digest, kDigest);
  EXPECT_TRUE(upd->target.annotations.empty());

  // Name required.
  EXPECT_EQ(UpdateImage("ns", MakeImage(""), {}).status().ToString(),
            "image name is required for update: invalid argument");
}

TEST_F(ImagesStoreTest, ListFilters) {
  ASSERT_TRUE(Create("ns", MakeImage("b", {{"env", "prod"}})).ok());
  ASSERT_TRUE(Create("ns", MakeImage("a", {{"env", "dev"}, {"x.y", "1"}})).ok());
  Image c = MakeImage("c");
  c.target.digest = kDigest2;
  c.target.media_type = "application/vnd.docker.distribution.manifest.v2+json";
  c.target.annotations = {{"k", "v"}};
  ASSERT_TRUE(Create("ns", c).ok());
  ASSERT_TRUE(Create("other", MakeImage("d")).ok());

  EXPECT_EQ(Names(*List("ns")), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Names(*List("ns", {"name==b"})), (std::vector<std::string>{"b"}));
  EXPECT_EQ(Names(*List("ns", {"labels.env==prod", "name==c"})),
            (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(Names(*List("ns", {"labels.env"})), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Names(*List("ns", {"labels.\"x.y\"==1"})), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Names(*List("ns", {std::string("target.digest==") + kDigest2})),
            (std::vector<std::string>{"c"}));
  EXPECT_EQ(Names(*List("ns", {"target.mediatype~=docker"})), (std::vector<std::string>{"c"}));
  EXPECT_EQ(Names(*List("ns", {"annotations.k==v"})), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(List("ns", {"name==zzz"})->empty());
  EXPECT_TRUE(List("empty-ns")->empty());
  EXPECT_TRUE(List("ns", {"name=="}).status().Is(Errc::kInvalidArgument));
}

TEST_F(ImagesStoreTest, DeleteRemovesLabels) {
  ASSERT_TRUE(Create("ns", MakeImage("img", {{"a", "b"}})).ok());
  ASSERT_TRUE(Update([](Tx& tx) { return images::Delete(tx, "ns", "img"); }).ok());
  EXPECT_TRUE(Get("ns", "img").status().Is(Errc::kNotFound));
  auto created = Create("ns", MakeImage("img"));
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->labels.empty());
  EXPECT_TRUE(Get("ns", "img")->labels.empty());
}

}  // namespace
}  // namespace berth::metadata
