#include "metadata/containers.h"

#include <gtest/gtest.h>

#include "support/store_test_fixture.h"

namespace berth::metadata {
namespace {

google::protobuf::Any MakeAny(const std::string& type, const std::string& value) {
  google::protobuf::Any any;
  any.set_type_url(type);
  any.set_value(value);
  return any;
}

Container MakeContainer(std::string id) {
  Container c;
  c.id = std::move(id);
  c.runtime.name = "io.containerd.runc.v2";
  c.spec = MakeAny("types.containerd.io/opencontainers/runtime-spec/1/Spec", R"({"ociVersion":"1.0.2"})");
  return c;
}

class ContainersStoreTest : public StoreTest {
 protected:
  Result<Container> Create(const std::string& ns, Container c) {
    return InUpdate<Container>([&](Tx& tx) { return containers::Create(tx, ns, c); });
  }
  Result<Container> Get(const std::string& ns, const std::string& id) {
    return InView<Container>([&](Tx& tx) { return containers::Get(tx, ns, id); });
  }
  Result<std::vector<std::string>> ListIds(const std::string& ns, std::vector<std::string> filters = {}) {
    return InView<std::vector<std::string>>([&](Tx& tx) -> Result<std::vector<std::string>> {
      BERTH_ASSIGN_OR_RETURN(auto all, containers::List(tx, ns, filters));
      std::vector<std::string> ids;
      for (const auto& c : all) ids.push_back(c.id);
      return ids;
    });
  }
  Result<Container> UpdateC(const std::string& ns, const Container& c, std::vector<std::string> paths) {
    return InUpdate<Container>([&](Tx& tx) { return containers::Update(tx, ns, c, paths); });
  }
};

TEST_F(ContainersStoreTest, CreateGetRoundTrips) {
  Container in = MakeContainer("c1");
  in.labels = {{"a", "b"}, {"gone", ""}};
  in.image = "docker.io/library/alpine:latest";
  in.runtime.options = MakeAny("containerd.runc.v1.Options", std::string("\x10\x01", 2));
  in.snapshotter = "overlayfs";
  in.snapshot_key = "c1";
  in.extensions = {{"ext1", MakeAny("t/x", "v1")}, {"ext2", MakeAny("t/y", "")}};
  auto created = Create("ns", in);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->labels, (labels::Labels{{"a", "b"}}));
  EXPECT_NE(created->created_at, TimePoint{});

  auto got = Get("ns", "c1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, "c1");
  EXPECT_EQ(got->image, in.image);
  EXPECT_EQ(got->runtime.name, in.runtime.name);
  ASSERT_TRUE(got->runtime.options.has_value());
  EXPECT_EQ(got->runtime.options->type_url(), "containerd.runc.v1.Options");
  EXPECT_EQ(got->runtime.options->value(), std::string("\x10\x01", 2));
  ASSERT_TRUE(got->spec.has_value());
  EXPECT_EQ(got->spec->value(), in.spec->value());
  EXPECT_EQ(got->snapshotter, "overlayfs");
  EXPECT_EQ(got->snapshot_key, "c1");
  ASSERT_EQ(got->extensions.size(), 2u);
  EXPECT_EQ(got->extensions.at("ext1").value(), "v1");
  EXPECT_EQ(got->extensions.at("ext2").type_url(), "t/y");
  EXPECT_EQ(got->labels, (labels::Labels{{"a", "b"}}));
  EXPECT_EQ(got->created_at, created->created_at);

  // Without runtime options the column stays NULL and comes back unset.
  auto plain = Create("ns", MakeContainer("c2"));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(Get("ns", "c2")->runtime.options.has_value());
}

TEST_F(ContainersStoreTest, ErrorsUseContainerdMessages) {
  ASSERT_TRUE(Create("ns", MakeContainer("c1")).ok());
  EXPECT_EQ(Create("ns", MakeContainer("c1")).status().ToString(),
            "container \"c1\": already exists");
  EXPECT_EQ(Get("ns", "nope").status().ToString(),
            "container \"nope\" in namespace \"ns\": not found");
  EXPECT_EQ(UpdateC("ns", MakeContainer("nope"), {}).status().ToString(),
            "container \"nope\": not found");
  EXPECT_EQ(Update([](Tx& tx) { return containers::Delete(tx, "ns", "nope"); }).ToString(),
            "container nope: not found");
  EXPECT_TRUE(Create("other", MakeContainer("c1")).ok());
}

TEST_F(ContainersStoreTest, Validation) {
  auto bad_id = Create("ns", MakeContainer("bad id"));
  EXPECT_TRUE(bad_id.status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(bad_id.status().message().starts_with(
      "create container failed validation: container.ID: identifier \"bad id\""))
      << bad_id.status().ToString();
  EXPECT_TRUE(Create("ns", MakeContainer("")).status().Is(Errc::kInvalidArgument));

  Container no_runtime = MakeContainer("c");
  no_runtime.runtime.name.clear();
  EXPECT_EQ(Create("ns", no_runtime).status().ToString(),
            "create container failed validation: container.Runtime.Name must be set: invalid argument");
  Container no_spec = MakeContainer("c");
  no_spec.spec.reset();
  EXPECT_EQ(Create("ns", no_spec).status().ToString(),
            "create container failed validation: container.Spec must be set: invalid argument");
  Container key_only = MakeContainer("c");
  key_only.snapshot_key = "k";
  EXPECT_EQ(Create("ns", key_only).status().ToString(),
            "create container failed validation: container.Snapshotter must be set if "
            "container.SnapshotKey is set: invalid argument");
  Container empty_ext = MakeContainer("c");
  empty_ext.extensions[""] = MakeAny("t", "v");
  EXPECT_TRUE(Create("ns", empty_ext).status().Is(Errc::kInvalidArgument));
  Container big = MakeContainer("c");
  big.labels = {{"k", std::string(labels::kMaxSize + 1, 'v')}};
  EXPECT_TRUE(Create("ns", big).status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(ListIds("ns")->empty());
}

TEST_F(ContainersStoreTest, UpdateWithMasks) {
  Container base = MakeContainer("c1");
  base.labels = {{"keep", "1"}, {"drop", "2"}};
  base.image = "img:1";
  base.snapshotter = "overlayfs";
  base.snapshot_key = "k1";
  base.extensions = {{"e1", MakeAny("t", "1")}, {"e2", MakeAny("t", "2")}};
  auto created = Create("ns", base);
  ASSERT_TRUE(created.ok());

  Container req = MakeContainer("c1");
  req.labels = {{"new", "3"}};
  auto upd = UpdateC("ns", req, {"labels.new", "labels.drop"});
  ASSERT_TRUE(upd.ok()) << upd.status().ToString();
  EXPECT_EQ(upd->labels, (labels::Labels{{"keep", "1"}, {"new", "3"}}));
  EXPECT_EQ(upd->image, "img:1");  // not in the mask
  EXPECT_EQ(upd->created_at, created->created_at);
  EXPECT_EQ(Get("ns", "c1")->labels, upd->labels);

  req = MakeContainer("c1");
  req.spec = MakeAny("types.containerd.io/opencontainers/runtime-spec/1/Spec", "{}");
  req.image = "img:2";
  req.snapshot_key = "k2";
  req.extensions = {{"e1", MakeAny("t", "new")}};
  upd = UpdateC("ns", req, {"spec", "image", "snapshotkey", "extensions.e1", "extensions.e2"});
  ASSERT_TRUE(upd.ok()) << upd.status().ToString();
  auto got = Get("ns", "c1");
  EXPECT_EQ(got->spec->value(), "{}");
  EXPECT_EQ(got->image, "img:2");
  EXPECT_EQ(got->snapshot_key, "k2");
  ASSERT_EQ(got->extensions.size(), 1u);
  EXPECT_EQ(got->extensions.at("e1").value(), "new");
  EXPECT_EQ(got->snapshotter, "overlayfs");

  // Runtime, snapshotter and id are not updatable by path.
  for (const char* path : {"runtime", "snapshotter", "id", "runtime.name"}) {
    auto bad = UpdateC("ns", MakeContainer("c1"), {path});
    EXPECT_EQ(bad.status().ToString(),
              fmt::format("cannot update \"{}\" field on \"c1\": invalid argument", path));
  }

  // A mask may not leave the container invalid.
  Container no_spec = MakeContainer("c1");
  no_spec.spec.reset();
  auto invalid = UpdateC("ns", no_spec, {"spec"});
  EXPECT_EQ(invalid.status().ToString(),
            "update failed validation: container.Spec must be set: invalid argument");

  // No mask: immutable fields must match...
  Container full = MakeContainer("c1");
  full.snapshotter = "native";
  EXPECT_EQ(UpdateC("ns", full, {}).status().ToString(),
            "container.Snapshotter field is immutable: invalid argument");
  full.snapshotter = "overlayfs";
  full.runtime.name = "io.containerd.other";
  EXPECT_EQ(UpdateC("ns", full, {}).status().ToString(),
            "container.Runtime.Name field is immutable: invalid argument");
  // ...and labels, spec, extensions, image, snapshot key are replaced.
  full.runtime.name = "io.containerd.runc.v2";
  full.labels = {{"only", "x"}};
  upd = UpdateC("ns", full, {});
  ASSERT_TRUE(upd.ok()) << upd.status().ToString();
  got = Get("ns", "c1");
  EXPECT_EQ(got->labels, (labels::Labels{{"only", "x"}}));
  EXPECT_TRUE(got->image.empty());
  EXPECT_TRUE(got->snapshot_key.empty());
  EXPECT_TRUE(got->extensions.empty());
  EXPECT_EQ(got->created_at, created->created_at);

  EXPECT_EQ(UpdateC("ns", MakeContainer(""), {}).status().ToString(),
            "must specify a container id: invalid argument");
}

TEST_F(ContainersStoreTest, ListFilters) {
  Container a = MakeContainer("a");
  a.image = "alpine";
  a.labels = {{"role", "web"}};
  Container b = MakeContainer("b");
  b.runtime.name = "io.containerd.runsc.v1";
  b.labels = {{"role", "db"}};
  ASSERT_TRUE(Create("ns", b).ok());
  ASSERT_TRUE(Create("ns", a).ok());
  ASSERT_TRUE(Create("ns", MakeContainer("c")).ok());
  ASSERT_TRUE(Create("other", MakeContainer("d")).ok());

  EXPECT_EQ(*ListIds("ns"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(*ListIds("ns", {"id==b"}), (std::vector<std::string>{"b"}));
  EXPECT_EQ(*ListIds("ns", {"image==alpine"}), (std::vector<std::string>{"a"}));
  EXPECT_EQ(*ListIds("ns", {"image"}), (std::vector<std::string>{"a"}));
  EXPECT_EQ(*ListIds("ns", {"runtime.name~=runsc"}), (std::vector<std::string>{"b"}));
  EXPECT_EQ(*ListIds("ns", {"labels.role==web", "labels.role==db"}),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*ListIds("ns", {"labels.role!=web"}), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(ListIds("ns", {"snapshotter==x"})->empty());  // not a filter field in containerd
  EXPECT_TRUE(ListIds("ns", {"id=="}).status().Is(Errc::kInvalidArgument));
}

TEST_F(ContainersStoreTest, DeleteRemovesLabelsAndExtensions) {
  Container c = MakeContainer("c1");
  c.labels = {{"a", "b"}};
  c.extensions = {{"e", MakeAny("t", "v")}};
  ASSERT_TRUE(Create("ns", c).ok());
  ASSERT_TRUE(Update([](Tx& tx) { return containers::Delete(tx, "ns", "c1"); }).ok());
  EXPECT_TRUE(Get("ns", "c1").status().Is(Errc::kNotFound));
  ASSERT_TRUE(Create("ns", MakeContainer("c1")).ok());
  auto got = Get("ns", "c1");
  EXPECT_TRUE(got->labels.empty());
  EXPECT_TRUE(got->extensions.empty());
}

}  // namespace
}  // namespace berth::metadata
