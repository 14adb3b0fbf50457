// TasksService over a fake control::TaskOps: the request decoded into the call, the reply
// encoded, errors mapped to containerd's codes and texts. A task's own calls (State) go to a
// stand-in shim: a ttrpc server on an event loop of its own.
#include "services/tasks_service.h"

#include <stdlib.h>

#include <gtest/gtest.h>
#include <grpcpp/server_context.h>
#include <grpcpp/test/server_context_test_spouse.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "services/request_context.h"
#include "ttrpc/client.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/server.h"

namespace berth::services {
namespace {

namespace shimapi = containerd::task::v2;

// Answers containerd.task.v2.Task/State for any id: pid 4242, running, with its stdio.
class FakeShim {
 public:
  FakeShim() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "berth-tasks-service-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    socket_ = (dir_ / "shim.sock").string();
    auto loop = ttrpc::EventLoop::Create();
    EXPECT_TRUE(loop.ok()) << loop.status().ToString();
    loop_ = std::move(loop).value();
    server_ = std::make_unique<ttrpc::Server>(*loop_);
    server_->RegisterUnary<shimapi::StateRequest, shimapi::StateResponse>(
        "containerd.task.v2.Task", "State",
        [](const ttrpc::CallContext&, const shimapi::StateRequest& req) -> Result<shimapi::StateResponse> {
          shimapi::StateResponse resp;
          resp.set_id(req.id());
          resp.set_exec_id(req.exec_id());
          resp.set_pid(4242);
          resp.set_status(containerd::v1::types::RUNNING);
          resp.set_stdout("/fifo/out");
          resp.set_terminal(true);
          return resp;
        });
    Status st = server_->Listen(socket_);
    EXPECT_TRUE(st.ok()) << st.ToString();
    thread_ = std::thread([this] {
      Status run = loop_->Run();
      EXPECT_TRUE(run.ok()) << run.ToString();
    });
  }

  ~FakeShim() {
    // The server belongs to the loop thread.
    std::promise<void> done;
    loop_->Post([&] {
      server_.reset();
      done.set_value();
    });
    done.get_future().wait();
    loop_->Stop();
    thread_.join();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A ShimTask connected to this shim.
  std::shared_ptr<runtime::ShimTask> Task(const std::string& ns, const std::string& id) {
    auto client = ttrpc::Client::Connect(*loop_, socket_);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    if (!client.ok()) return nullptr;
    return std::make_shared<runtime::ShimTask>(runtime::Bundle{ns, id, dir_}, "fake-shim", *client);
  }

 private:
  std::filesystem::path dir_;
  std::string socket_;
  std::unique_ptr<ttrpc::EventLoop> loop_;
  std::unique_ptr<ttrpc::Server> server_;
  std::thread thread_;
};

// Records what it was asked and answers what the test set.
class FakeTasks final : public control::TaskOps {
 public:
  Result<control::CreatedTask> Create(const std::string& ns, const control::TaskRequest& req) override {
    created_ns = ns;
    created = req;
    return create_result;
  }
  Result<uint32_t> Start(const std::string& ns, const std::string& id, const std::string& exec_id) override {
    started = ns + "/" + id + "/" + exec_id;
    return start_result;
  }
  Status Exec(const std::string& ns, const std::string& id, const shimapi::ExecProcessRequest& req) override {
    ++exec_calls;
    exec_seen = ns + "/" + id + "/" + req.exec_id();
    return Status::Ok();
  }
  Result<std::shared_ptr<runtime::ShimTask>> Get(const std::string& ns, const std::string& id) const override {
    if (task == nullptr || task->ns() != ns || task->id() != id) return NotFound("container {}", id);
    return task;
  }
  std::vector<std::shared_ptr<runtime::ShimTask>> List(const std::string&) const override { return {}; }
  Result<shimapi::DeleteResponse> Delete(const std::string&, const std::string&) override { return delete_result; }
  Result<std::vector<checkpoint::Blob>> Checkpoint(const std::string&, const control::CheckpointRequest& req) override {
    checkpointed = req;
    return checkpoint_result;
  }

  Result<control::CreatedTask> create_result = control::CreatedTask{nullptr, 0};
  Result<uint32_t> start_result = uint32_t{0};
  Result<shimapi::DeleteResponse> delete_result = shimapi::DeleteResponse();
  Result<std::vector<checkpoint::Blob>> checkpoint_result = std::vector<checkpoint::Blob>{};
  std::shared_ptr<runtime::ShimTask> task;

  std::string created_ns;
  control::TaskRequest created;
  std::string started;
  int exec_calls = 0;
  std::string exec_seen;
  control::CheckpointRequest checkpointed;
};

class TasksServiceTest : public ::testing::Test {
 protected:
  // A request context in namespace `ns` (none when empty), optionally under a lease.
  grpc::ServerContext* Ctx(const std::string& ns, const std::string& lease = "") {
    contexts_.push_back(std::make_unique<grpc::ServerContext>());
    spouses_.push_back(std::make_unique<grpc::testing::ServerContextTestSpouse>(contexts_.back().get()));
    if (!ns.empty()) spouses_.back()->AddClientMetadata(kNamespaceHeader, ns);
    if (!lease.empty()) spouses_.back()->AddClientMetadata(kLeaseHeader, lease);
    return contexts_.back().get();
  }

  // Declared first, destroyed last: the tasks' connections close before the shim's loop stops.
  FakeShim shim_;
  FakeTasks tasks_;
  TasksService service_{tasks_};
  std::vector<std::unique_ptr<grpc::ServerContext>> contexts_;
  std::vector<std::unique_ptr<grpc::testing::ServerContextTestSpouse>> spouses_;
};

TEST_F(TasksServiceTest, CreateDecodesTheRequestAndAnswersThePid) {
  tasks_.create_result = control::CreatedTask{nullptr, 1234};
  tasksapi::CreateTaskRequest req;
  req.set_container_id("c1");
  req.set_stdin("/fifo/in");
  req.set_stdout("/fifo/out");
  req.set_terminal(true);
  auto* m = req.add_rootfs();
  m->set_type("overlay");
  m->set_source("overlay");
  m->add_options("lowerdir=/a");
  m->add_options("upperdir=/b");
  tasksapi::CreateTaskResponse resp;
  grpc::Status st = service_.Create(Ctx("ns1"), &req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.container_id(), "c1");
  EXPECT_EQ(resp.pid(), 1234u);
  EXPECT_EQ(tasks_.created_ns, "ns1");
  EXPECT_EQ(tasks_.created.container_id, "c1");
  EXPECT_EQ(tasks_.created.stdin_path, "/fifo/in");
  EXPECT_EQ(tasks_.created.stdout_path, "/fifo/out");
  EXPECT_TRUE(tasks_.created.terminal);
  ASSERT_EQ(tasks_.created.rootfs.size(), 1u);
  EXPECT_EQ(tasks_.created.rootfs[0], (mount::Mount{"overlay", "overlay", {"lowerdir=/a", "upperdir=/b"}}));
  EXPECT_FALSE(tasks_.created.checkpoint.has_value());
  EXPECT_FALSE(tasks_.created.options.has_value());
}

TEST_F(TasksServiceTest, CreateWithACheckpointPassesItsDescriptor) {
  tasksapi::CreateTaskRequest req;
  req.set_container_id("c1");
  req.mutable_checkpoint()->set_media_type("application/vnd.containerd.container.criu.checkpoint.criu.tar");
  req.mutable_checkpoint()->set_digest("sha256:abc");
  req.mutable_checkpoint()->set_size(42);
  tasksapi::CreateTaskResponse resp;
  ASSERT_TRUE(service_.Create(Ctx("ns1"), &req, &resp).ok());
  ASSERT_TRUE(tasks_.created.checkpoint.has_value());
  EXPECT_EQ(tasks_.created.checkpoint->digest, "sha256:abc");
  EXPECT_EQ(tasks_.created.checkpoint->size, 42);
}

TEST_F(TasksServiceTest, ErrorsMapToContainerdCodesAndTexts) {
  tasksapi::CreateTaskRequest req;
  req.set_container_id("c1");
  tasksapi::CreateTaskResponse resp;

  // No namespace: containerd's NamespaceRequired, before the task layer is asked.
  grpc::Status st = service_.Create(Ctx(""), &req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(), "namespace is required: failed precondition");
  EXPECT_TRUE(tasks_.created_ns.empty());

  tasks_.create_result = AlreadyExists("task {}", "c1");
  st = service_.Create(Ctx("ns1"), &req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(st.error_message(), "task c1: already exists");

  tasks_.start_result = FailedPrecondition("task {} is not created", "c1");
  tasksapi::StartRequest start;
  start.set_container_id("c1");
  tasksapi::StartResponse started;
  st = service_.Start(Ctx("ns1"), &start, &started);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(), "task c1 is not created: failed precondition");

  tasksapi::GetRequest get;
  get.set_container_id("nope");
  tasksapi::GetResponse got;
  st = service_.Get(Ctx("ns1"), &get, &got);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "container nope: not found");

  // An exec without an id is refused before anything else.
  tasksapi::ExecProcessRequest exec;
  exec.set_container_id("c1");
  google::protobuf::Empty empty;
  st = service_.Exec(Ctx(""), &exec, &empty);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "exec id cannot be empty: invalid argument");
  EXPECT_EQ(tasks_.exec_calls, 0);

  tasks_.delete_result = Unknown("shim gone");
  tasksapi::DeleteTaskRequest del;
  del.set_container_id("c1");
  tasksapi::DeleteResponse deleted;
  st = service_.Delete(Ctx("ns1"), &del, &deleted);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message(), "shim gone");
}

TEST_F(TasksServiceTest, GetReportsTheShimsViewOfTheProcess) {
  tasks_.task = shim_.Task("ns1", "c1");
  ASSERT_NE(tasks_.task, nullptr);
  tasksapi::GetRequest req;
  req.set_container_id("c1");
  tasksapi::GetResponse resp;
  grpc::Status st = service_.Get(Ctx("ns1"), &req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.process().id(), "c1");
  EXPECT_EQ(resp.process().pid(), 4242u);
  EXPECT_EQ(resp.process().status(), containerd::v1::types::RUNNING);
  EXPECT_EQ(resp.process().stdout(), "/fifo/out");
  EXPECT_TRUE(resp.process().terminal());

  // An exec is reported under its own id.
  req.set_exec_id("e1");
  st = service_.Get(Ctx("ns1"), &req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.process().id(), "e1");

  // Another namespace does not see it.
  st = service_.Get(Ctx("ns2"), &req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(TasksServiceTest, StartExecDeleteAndCheckpointPassThrough) {
  tasks_.start_result = uint32_t{77};
  tasksapi::StartRequest start;
  start.set_container_id("c1");
  start.set_exec_id("e1");
  tasksapi::StartResponse started;
  ASSERT_TRUE(service_.Start(Ctx("ns1"), &start, &started).ok());
  EXPECT_EQ(started.pid(), 77u);
  EXPECT_EQ(tasks_.started, "ns1/c1/e1");

  tasksapi::ExecProcessRequest exec;
  exec.set_container_id("c1");
  exec.set_exec_id("e1");
  google::protobuf::Empty empty;
  ASSERT_TRUE(service_.Exec(Ctx("ns1"), &exec, &empty).ok());
  EXPECT_EQ(tasks_.exec_seen, "ns1/c1/e1");

  shimapi::DeleteResponse exit;
  exit.set_pid(77);
  exit.set_exit_status(3);
  tasks_.delete_result = exit;
  tasksapi::DeleteTaskRequest del;
  del.set_container_id("c1");
  tasksapi::DeleteResponse deleted;
  ASSERT_TRUE(service_.Delete(Ctx("ns1"), &del, &deleted).ok());
  EXPECT_EQ(deleted.pid(), 77u);
  EXPECT_EQ(deleted.exit_status(), 3u);

  tasks_.checkpoint_result = std::vector<checkpoint::Blob>{{"application/x-criu", "sha256:aa", 10},
                                                           {"application/x-spec", "sha256:bb", 20}};
  tasksapi::CheckpointTaskRequest cp;
  cp.set_container_id("c1");
  tasksapi::CheckpointTaskResponse cp_resp;
  ASSERT_TRUE(service_.Checkpoint(Ctx("ns1", "lease1"), &cp, &cp_resp).ok());
  EXPECT_EQ(tasks_.checkpointed.container_id, "c1");
  EXPECT_EQ(tasks_.checkpointed.lease, std::optional<std::string>("lease1"));
  ASSERT_EQ(cp_resp.descriptors_size(), 2);
  EXPECT_EQ(cp_resp.descriptors(0).digest(), "sha256:aa");
  EXPECT_EQ(cp_resp.descriptors(1).media_type(), "application/x-spec");
  EXPECT_EQ(cp_resp.descriptors(1).size(), 20);
}

}  // namespace
}  // namespace berth::services
