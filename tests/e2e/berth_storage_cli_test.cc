// berth's storage commands (content, images, leases, containers) against a real berthd, with
// containerd's ctr as the reference where both can show the same thing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

constexpr const char* kGcRoot = "containerd.io/gc.root=test";

std::string Sha256Of(const fs::path& p) {
  auto r = e2e::Run({"sha256sum", p.string()}, 60s);
  return r.exit_code == 0 ? "sha256:" + r.out.substr(0, 64) : "";
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen() & 0xFF);
  return out;
}

fs::path WriteFile(const fs::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
  return p;
}

class BerthStorageCliTest : public BerthdTest {
 protected:
  // `berth content ingest` with stdin from `file` (or piped through cat: not seekable).
  CommandResult Ingest(const fs::path& file, const std::vector<std::string>& args,
                       bool pipe = false) {
    std::vector<std::string> argv = daemon_->BerthArgv({"content", "ingest"});
    argv.insert(argv.end(), args.begin(), args.end());
    std::string script = pipe ? "cat \"$0\" | \"$@\"" : "exec \"$@\" <\"$0\"";
    std::vector<std::string> cmd = {"sh", "-c", script, file.string()};
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    return e2e::Run(cmd);
  }

  // `berth content get DIGEST` into a file; the file's digest, "" on failure.
  std::string GetSha256(const std::string& digest) {
    fs::path out = dir_->path() / "get.out";
    std::vector<std::string> cmd = {"sh", "-c", "exec \"$@\" >\"$0\"", out.string()};
    auto argv = daemon_->BerthArgv({"content", "get", digest});
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    auto r = e2e::Run(cmd);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.exit_code == 0 ? Sha256Of(out) : "";
  }

  std::unique_ptr<client::Client> Connect() {
    auto c = client::Client::Connect(daemon_->socket().string(), "default");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
};

TEST_F(BerthStorageCliTest, ContentIngestGetListLabelRemove) {
  fs::path blob = WriteFile(dir_->path() / "blob", RandomBytes(2'500'000, 1));
  const std::string digest = Sha256Of(blob);
  auto r = Ingest(blob, {"ref1", "--expected-size", "2500000", "--label", kGcRoot});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_EQ(r.out, digest + "\n");
  EXPECT_EQ(GetSha256(digest), digest);

  // Ingesting what is there already is fine, and says which blob it is.
  r = Ingest(blob, {"ref2", "--expected-digest", digest});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, digest + "\n");

  // A wrong expected digest fails and commits nothing.
  fs::path other = WriteFile(dir_->path() / "other", "some other bytes");
  r = Ingest(other, {"ref3", "--expected-digest", digest.substr(0, 7) + std::string(64, '0')});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, ContainsRegex("^berth: ingest \"ref3\": .*")) << r.err;

  r = daemon_->Berth({"content", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("^DIGEST +SIZE +AGE +LABELS\n"));
  EXPECT_THAT(r.out, ContainsRegex(digest + " +2.5MB +(Less than a second|[0-9]+ seconds?) +" +
                                   "containerd.io/gc.root=test\n"));
  r = daemon_->Berth({"content", "ls", "-q"});
  EXPECT_EQ(r.out, digest + "\n") << Describe(r);
  r = daemon_->Berth({"content", "ls", "--format", "json"});
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(json.is_array() && json.size() == 1) << r.out;
  EXPECT_EQ(json[0]["digest"], digest);
  EXPECT_EQ(json[0]["size"], 2'500'000);
  r = daemon_->Berth({"content", "ls", "-q", "labels.\"containerd.io/gc.root\"==nope"});
  EXPECT_EQ(r.out, "") << "filters reach the daemon";

  // Labels: set, show, clear.
  r = daemon_->Berth({"content", "label", digest, "team=berth", "tier=1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "containerd.io/gc.root=test\nteam=berth\ntier=1\n");
  r = daemon_->Berth({"content", "label", digest, "tier="});
  EXPECT_EQ(r.out, "containerd.io/gc.root=test\nteam=berth\n") << Describe(r);
  r = daemon_->Berth({"content", "label", digest});
  EXPECT_EQ(r.out, "containerd.io/gc.root=test\nteam=berth\n") << Describe(r);
  r = daemon_->Ctr({"content", "ls"});
  EXPECT_THAT(r.out, HasSubstr("team=berth")) << "ctr sees berth's labels: " << Describe(r);

  // rm: a missing blob is an error, after removing the rest.
  const std::string missing = "sha256:" + std::string(64, 'a');
  r = daemon_->Berth({"content", "rm", missing, digest});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, digest + "\n");
  EXPECT_THAT(r.err, ContainsRegex("^berth: .*" + missing + ".*: not found\n$"));
  r = daemon_->Berth({"content", "ls", "-q"});
  EXPECT_EQ(r.out, "");
  r = daemon_->Berth({"content", "get", digest});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ContainsRegex("^berth: .*not found\n$"));
}

TEST_F(BerthStorageCliTest, ContentActiveAndResume) {
  const std::string data = RandomBytes(3'000'000, 2);
  fs::path blob = WriteFile(dir_->path() / "blob", data);
  const std::string digest = Sha256Of(blob);

  // Half of it written through the client library, the ingest left open.
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  std::istringstream half(data.substr(0, 1'500'000));
  client::ContentWriteRequest request{.ref = "resume-me", .expected = digest, .commit = false};
  auto written = client->WriteContent(half, request);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->offset, 1'500'000);

  auto r = daemon_->Berth({"content", "active"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("^REF +SIZE +AGE\nresume-me +1.5MB +"));
  r = daemon_->Berth({"content", "active", "-q"});
  EXPECT_EQ(r.out, "resume-me\n");
  r = daemon_->Ctr({"content", "active"});
  EXPECT_THAT(r.out, ContainsRegex("resume-me\\s+1.5MB")) << Describe(r);

  // The CLI resumes it: the daemon sees a write continuing at 1500000.
  r = Ingest(blob, {"resume-me", "--expected-digest", digest, "--label", kGcRoot});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_EQ(r.out, digest + "\n");
  EXPECT_THAT(daemon_->Log(), ContainsRegex("ref=default/resume-me offset=1500000 .*resumed=true"));
  EXPECT_EQ(GetSha256(digest), digest);
  r = daemon_->Berth({"content", "active", "-q"});
  EXPECT_EQ(r.out, "");

  // An open ingest holding other bytes: restarted when stdin is a file...
  std::istringstream wrong(RandomBytes(100'000, 3));
  ASSERT_TRUE(client->WriteContent(wrong, {.ref = "stale", .commit = false}).ok());
  fs::path small = WriteFile(dir_->path() / "small", RandomBytes(200'000, 4));
  r = Ingest(small, {"stale", "--label", kGcRoot});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, Sha256Of(small) + "\n");
  EXPECT_EQ(GetSha256(Sha256Of(small)), Sha256Of(small));

  // ... refused when it is a pipe, until the ingest is aborted.
  std::istringstream wrong2(RandomBytes(100'000, 5));
  ASSERT_TRUE(client->WriteContent(wrong2, {.ref = "stale2", .commit = false}).ok());
  r = Ingest(small, {"stale2"}, /*pipe=*/true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("holds 100000 bytes that are not how the input starts"));
  r = daemon_->Berth({"content", "abort", "stale2"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = Ingest(small, {"stale2"}, /*pipe=*/true);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_F(BerthStorageCliTest, LeasesCreateListResourcesRemove) {
  auto r = daemon_->Berth({"leases", "create", "--id", "l1", "--label", "a=b", "c=d"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "l1\n");
  r = daemon_->Berth({"leases", "create", "--expires", "0"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string generated = r.out.substr(0, r.out.size() - 1);
  EXPECT_FALSE(generated.empty());

  r = daemon_->Berth({"leases", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("^ID +CREATED AT +LABELS\n"));
  // --expires defaults to 24h, as ctr's.
  EXPECT_THAT(r.out, ContainsRegex("l1 +[0-9-]+T[0-9:]+(Z|[+-][0-9:]+) +a=b,c=d,"
                                   "containerd.io/gc.expire=[0-9-]+T[0-9:]+(Z|[+-][0-9:]+)\n"));
  EXPECT_THAT(r.out, ContainsRegex(generated + " +[^ ]+ +-\n"));
  r = daemon_->Berth({"leases", "ls", "-q", "id==l1"});
  EXPECT_EQ(r.out, "l1\n") << Describe(r);
  r = daemon_->Ctr({"leases", "ls", "-q"});
  EXPECT_THAT(r.out, HasSubstr("l1\n")) << Describe(r);

  // Content ingested under the lease joins it.
  fs::path blob = WriteFile(dir_->path() / "blob", "leased bytes\n");
  const std::string digest = Sha256Of(blob);
  r = Ingest(blob, {"--lease", "l1", "leased"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Berth({"leases", "resources", "l1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("^TYPE +ID\n"));
  EXPECT_THAT(r.out, ContainsRegex("content +" + digest + "\n"));

  const std::string other = "sha256:" + std::string(64, 'b');
  r = daemon_->Berth({"leases", "add-resource", "l1", "content", other});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Berth({"leases", "resources", "l1", "-q"});
  EXPECT_THAT(r.out, HasSubstr(other + "\n"));
  r = daemon_->Berth({"leases", "rm-resource", "l1", "content", other});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Berth({"leases", "resources", "l1", "--format", "json"});
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(json.is_array()) << r.out;
  for (const auto& res : json) EXPECT_NE(res["id"], other);

  r = daemon_->Berth({"leases", "resources", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not found"));

  // rm --sync: the lease goes, and with it the blob only it kept.
  r = daemon_->Berth({"leases", "rm", "--sync", "missing", "l1"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, "l1\n");
  EXPECT_EQ(r.err, "berth: lease \"missing\": not found\n");
  r = daemon_->Berth({"leases", "ls", "-q"});
  EXPECT_EQ(r.out, generated + "\n");
  r = daemon_->Berth({"content", "ls", "-q"});
  EXPECT_EQ(r.out, "") << "collected with its lease";
}

TEST_F(BerthStorageCliTest, ContainersListInfoLabelRemove) {
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  client::Container c;
  c.id = "c1";
  c.image = "docker.io/library/busybox:latest";
  c.runtime.name = "io.containerd.runc.v2";
  c.labels = {{"team", "berth"}};
  google::protobuf::Any spec;
  spec.set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Spec");
  spec.set_value(R"({"ociVersion":"1.0.2-dev","process":{"args":["sh"],"cwd":"/"}})");
  c.spec = spec;
  ASSERT_TRUE(client->CreateContainer(c).ok());
  c.id = "c2";
  c.image.clear();
  ASSERT_TRUE(client->CreateContainer(c).ok());

  auto r = daemon_->Berth({"containers", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out,
            "CONTAINER   IMAGE                              RUNTIME\n"
            "c1          docker.io/library/busybox:latest   io.containerd.runc.v2\n"
            "c2          -                                  io.containerd.runc.v2\n");
  r = daemon_->Berth({"containers", "ls", "-q", "image==docker.io/library/busybox:latest"});
  EXPECT_EQ(r.out, "c1\n") << Describe(r);

  r = daemon_->Berth({"containers", "info", "c1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto info = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(info.is_object()) << r.out;
  EXPECT_EQ(info["ID"], "c1");
  EXPECT_EQ(info["Runtime"]["Name"], "io.containerd.runc.v2");
  EXPECT_EQ(info["Labels"]["team"], "berth");
  EXPECT_EQ(info["Spec"]["process"]["args"][0], "sh");
  EXPECT_EQ(info["Spec"]["ociVersion"], "1.0.2-dev");
  // ctr's info of the same container reads the same.
  auto theirs = daemon_->Ctr({"containers", "info", "c1"});
  ASSERT_EQ(theirs.exit_code, 0) << Describe(theirs);
  auto ctr_info = nlohmann::json::parse(theirs.out, nullptr, false);
  ASSERT_TRUE(ctr_info.is_object()) << theirs.out;
  // (ctr re-encodes the spec through Go's struct, adding defaults: compare it by hand.)
  for (const char* key : {"ID", "Labels", "Image", "Runtime", "SnapshotKey", "Snapshotter",
                          "CreatedAt", "UpdatedAt", "Extensions"}) {
    EXPECT_EQ(info[key], ctr_info[key]) << key;
  }
  r = daemon_->Berth({"containers", "info", "--spec", "c1"});
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false)["ociVersion"], "1.0.2-dev");

  r = daemon_->Berth({"containers", "label", "c1", "env=prod"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "env=prod\nteam=berth\n");
  r = daemon_->Berth({"containers", "label", "c1", "team="});
  EXPECT_EQ(r.out, "env=prod\n") << Describe(r);
  r = daemon_->Ctr({"containers", "info", "c1"});
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false)["Labels"],
            nlohmann::json({{"env", "prod"}}))
      << Describe(r);

  r = daemon_->Berth({"containers", "info", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ContainsRegex("^berth: container \"nope\".*: not found\n$"));
  r = daemon_->Berth({"containers", "rm", "c1", "nope", "c2"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, "c1\nc2\n");
  EXPECT_THAT(r.err, ContainsRegex("^berth: container .*nope.*: not found\n$"));
  r = daemon_->Berth({"containers", "ls", "-q"});
  EXPECT_EQ(r.out, "");
}

// Real image content: an image pushed to a local registry, fetched by ctr into berthd.
class BerthStorageCliImagesTest : public BerthStorageCliTest {
 protected:
  void SetUp() override {
    for (const char* tool : {"/usr/bin/docker-registry", "/usr/bin/skopeo"}) {
      if (!fs::exists(tool)) GTEST_SKIP() << tool << " is not installed";
    }
    BerthStorageCliTest::SetUp();
    layout_ = BuildTestImage(dir_->path() / "img", {.tag = "v1", .layers = 2});
    ASSERT_FALSE(layout_.empty());
    registry_ = TestRegistry::Start(dir_->path() / "registry");
    ASSERT_NE(registry_, nullptr);
    std::string error;
    ASSERT_TRUE(registry_->Push(layout_, "v1", "busybox:v1", &error)) << error;
    ref_ = registry_->Ref("busybox:v1");
    auto r = daemon_->Ctr({"content", "fetch", "--plain-http", ref_}, 120s);
    ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  }

  // The cells of `ref`'s row in a table, cut where the header's columns start (ctr pads with
  // one space, berth with three, and sizes hold a space; headers must be one word).
  static std::vector<std::string> Row(const std::string& table, const std::string& ref) {
    std::istringstream lines(table);
    std::string header;
    std::getline(lines, header);
    std::vector<size_t> starts;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] != ' ' && (i == 0 || header[i - 1] == ' ')) starts.push_back(i);
    }
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with(ref + " ")) continue;
      std::vector<std::string> cells;
      for (size_t c = 0; c < starts.size() && starts[c] < line.size(); ++c) {
        size_t end = c + 1 < starts.size() ? starts[c + 1] : line.size();
        std::string cell = line.substr(starts[c], end - starts[c]);
        cell.erase(cell.find_last_not_of(' ') + 1);
        cells.push_back(cell);
      }
      return cells;
    }
    return {};
  }

  fs::path layout_;
  std::unique_ptr<TestRegistry> registry_;
  std::string ref_;
};

TEST_F(BerthStorageCliImagesTest, ListCheckLabelRemove) {
  const std::string manifest = LayoutManifestDigest(layout_, "v1");
  auto layers = LayoutLayers(layout_, "v1");
  ASSERT_EQ(layers.size(), 2u);

  auto r = daemon_->Berth({"images", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("^REF +TYPE +DIGEST +SIZE +PLATFORMS +LABELS\n"));
  auto ours = Row(r.out, ref_);
  ASSERT_EQ(ours.size(), 6u) << r.out;
  EXPECT_EQ(ours[2], manifest);
  EXPECT_THAT(ours[3], ContainsRegex("^[0-9]+\\.[0-9] (B|KiB|MiB)$"));
  EXPECT_THAT(ours[4], ContainsRegex("^linux/"));
  EXPECT_EQ(ours[5], "-");
  // Same type, digest, size and platforms as ctr's.
  auto theirs = daemon_->Ctr({"images", "ls"});
  ASSERT_EQ(theirs.exit_code, 0) << Describe(theirs);
  auto ctr_row = Row(theirs.out, ref_);
  ASSERT_GE(ctr_row.size(), 5u) << theirs.out;
  for (size_t i = 1; i < 5; ++i) EXPECT_EQ(ours[i], ctr_row[i]) << "column " << i;
  r = daemon_->Berth({"images", "ls", "-q"});
  EXPECT_EQ(r.out, ref_ + "\n");

  r = daemon_->Berth({"images", "check"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ContainsRegex("^REF +TYPE +DIGEST +STATUS +SIZE\n"));
  EXPECT_THAT(Row(r.out, ref_), ::testing::Contains("complete (3/3)")) << r.out;
  r = daemon_->Berth({"images", "check", "-q"});
  EXPECT_EQ(r.out, ref_ + "\n");

  // Without one of its layers the image is incomplete, for ctr too.
  r = daemon_->Berth({"content", "rm", layers[1].second});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Berth({"images", "check"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Row(r.out, ref_), ::testing::Contains("incomplete (2/3)")) << r.out;
  theirs = daemon_->Ctr({"images", "check"});
  EXPECT_THAT(theirs.out, HasSubstr("incomplete (2/3)")) << Describe(theirs);
  r = daemon_->Berth({"images", "check", "-q"});
  EXPECT_EQ(r.out, "");
  r = daemon_->Berth({"images", "check", "--format", "json"});
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(json.is_array() && json.size() == 1) << r.out;
  EXPECT_EQ(json[0]["missing"], nlohmann::json::array({layers[1].second}));

  // Without its manifest it is unavailable.
  r = daemon_->Berth({"content", "rm", manifest});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Berth({"images", "check"});
  EXPECT_THAT(Row(r.out, ref_), ::testing::Contains("unavailable (0/?)")) << r.out;

  r = daemon_->Berth({"images", "label", ref_, "team=berth"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "team=berth\n");
  r = daemon_->Berth({"images", "ls"});
  EXPECT_EQ(Row(r.out, ref_).back(), "team=berth") << r.out;
  r = daemon_->Berth({"images", "label", "nope", "a=b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "berth: image \"nope\": not found\n");

  // rm --sync: the image goes, and the garbage collection with it takes its blobs.
  r = daemon_->Berth({"images", "rm", "--sync", "nope", ref_});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, ref_ + "\n");
  EXPECT_EQ(r.err, "berth: image \"nope\": not found\n");
  r = daemon_->Berth({"images", "ls", "-q"});
  EXPECT_EQ(r.out, "");
  r = daemon_->Berth({"content", "ls", "-q"});
  EXPECT_EQ(r.out, "") << "collected with the image";
}

}  // namespace
}  // namespace berth::e2e
