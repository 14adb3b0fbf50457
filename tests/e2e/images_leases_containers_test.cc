// Images, leases and containers through the real ctr (and, where ctr cannot create the
// object without content or snapshots, through the gRPC API directly) against a real berthd.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/images/v1/images.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "harness.h"

namespace berth::e2e {
namespace {

using namespace std::chrono_literals;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

namespace imagesapi = containerd::services::images::v1;
namespace leasesapi = containerd::services::leases::v1;
namespace containersapi = containerd::services::containers::v1;

constexpr const char* kDigest =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kSpecType = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
constexpr const char* kSpecJson =
    R"({"ociVersion":"1.0.2-dev","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}})";

// Raw gRPC stubs on the daemon's socket; each call in namespace "default" like ctr's.
class Api {
 public:
  explicit Api(const std::filesystem::path& socket)
      : channel_(grpc::CreateChannel("unix:" + socket.string(), grpc::InsecureChannelCredentials())),
        images(imagesapi::Images::NewStub(channel_)),
        leases(leasesapi::Leases::NewStub(channel_)),
        containers(containersapi::Containers::NewStub(channel_)) {}

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& ns = "default") const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!ns.empty()) ctx->AddMetadata("containerd-namespace", ns);
    ctx->set_deadline(std::chrono::system_clock::now() + 30s);
    return ctx;
  }

  grpc::Status CreateImage(const std::string& name, const std::string& ns = "default") {
    imagesapi::CreateImageRequest req;
    req.mutable_image()->set_name(name);
    auto* t = req.mutable_image()->mutable_target();
    t->set_media_type(kManifest);
    t->set_digest(kDigest);
    t->set_size(1234);
    imagesapi::CreateImageResponse resp;
    return images->Create(Ctx(ns).get(), req, &resp);
  }

  grpc::Status CreateContainer(const std::string& id, containersapi::Container* out = nullptr,
                               const std::string& ns = "default") {
    containersapi::CreateContainerRequest req;
    auto* c = req.mutable_container();
    c->set_id(id);
    c->set_image("docker.io/library/busybox:latest");
    c->mutable_runtime()->set_name("io.containerd.runc.v2");
    c->mutable_spec()->set_type_url(kSpecType);
    c->mutable_spec()->set_value(kSpecJson);
    (*c->mutable_labels())["team"] = "berth";
    containersapi::CreateContainerResponse resp;
    grpc::Status st = containers->Create(Ctx(ns).get(), req, &resp);
    if (out != nullptr) *out = resp.container();
    return st;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;

 public:
  std::unique_ptr<imagesapi::Images::Stub> images;
  std::unique_ptr<leasesapi::Leases::Stub> leases;
  std::unique_ptr<containersapi::Containers::Stub> containers;
};

class ImagesLeasesContainersTest : public BerthdTest {
 protected:
  void SetUp() override {
    BerthdTest::SetUp();
    api_ = std::make_unique<Api>(daemon_->socket());
  }

  // `ctr events` started and known to be subscribed (a marker namespace event shows up).
  std::unique_ptr<BackgroundProcess> Subscribe() {
    auto p = std::make_unique<BackgroundProcess>(daemon_->CtrArgv({"events"}),
                                                 dir_->path() / "events.out");
    for (int i = 0; i < 100; ++i) {
      daemon_->Ctr({"namespaces", "create", "marker" + std::to_string(i)});
      if (p->WaitForOutput("marker" + std::to_string(i), 100ms)) return p;
    }
    ADD_FAILURE() << "ctr events never subscribed:\n" << p->Output();
    return p;
  }

  std::unique_ptr<Api> api_;
};

TEST_F(ImagesLeasesContainersTest, PluginsListStorageServices) {
  auto r = daemon_->Ctr({"plugins", "ls", "type==io.containerd.grpc.v1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* id : {"images", "leases", "containers"}) {
    EXPECT_THAT(r.out, ContainsRegex(std::string(" ") + id + " +.* ok")) << id;
  }
}

// ---- leases ----

TEST_F(ImagesLeasesContainersTest, CtrLeasesCreateListRemove) {
  auto r = daemon_->Ctr({"leases", "create", "--id", "l1", "x=y"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "l1\n");

  // Without --id the daemon makes one; the default --expires becomes the gc.expire label.
  r = daemon_->Ctr({"leases", "create"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::string generated = r.out.substr(0, r.out.find('\n'));
  EXPECT_THAT(generated, ::testing::MatchesRegex("[0-9]+-[A-Za-z0-9_-]{4}"));

  r = daemon_->Ctr({"leases", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("ID"));
  EXPECT_THAT(r.out, ContainsRegex("l1 +[0-9TZ:+-]+ +containerd.io/gc.expire=[0-9TZ:.+-]+,x=y"));
  EXPECT_THAT(r.out, HasSubstr(generated));

  r = daemon_->Ctr({"leases", "ls", "-q", "labels.x==y"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "l1\n");

  r = daemon_->Ctr({"leases", "create", "--id", "l1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("lease \"l1\": already exists"));

  r = daemon_->Ctr({"leases", "rm", "l1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Ctr({"leases", "rm", "--sync", generated});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Ctr({"leases", "ls", "-q"});
  EXPECT_EQ(r.out, "");

  r = daemon_->Ctr({"leases", "rm", "l1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("lease \"l1\": not found"));
}

TEST_F(ImagesLeasesContainersTest, LeaseResourcesOverGrpc) {
  leasesapi::CreateRequest create;
  create.set_id("held");
  leasesapi::CreateResponse created;
  ASSERT_TRUE(api_->leases->Create(api_->Ctx().get(), create, &created).ok());
  EXPECT_EQ(created.lease().id(), "held");
  EXPECT_GT(created.lease().created_at().seconds(), 0);

  leasesapi::AddResourceRequest add;
  add.set_id("held");
  add.mutable_resource()->set_type("content");
  add.mutable_resource()->set_id(kDigest);
  google::protobuf::Empty empty;
  ASSERT_TRUE(api_->leases->AddResource(api_->Ctx().get(), add, &empty).ok());
  add.mutable_resource()->set_type("snapshots/overlayfs");
  add.mutable_resource()->set_id("key");
  ASSERT_TRUE(api_->leases->AddResource(api_->Ctx().get(), add, &empty).ok());

  leasesapi::ListResourcesRequest list;
  list.set_id("held");
  leasesapi::ListResourcesResponse listed;
  ASSERT_TRUE(api_->leases->ListResources(api_->Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.resources_size(), 2);
  EXPECT_EQ(listed.resources(0).type(), "content");
  EXPECT_EQ(listed.resources(1).type(), "snapshots/overlayfs");

  leasesapi::DeleteResourceRequest del;
  del.set_id("held");
  *del.mutable_resource() = add.resource();
  ASSERT_TRUE(api_->leases->DeleteResource(api_->Ctx().get(), del, &empty).ok());
  listed.Clear();
  ASSERT_TRUE(api_->leases->ListResources(api_->Ctx().get(), list, &listed).ok());
  EXPECT_EQ(listed.resources_size(), 1);

  add.set_id("ghost");
  grpc::Status st = api_->leases->AddResource(api_->Ctx().get(), add, &empty);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "lease \"ghost\": not found");
  add.set_id("held");
  add.mutable_resource()->set_type("volumes");
  EXPECT_EQ(api_->leases->AddResource(api_->Ctx().get(), add, &empty).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  add.mutable_resource()->set_type("content");
  add.mutable_resource()->set_id("not-a-digest");
  EXPECT_EQ(api_->leases->AddResource(api_->Ctx().get(), add, &empty).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // No namespace: containerd's FailedPrecondition.
  leasesapi::ListRequest all;
  leasesapi::ListResponse leases;
  EXPECT_EQ(api_->leases->List(api_->Ctx("").get(), all, &leases).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// ---- containers ----

TEST_F(ImagesLeasesContainersTest, ContainersThroughCtr) {
  auto events = Subscribe();
  containersapi::Container created;
  grpc::Status st = api_->CreateContainer("web1", &created);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(created.id(), "web1");
  EXPECT_GT(created.created_at().seconds(), 0);
  ASSERT_TRUE(api_->CreateContainer("db1").ok());

  auto r = daemon_->Ctr({"containers", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("CONTAINER"));
  EXPECT_THAT(r.out, ContainsRegex("web1 +docker.io/library/busybox:latest +io.containerd.runc.v2"));
  r = daemon_->Ctr({"containers", "ls", "-q"});
  EXPECT_EQ(r.out, "db1\nweb1\n");
  r = daemon_->Ctr({"containers", "ls", "-q", "id==web1"});
  EXPECT_EQ(r.out, "web1\n");

  r = daemon_->Ctr({"containers", "info", "web1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"ID\": \"web1\""));
  EXPECT_THAT(r.out, HasSubstr("\"Name\": \"io.containerd.runc.v2\""));
  EXPECT_THAT(r.out, HasSubstr("\"ociVersion\": \"1.0.2-dev\""));
  EXPECT_THAT(r.out, HasSubstr("\"team\": \"berth\""));
  r = daemon_->Ctr({"containers", "info", "--spec", "web1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"args\": ["));

  r = daemon_->Ctr({"containers", "label", "web1", "tier=front"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("tier=front"));
  EXPECT_THAT(r.out, HasSubstr("team=berth"));
  r = daemon_->Ctr({"containers", "label", "web1", "team="});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "tier=front\n");
  r = daemon_->Ctr({"containers", "ls", "-q", "labels.tier==front"});
  EXPECT_EQ(r.out, "web1\n");

  // ListStream, which Go clients try first.
  containersapi::ListContainersRequest list;
  list.add_filters("labels.team==berth");
  auto ctx = api_->Ctx();
  auto reader = api_->containers->ListStream(ctx.get(), list);
  containersapi::ListContainerMessage msg;
  std::vector<std::string> streamed;
  while (reader->Read(&msg)) streamed.push_back(msg.container().id());
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(streamed, std::vector<std::string>{"db1"});

  r = daemon_->Ctr({"containers", "rm", "web1", "db1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Ctr({"containers", "ls", "-q"});
  EXPECT_EQ(r.out, "");

  r = daemon_->Ctr({"containers", "info", "web1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("container \"web1\" in namespace \"default\": not found"));

  ASSERT_TRUE(events->WaitForOutput("/containers/delete", 10s)) << events->Output();
  std::string out = events->Output();
  EXPECT_THAT(out, ContainsRegex("default /containers/create .*web1"));
  EXPECT_THAT(out, ContainsRegex("default /containers/update .*tier"));
  EXPECT_THAT(out, ContainsRegex("default /containers/delete .*db1"));
}

TEST_F(ImagesLeasesContainersTest, ContainerErrors) {
  ASSERT_TRUE(api_->CreateContainer("c1").ok());
  grpc::Status st = api_->CreateContainer("c1");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(st.error_message(), "container \"c1\": already exists");

  st = api_->CreateContainer("bad/id");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("container.ID"));

  containersapi::CreateContainerRequest no_runtime;
  no_runtime.mutable_container()->set_id("c2");
  no_runtime.mutable_container()->mutable_spec()->set_type_url(kSpecType);
  containersapi::CreateContainerResponse resp;
  st = api_->containers->Create(api_->Ctx().get(), no_runtime, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("container.Runtime.Name must be set"));

  // The runtime cannot change.
  containersapi::UpdateContainerRequest upd;
  upd.mutable_container()->set_id("c1");
  upd.mutable_container()->mutable_runtime()->set_name("other");
  upd.mutable_update_mask()->add_paths("runtime");
  containersapi::UpdateContainerResponse updated;
  st = api_->containers->Update(api_->Ctx().get(), upd, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "cannot update \"runtime\" field on \"c1\": invalid argument");

  containersapi::GetContainerRequest get;
  get.set_id("ghost");
  containersapi::GetContainerResponse got;
  EXPECT_EQ(api_->containers->Get(api_->Ctx().get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  containersapi::DeleteContainerRequest del;
  del.set_id("ghost");
  google::protobuf::Empty empty;
  EXPECT_EQ(api_->containers->Delete(api_->Ctx().get(), del, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A namespace holding a container cannot be removed.
  auto r = daemon_->Ctr({"namespaces", "rm", "default"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("containers"));
}

// ---- images ----

TEST_F(ImagesLeasesContainersTest, ImagesThroughCtr) {
  auto events = Subscribe();
  ASSERT_TRUE(api_->CreateImage("docker.io/library/alpine:3.19").ok());
  ASSERT_TRUE(api_->CreateImage("example.com/app:1").ok());

  // The content is absent: ctr reports no size or platform but lists the record.
  auto r = daemon_->Ctr({"images", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("REF"));
  EXPECT_THAT(r.out, ContainsRegex(std::string("docker.io/library/alpine:3.19 +") +
                                   R"(application/vnd\.oci\.image\.manifest\.v1\+json +)" + kDigest));
  r = daemon_->Ctr({"images", "ls", "-q"});
  EXPECT_EQ(r.out, "docker.io/library/alpine:3.19\nexample.com/app:1\n");
  r = daemon_->Ctr({"images", "ls", "-q", "name~=example"});
  EXPECT_EQ(r.out, "example.com/app:1\n");

  r = daemon_->Ctr({"images", "label", "example.com/app:1", "stage=prod", "owner=me"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("stage=prod"));
  r = daemon_->Ctr({"images", "ls"});
  EXPECT_THAT(r.out, ContainsRegex("example.com/app:1 .*owner=me,stage=prod"));
  r = daemon_->Ctr({"images", "label", "example.com/app:1", "owner="});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "stage=prod\n");
  r = daemon_->Ctr({"images", "ls", "-q", "labels.stage==prod"});
  EXPECT_EQ(r.out, "example.com/app:1\n");

  r = daemon_->Ctr({"images", "rm", "example.com/app:1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "example.com/app:1\n");
  r = daemon_->Ctr({"images", "rm", "--sync", "docker.io/library/alpine:3.19"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Ctr({"images", "ls", "-q"});
  EXPECT_EQ(r.out, "");
  // ctr treats a missing image as a warning, as with containerd.
  r = daemon_->Ctr({"images", "rm", "example.com/app:1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("image not found"));

  ASSERT_TRUE(events->WaitForOutput("/images/delete", 10s)) << events->Output();
  std::string out = events->Output();
  EXPECT_THAT(out, ContainsRegex("default /images/create .*example.com/app:1"));
  EXPECT_THAT(out, ContainsRegex("default /images/update .*stage"));
  EXPECT_THAT(out, ContainsRegex("default /images/delete .*alpine"));
}

TEST_F(ImagesLeasesContainersTest, ImageErrors) {
  ASSERT_TRUE(api_->CreateImage("img").ok());
  grpc::Status st = api_->CreateImage("img");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(st.error_message(), "image \"img\": already exists");
  st = api_->CreateImage("");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  imagesapi::CreateImageRequest bad;
  bad.mutable_image()->set_name("bad-target");
  bad.mutable_image()->mutable_target()->set_digest("sha256:nope");
  imagesapi::CreateImageResponse resp;
  st = api_->images->Create(api_->Ctx().get(), bad, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("Target.Digest"));

  imagesapi::GetImageRequest get;
  get.set_name("ghost");
  imagesapi::GetImageResponse got;
  st = api_->images->Get(api_->Ctx().get(), get, &got);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "image \"ghost\": not found");

  imagesapi::UpdateImageRequest upd;
  upd.mutable_image()->set_name("img");
  upd.mutable_update_mask()->add_paths("name");
  imagesapi::UpdateImageResponse updated;
  EXPECT_EQ(api_->images->Update(api_->Ctx().get(), upd, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  auto r = daemon_->Ctr({"images", "label", "ghost", "a=b"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("image \"ghost\": not found"));

  // Invalid namespace names are refused before any store is touched.
  st = api_->CreateImage("img", "bad/ns");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace berth::e2e
