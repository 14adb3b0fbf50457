// `berth snapshots` and `berth images mount/unmount` against a real berthd, for the overlayfs
// and the native snapshotter: every verb, the errors people hit, the tree, and mounting an
// image's root filesystem (an image made here on snapshots made here, and one pulled from a
// registry on loopback by the real ctr). No mount may outlive a test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "harness.h"
#include "text_lines.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// "sha256:" + sha256sum of `text`, computed by coreutils (independent of berth).
std::string Sha256sum(const std::string& text) {
  auto r = e2e::Run({"sh", "-c", "printf '%s' \"$0\" | sha256sum", text});
  return r.exit_code == 0 ? "sha256:" + r.out.substr(0, 64) : "";
}

class BerthSnapshotsCliTest : public BerthdTest {
 protected:
  void TearDown() override {
    fs::path root = dir_ ? dir_->path() : fs::path();
    if (!root.empty()) {
      auto left = MountsUnder(root);
      EXPECT_THAT(left, IsEmpty()) << "mounts left behind";
      for (const auto& m : left) e2e::Run({"umount", "-l", m});  // so the temp dir can go
    }
    BerthdTest::TearDown();
  }

  // `berth snapshots --snapshotter SN args...`
  CommandResult Snap(const std::string& sn, std::vector<std::string> args) const {
    args.insert(args.begin(), {"snapshots", "--snapshotter", sn});
    return daemon_->Berth(args);
  }
  // Runs the mount commands berth printed for `key` on `target`.
  void MountWithBerth(const std::string& sn, const std::string& key, const fs::path& target) {
    fs::create_directories(target);
    auto r = Snap(sn, {"mounts", target.string(), key});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    ASSERT_THAT(r.out, HasSubstr("mount -t "));
    auto m = e2e::Run({"sh", "-c", r.out});
    ASSERT_EQ(m.exit_code, 0) << "running `" << r.out << "`: " << Describe(m);
  }
  void Unmount(const fs::path& target) {
    auto u = e2e::Run({"umount", target.string()});
    ASSERT_EQ(u.exit_code, 0) << Describe(u);
  }
  // Makes committed snapshot `name` (on `parent`, "" for none) holding `file` = `data`.
  void MakeLayer(const std::string& sn, const std::string& name, const std::string& parent,
                 const std::string& file, const std::string& data) {
    const std::string work = name + "-work";
    std::vector<std::string> prepare = {"prepare", work};
    if (!parent.empty()) prepare.push_back(parent);
    auto r = Snap(sn, prepare);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    const fs::path mnt = dir_->path() / "layer-mnt";
    ASSERT_NO_FATAL_FAILURE(MountWithBerth(sn, work, mnt));
    { std::ofstream(mnt / file) << data; }
    ASSERT_NO_FATAL_FAILURE(Unmount(mnt));
    r = Snap(sn, {"commit", name, work});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  std::vector<std::string> Keys(const std::string& sn) const {
    auto r = Snap(sn, {"ls", "-q"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return Lines(r.out);
  }
  std::unique_ptr<client::Client> Client() const {
    auto c = client::Client::Connect(daemon_->socket().string(), "default");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
};

class BerthSnapshotsCliParamTest : public BerthSnapshotsCliTest,
                                   public ::testing::WithParamInterface<std::string> {
 protected:
  const std::string& sn() const { return GetParam(); }
};

TEST_P(BerthSnapshotsCliParamTest, EveryVerbOverALifecycle) {
  const fs::path mnt = dir_->path() / "mnt";

  // prepare: nothing printed by default; -t prints mount commands, --mounts JSON.
  auto r = Snap(sn(), {"prepare", "base-work"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
  ASSERT_NO_FATAL_FAILURE(MountWithBerth(sn(), "base-work", mnt));
  { std::ofstream(mnt / "hello.txt") << "from base"; }
  ASSERT_NO_FATAL_FAILURE(Unmount(mnt));

  // mounts --format json: the same mounts as data.
  r = Snap(sn(), {"mounts", mnt.string(), "base-work", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto mounts = nlohmann::json::parse(r.out);
  ASSERT_TRUE(mounts.is_array() && mounts.size() == 1) << r.out;
  EXPECT_EQ(mounts[0]["type"], "bind");
  EXPECT_TRUE(mounts[0]["options"].is_array());

  r = Snap(sn(), {"commit", "base", "base-work", "--label", "team=berth"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Snap(sn(), {"prepare", "app-work", "base", "-t", "/somewhere", "--mounts"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("mount -t (overlay|bind) [^ ]+ /somewhere"));
  EXPECT_THAT(r.out, HasSubstr("\"source\""));
  ASSERT_NO_FATAL_FAILURE(MountWithBerth(sn(), "app-work", mnt));
  EXPECT_EQ(ReadFile(mnt / "hello.txt"), "from base");
  { std::ofstream(mnt / "app.txt") << "from app"; }
  ASSERT_NO_FATAL_FAILURE(Unmount(mnt));
  r = Snap(sn(), {"commit", "app", "app-work"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Snap(sn(), {"prepare", "rw", "app"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Snap(sn(), {"view", "base-view", "base", "--mounts"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"type\""));

  // A view is read-only and sees only its parent.
  ASSERT_NO_FATAL_FAILURE(MountWithBerth(sn(), "base-view", mnt));
  EXPECT_EQ(ReadFile(mnt / "hello.txt"), "from base");
  EXPECT_FALSE(fs::exists(mnt / "app.txt"));
  EXPECT_NE(e2e::Run({"touch", (mnt / "x").string()}).exit_code, 0) << "a view is read-only";
  ASSERT_NO_FATAL_FAILURE(Unmount(mnt));

  // ls: a table, keys only, JSON.
  r = Snap(sn(), {"ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("^KEY +PARENT +KIND +AGE +LABELS\n"));
  EXPECT_THAT(r.out, ContainsRegex("\nbase +- +committed +[^\n]*team=berth"));
  EXPECT_THAT(r.out, ContainsRegex("\napp +base +committed "));
  EXPECT_THAT(r.out, ContainsRegex("\nrw +app +active "));
  EXPECT_THAT(r.out, ContainsRegex("\nbase-view +base +view "));
  EXPECT_THAT(r.out, Not(HasSubstr("base-work")));
  EXPECT_EQ(Keys(sn()), std::vector<std::string>({"app", "base", "base-view", "rw"}));
  r = Snap(sn(), {"ls", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto list = nlohmann::json::parse(r.out);
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 4u) << r.out;
  EXPECT_EQ(list[0]["name"], "app");
  EXPECT_EQ(list[0]["parent"], "base");
  EXPECT_EQ(list[0]["kind"], "committed");
  EXPECT_TRUE(list[0]["labels"].contains("containerd.io/gc.root")) << "kept from GC, as ctr";
  // Filters, as containerd's.
  r = Snap(sn(), {"ls", "-q", "kind==committed"});
  EXPECT_EQ(Lines(r.out), std::vector<std::string>({"app", "base"})) << Describe(r);
  r = Snap(sn(), {"ls", "-q", "parent==base"});
  EXPECT_EQ(Lines(r.out), std::vector<std::string>({"app", "base-view"})) << Describe(r);

  // ctr sees the same snapshots.
  r = daemon_->Ctr({"snapshots", "--snapshotter", sn(), "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("rw +app +Active"));

  // info: a table, or JSON.
  r = Snap(sn(), {"info", "app"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("Key: +app\n"));
  EXPECT_THAT(r.out, ContainsRegex("Parent: +base\n"));
  EXPECT_THAT(r.out, ContainsRegex("Kind: +committed\n"));
  EXPECT_THAT(r.out, ContainsRegex("Labels: +containerd.io/gc.root="));
  r = Snap(sn(), {"info", "base", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["name"], "base");
  EXPECT_EQ(info["parent"], "");
  EXPECT_EQ(info["labels"]["team"], "berth");

  // label: set, clear, show.
  r = Snap(sn(), {"label", "app", "stage=test"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("stage=test\n"));
  r = Snap(sn(), {"label", "app", "stage="});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr("stage")));

  // tree: exact.
  r = Snap(sn(), {"tree"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out,
            "base (committed)\n"
            "├── app (committed)\n"
            "│   └── rw (active)\n"
            "└── base-view (view)\n");

  // usage: human sizes, bytes, JSON; committed layers hold their file.
  r = Snap(sn(), {"usage"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("^KEY +SIZE +INODES\n"));
  EXPECT_THAT(r.out, ContainsRegex("\nbase +[0-9.]+ (B|KiB|MiB) +[1-9]"));
  r = Snap(sn(), {"usage", "-b", "app"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("\napp +[1-9][0-9]* +[1-9][0-9]*\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("base")));
  r = Snap(sn(), {"usage", "--format", "json", "base", "app"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto usage = nlohmann::json::parse(r.out);
  ASSERT_EQ(usage.size(), 2u) << r.out;
  EXPECT_EQ(usage[0]["key"], "base");
  EXPECT_GT(usage[0]["size"].get<int64_t>(), 0);
  EXPECT_GT(usage[0]["inodes"].get<int64_t>(), 0);

  // rm: leaves first, each removed key printed; then nothing is left, on disk either.
  r = Snap(sn(), {"rm", "rw", "base-view", "app", "base"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "rw\nbase-view\napp\nbase\n");
  EXPECT_THAT(Keys(sn()), IsEmpty());
  r = Snap(sn(), {"tree"});
  EXPECT_EQ(r.out, "");
}

TEST_P(BerthSnapshotsCliParamTest, ErrorsAreClearAndFail) {
  ASSERT_NO_FATAL_FAILURE(MakeLayer(sn(), "base", "", "f", "x"));
  ASSERT_EQ(Snap(sn(), {"prepare", "child", "base"}).exit_code, 0);
  ASSERT_EQ(Snap(sn(), {"view", "peek", "base"}).exit_code, 0);

  // Unknown keys: NotFound, named, exit 1, for every verb that takes one.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"info", "nope"}, {"mounts", "/x", "nope"}, {"usage", "nope"}, {"rm", "nope"},
           {"label", "nope", "a=b"}, {"commit", "done", "nope"}, {"prepare", "k", "nope"}}) {
    auto r = Snap(sn(), args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << Describe(r);
    EXPECT_THAT(r.err, ContainsRegex("^berth: .*nope.*: not found\n$")) << args[0];
    EXPECT_EQ(r.out.find("nope"), std::string::npos) << args[0] << ": " << r.out;
  }
  auto r = Snap(sn(), {"info", "nope"});
  EXPECT_EQ(r.err, "berth: snapshot nope does not exist: not found\n");

  // A parent with children stays, and the error says which children.
  r = Snap(sn(), {"rm", "base"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err,
            "berth: failed to remove \"base\": cannot remove snapshot with child "
            "(children: child, peek): failed precondition\n");
  EXPECT_THAT(Keys(sn()), ::testing::Contains("base"));
  // rm goes on past a failure, and still fails.
  r = Snap(sn(), {"rm", "base", "peek"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "peek\n");

  // Other rules, each with its kind.
  r = Snap(sn(), {"prepare", "child", "base"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("already exists"));
  r = Snap(sn(), {"mounts", "/x", "base"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("failed precondition"));
  r = Snap(sn(), {"view", "v", "child"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is not committed snapshot: invalid argument"));
  r = Snap(sn(), {"commit", "c2", "base"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("failed precondition"));

  // Bad invocations.
  r = daemon_->Berth({"snapshots", "--snapshotter", "bogus", "ls"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("snapshotter not loaded: bogus: invalid argument"));
  r = Snap(sn(), {"info"});
  EXPECT_EQ(r.exit_code, 2) << "usage error";
  r = Snap(sn(), {"ls", "--format", "yaml"});
  EXPECT_EQ(r.exit_code, 2) << "usage error";
  r = Snap(sn(), {"prepare", "k2", "--label", "novalue=1", "--label", "=x"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);

  // Keys are per snapshotter.
  const std::string other = sn() == "native" ? "overlayfs" : "native";
  EXPECT_THAT(Keys(other), IsEmpty());
}

// images mount on an image made here: blobs written with the client, layers made as
// snapshots named by their chain ids (what unpacking would have made).
TEST_P(BerthSnapshotsCliParamTest, ImageMountOnSnapshotsNamedByChainIds) {
  const std::string d1 = Sha256sum("layer one"), d2 = Sha256sum("layer two");
  const std::string chain2 = Sha256sum(d1 + " " + d2);
  ASSERT_FALSE(chain2.empty());
  auto client = Client();
  ASSERT_NE(client, nullptr);
  auto write = [&](const std::string& ref, const std::string& data) {
    std::istringstream in(data);
    client::ContentWriteRequest req;
    req.ref = ref;
    req.labels = {{"containerd.io/gc.root", "test"}};
    auto w = client->WriteContent(in, req);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return client::Descriptor{"", w.ok() ? w->digest : "", static_cast<int64_t>(data.size()), {}};
  };
  nlohmann::json config = {{"architecture", "amd64"},
                           {"os", "linux"},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", {d1, d2}}}}};
  auto config_desc = write("config", config.dump());
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
        {"digest", config_desc.digest},
        {"size", config_desc.size}}},
      {"layers", nlohmann::json::array()}};
  auto manifest_desc = write("manifest", manifest.dump());
  manifest_desc.media_type = "application/vnd.oci.image.manifest.v1+json";
  client::Image image;
  image.name = "example.com/made/here:1";
  image.target = manifest_desc;
  ASSERT_TRUE(client->CreateImage(image).ok());

  const fs::path target = dir_->path() / "rootfs";
  fs::create_directories(target);
  std::vector<std::string> mount = {"images", "mount", "--snapshotter", sn(), image.name,
                                    target.string()};

  // Not unpacked yet: a clear NotFound, nothing left behind.
  auto r = daemon_->Berth(mount);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("is not unpacked in snapshotter \"" + sn() + "\""));
  EXPECT_THAT(r.err, HasSubstr(chain2));
  EXPECT_THAT(daemon_->Berth({"leases", "ls", "-q"}).out, IsEmpty());

  ASSERT_NO_FATAL_FAILURE(MakeLayer(sn(), d1, "", "one.txt", "1"));
  ASSERT_NO_FATAL_FAILURE(MakeLayer(sn(), chain2, d1, "two.txt", "2"));

  r = daemon_->Berth(mount);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, chain2 + "\n" + target.string() + "\n");
  EXPECT_THAT(MountsUnder(target), ::testing::ElementsAre(target.string()));
  EXPECT_EQ(ReadFile(target / "one.txt"), "1");
  EXPECT_EQ(ReadFile(target / "two.txt"), "2");
  EXPECT_NE(e2e::Run({"touch", (target / "x").string()}).exit_code, 0) << "read-only by default";
  // A view keyed by the target, held by a lease.
  r = Snap(sn(), {"info", target.string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["kind"], "view");
  EXPECT_EQ(info["parent"], chain2);
  r = daemon_->Berth({"leases", "ls", "-q"});
  ASSERT_EQ(Lines(r.out).size(), 1u) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("berth-mount-"));

  // Mounting again on a mount point is refused.
  r = daemon_->Berth(mount);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is a mount point already"));

  // The chain's parent cannot go while the image is mounted.
  r = Snap(sn(), {"rm", chain2});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("failed precondition"));

  // unmount: the mount, the snapshot and the lease go.
  r = daemon_->Berth({"images", "unmount", target.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, target.string() + "\n");
  EXPECT_THAT(MountsUnder(target), IsEmpty());
  EXPECT_THAT(Keys(sn()), Not(::testing::Contains(target.string())));
  EXPECT_THAT(daemon_->Berth({"leases", "ls", "-q"}).out, IsEmpty());
  EXPECT_TRUE(fs::is_directory(target));
  EXPECT_FALSE(fs::exists(target / "one.txt"));

  // Nothing mounted any more: a clear error.
  r = daemon_->Berth({"images", "unmount", target.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("nothing is mounted on " + target.string() + ": not found"));

  // --rw: writable; --keep keeps the snapshot for the next mount, which sees the change.
  mount.push_back("--rw");
  r = daemon_->Berth(mount);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  { std::ofstream(target / "new.txt") << "kept"; }
  r = daemon_->Berth({"images", "unmount", "--keep", target.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(MountsUnder(target), IsEmpty());
  EXPECT_THAT(Keys(sn()), ::testing::Contains(target.string()));
  r = daemon_->Berth(mount);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(ReadFile(target / "new.txt"), "kept");
  // A relative target names the same mount; the snapshotter comes from the lease.
  r = e2e::Run({"sh", "-c", "cd \"$0\" && exec \"$@\"", dir_->path().string(),
                BerthBin(), "--address", daemon_->socket().string(), "images", "unmount",
                "rootfs"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(MountsUnder(target), IsEmpty());
  EXPECT_THAT(Keys(sn()), Not(::testing::Contains(target.string())));
  EXPECT_THAT(daemon_->Berth({"leases", "ls", "-q"}).out, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Snapshotters, BerthSnapshotsCliParamTest,
                         ::testing::Values("overlayfs", "native"),
                         [](const auto& param) { return param.param; });

TEST_F(BerthSnapshotsCliTest, ImageMountErrors) {
  const fs::path target = dir_->path() / "t";
  fs::create_directories(target);
  auto r = daemon_->Berth({"images", "mount", "no/such:image", target.string()});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("not found"));
  EXPECT_THAT(r.err, HasSubstr("no/such:image"));
  r = daemon_->Berth({"images", "mount", "no/such:image", (dir_->path() / "missing").string()});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("not a directory"));
  // Arguments swapped: said so.
  r = daemon_->Berth({"images", "mount", target.string(), "no/such:image"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("the arguments are IMAGE-REF TARGET"));
  r = daemon_->Berth({"images", "mount", "--platform", "linux//x", "img", target.string()});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("invalid platform"));
  r = daemon_->Berth({"images", "unmount", target.string()});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("nothing is mounted"));
  EXPECT_THAT(daemon_->Berth({"leases", "ls", "-q"}).out, IsEmpty());
}

// An image pulled (and unpacked) by the real ctr from a registry on loopback, into both
// snapshotters, mounted by berth.
TEST_F(BerthSnapshotsCliTest, ImageMountOfAnImagePulledByCtr) {
  MkimageOptions opts;
  opts.layers = 3;
  opts.greeting = "hello from the registry";
  const fs::path layout = BuildTestImage(dir_->path() / "layout", opts);
  ASSERT_FALSE(layout.empty());
  auto registry = TestRegistry::Start(dir_->path() / "registry");
  ASSERT_NE(registry, nullptr);
  std::string err;
  ASSERT_TRUE(registry->Push(layout, "latest", "berth/mount:1", &err)) << err;
  const std::string ref = registry->Ref("berth/mount:1");

  // The chain id from the layout's config, computed here with sha256sum.
  const std::string manifest_digest = LayoutManifestDigest(layout, "latest");
  auto manifest = nlohmann::json::parse(ReadFile(LayoutBlobPath(layout, manifest_digest)));
  auto config = nlohmann::json::parse(
      ReadFile(LayoutBlobPath(layout, manifest["config"]["digest"].get<std::string>())));
  std::string chain;
  for (const auto& diff : config["rootfs"]["diff_ids"]) {
    chain = chain.empty() ? diff.get<std::string>() : Sha256sum(chain + " " + diff.get<std::string>());
  }
  ASSERT_EQ(config["rootfs"]["diff_ids"].size(), 3u);

  for (const std::string sn : {"overlayfs", "native"}) {
    SCOPED_TRACE(sn);
    auto r = daemon_->Ctr({"images", "pull", "--plain-http", "--snapshotter", sn, ref});
    ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
    // Unpacked: one committed snapshot per layer.
    r = Snap(sn, {"ls", "-q", "kind==committed"});
    ASSERT_EQ(Lines(r.out).size(), 3u) << Describe(r);

    const fs::path target = dir_->path() / ("rootfs-" + sn);
    fs::create_directories(target);
    r = daemon_->Berth({"images", "mount", "--snapshotter", sn, ref, target.string()});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(r.out, chain + "\n" + target.string() + "\n");
    // A view of the top layer's snapshot.
    r = Snap(sn, {"ls", "-q", "parent==" + chain});
    EXPECT_EQ(Lines(r.out), std::vector<std::string>({target.string()})) << Describe(r);
    EXPECT_EQ(ReadFile(target / "hello.txt"), "hello from the registry\n");
    EXPECT_TRUE(fs::exists(target / "bin" / "busybox") || fs::exists(target / "bin" / "sh"));
    EXPECT_NE(e2e::Run({"touch", (target / "x").string()}).exit_code, 0);

    r = daemon_->Berth({"images", "unmount", target.string()});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(MountsUnder(target), IsEmpty());
    EXPECT_THAT(Keys(sn), Not(::testing::Contains(target.string())));
  }
  EXPECT_THAT(daemon_->Berth({"leases", "ls", "-q"}).out, IsEmpty());
}

}  // namespace
}  // namespace berth::e2e
