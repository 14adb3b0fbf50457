// Storage core acceptance with the real ctr and a real registry on loopback: fetch stores
// every blob, content is shared across namespaces and stored once, and GC removes blobs
// from disk once no image or lease holds them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

class StorageRegistryE2E : public BerthdTest {
 protected:
  void SetUp() override {
    BerthdTest::SetUp();
    MkimageOptions opts;
    opts.layers = 3;
    layout_ = BuildTestImage(dir_->path() / "layout", opts);
    ASSERT_FALSE(layout_.empty());
    registry_ = TestRegistry::Start(dir_->path() / "registry");
    ASSERT_NE(registry_, nullptr);
    std::string err;
    ASSERT_TRUE(registry_->Push(layout_, "latest", "berth/test:1", &err)) << err;
    ref_ = registry_->Ref("berth/test:1");
  }
  void TearDown() override {
    registry_.reset();
    BerthdTest::TearDown();
  }

  // Digests of every blob in the layout: manifest, config, layers.
  std::set<std::string> LayoutDigests() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(layout_ / "blobs" / "sha256")) {
      out.insert("sha256:" + e.path().filename().string());
    }
    return out;
  }
  std::set<std::string> BlobFilesOnDisk() const {
    std::set<std::string> out;
    fs::path dir = daemon_->root() / "content" / "blobs" / "sha256";
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) out.insert("sha256:" + e.path().filename().string());
    return out;
  }
  std::set<std::string> ContentLs(const std::string& ns) const {
    auto r = daemon_->Ctr({"-n", ns, "content", "ls", "-q"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    std::set<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.insert(line);
    }
    return out;
  }
  // Waits for the background GC (debounced) to settle the disk to `want`.
  bool WaitForDisk(const std::set<std::string>& want) const {
    for (int i = 0; i < 100; ++i) {
      if (BlobFilesOnDisk() == want) return true;
      std::this_thread::sleep_for(50ms);
    }
    return BlobFilesOnDisk() == want;
  }

  fs::path layout_;
  std::unique_ptr<TestRegistry> registry_;
  std::string ref_;
};

TEST_F(StorageRegistryE2E, CtrContentFetchStoresEveryBlob) {
  auto r = daemon_->Ctr({"content", "fetch", "--plain-http", ref_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  std::set<std::string> want = LayoutDigests();
  EXPECT_EQ(ContentLs("default"), want);
  EXPECT_EQ(BlobFilesOnDisk(), want);

  // Every blob reads back byte-identical.
  for (const auto& d : want) {
    auto get = e2e::Run({"sh", "-c", CtrBin() + " --address " + daemon_->socket().string() +
                                     " content get " + d + " | sha256sum"});
    ASSERT_EQ(get.exit_code, 0) << Describe(get);
    EXPECT_EQ("sha256:" + get.out.substr(0, 64), d);
  }

  // The image record points at the manifest.
  r = daemon_->Ctr({"images", "ls"});
  EXPECT_THAT(r.out, HasSubstr(ref_));
  EXPECT_THAT(r.out, HasSubstr(LayoutManifestDigest(layout_, "latest")));

  // content rm of an unreferenced... here: rm every blob, then nothing is listed.
  for (const auto& d : want) {
    r = daemon_->Ctr({"content", "rm", d});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
  }
  EXPECT_TRUE(ContentLs("default").empty());
}

TEST_F(StorageRegistryE2E, DeletingTheLastReferenceRemovesBlobsFromDisk) {
  ASSERT_EQ(daemon_->Ctr({"content", "fetch", "--plain-http", ref_}).exit_code, 0);
  ASSERT_EQ(BlobFilesOnDisk(), LayoutDigests());
  // A lease holding one layer keeps just that one.
  auto lease = daemon_->Ctr({"leases", "create", "--id", "keep"});
  ASSERT_EQ(lease.exit_code, 0) << Describe(lease);
  auto layers = LayoutLayers(layout_, "latest");
  ASSERT_FALSE(layers.empty());
  // ctr has no verb to add a lease resource: through the API.
  {
    auto channel = grpc::CreateChannel("unix:" + daemon_->socket().string(), grpc::InsecureChannelCredentials());
    auto stub = containerd::services::leases::v1::Leases::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.AddMetadata("containerd-namespace", "default");
    containerd::services::leases::v1::AddResourceRequest req;
    req.set_id("keep");
    req.mutable_resource()->set_type("content");
    req.mutable_resource()->set_id(layers[0].second);
    google::protobuf::Empty resp;
    grpc::Status st = stub->AddResource(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  auto r = daemon_->Ctr({"images", "rm", "--sync", ref_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(WaitForDisk({layers[0].second})) << "on disk: " << ::testing::PrintToString(BlobFilesOnDisk());

  ASSERT_EQ(daemon_->Ctr({"leases", "rm", "--sync", "keep"}).exit_code, 0);
  EXPECT_TRUE(WaitForDisk({}));
}

TEST_F(StorageRegistryE2E, ImageRemovalCollectsEveryBlobAndRestartCollectsOrphans) {
  ASSERT_EQ(daemon_->Ctr({"content", "fetch", "--plain-http", ref_}).exit_code, 0);
  ASSERT_EQ(BlobFilesOnDisk(), LayoutDigests());
  // Without --sync the collection runs in the background, shortly after.
  ASSERT_EQ(daemon_->Ctr({"images", "rm", ref_}).exit_code, 0);
  EXPECT_TRUE(WaitForDisk({})) << "on disk: " << ::testing::PrintToString(BlobFilesOnDisk());
  EXPECT_TRUE(ContentLs("default").empty());

  // A blob file nobody owns (what a crash between rename and commit would leave) is collected
  // after a restart.
  ASSERT_EQ(daemon_->Stop(), 0);
  fs::path orphan = daemon_->root() / "content" / "blobs" / "sha256" /
                    "0000000000000000000000000000000000000000000000000000000000000000";
  fs::create_directories(orphan.parent_path());
  { std::ofstream(orphan) << "orphan"; }
  daemon_->Start();
  EXPECT_TRUE(WaitForDisk({}));
}

TEST_F(StorageRegistryE2E, SameBlobInTwoNamespacesIsStoredOnce) {
  ASSERT_EQ(daemon_->Ctr({"-n", "ns1", "content", "fetch", "--plain-http", ref_}).exit_code, 0);
  ASSERT_EQ(daemon_->Ctr({"-n", "ns2", "content", "fetch", "--plain-http", ref_}).exit_code, 0);
  std::set<std::string> want = LayoutDigests();
  EXPECT_EQ(ContentLs("ns1"), want);
  EXPECT_EQ(ContentLs("ns2"), want);
  EXPECT_EQ(BlobFilesOnDisk(), want) << "one file per blob, whatever the namespaces";

  // Removing it in one namespace leaves the other intact.
  ASSERT_EQ(daemon_->Ctr({"-n", "ns1", "images", "rm", "--sync", ref_}).exit_code, 0);
  for (const auto& d : want) daemon_->Ctr({"-n", "ns1", "content", "rm", d});
  EXPECT_TRUE(ContentLs("ns1").empty());
  EXPECT_EQ(ContentLs("ns2"), want);
  EXPECT_TRUE(WaitForDisk(want));
  std::string manifest = LayoutManifestDigest(layout_, "latest");
  auto get = e2e::Run({"sh", "-c", CtrBin() + " --address " + daemon_->socket().string() +
                                  " -n ns2 content get " + manifest + " | sha256sum"});
  EXPECT_EQ("sha256:" + get.out.substr(0, 64), manifest);

  // And a namespace that still holds blobs cannot be removed.
  auto rm = daemon_->Ctr({"namespaces", "rm", "ns2"});
  EXPECT_NE(rm.exit_code, 0);
  EXPECT_THAT(rm.err, HasSubstr("must be empty"));
}

}  // namespace
}  // namespace berth::e2e
