// The REST API v1 of containerd 0.0.x (berthd --rest-address): the seed README's curl commands
// against a real bundle (made by `berth bundle create`), their answers in the seed's JSON shapes,
// the same containers seen through the gRPC API by the real ctr, the /events stream, clear JSON
// errors with the right codes, and nothing left behind after DELETE. Checkpoint and restore run
// end to end where criu works ($BERTH_CRIU, or `criu` on PATH, passing `criu check`); a criu that
// does not work is a 501 that names it, everywhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;

std::string Id(const std::string& name) { return name + "-" + std::to_string(::getpid()); }

// A criu that works here: $BERTH_CRIU, else `criu` on PATH, if `criu check` passes; "" and the
// reason otherwise.
std::string UsableCriu(std::string* why) {
  const char* env = std::getenv("BERTH_CRIU");
  const std::string criu = env != nullptr && *env != '\0' ? env : "criu";
  auto check = Run({criu, "check"}, std::chrono::seconds(60));
  if (check.exit_code != 0) {
    *why = "no working criu (`" + criu + " check`: " + Describe(check) + "); set BERTH_CRIU to one";
    return "";
  }
  return criu;
}

struct HttpResult {
  int code = 0;
  std::string body;
};

class RestApiE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_FALSE(SuiteImage::Ref().empty()); }
  static void TearDownTestSuite() { SuiteImage::Reset(); }

  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    daemon_ = std::make_unique<Berthd>(dir_->path() / "d", DaemonArgs());
    ASSERT_NO_FATAL_FAILURE(ReadRestBase());
    image_ = SuiteImage::Ref();
    auto pulled = daemon_->Ctr({"images", "pull", "--plain-http", image_}, std::chrono::seconds(120));
    ASSERT_EQ(pulled.exit_code, 0) << Describe(pulled);
    // The seed's bundle: /containers/redis, here under the test's dir.
    bundle_ = dir_->path() / "containers" / "redis";
    auto made = daemon_->Berth({"bundle", "create", image_, bundle_.string(), "--", "sleep", "100000"});
    ASSERT_EQ(made.exit_code, 0) << Describe(made);
  }
  void TearDown() override {
    if (daemon_) {
      for (const auto& id : {Id("redis"), Id("second")}) Curl("DELETE", "/containers/" + id);
      EXPECT_EQ(daemon_->Stop(), 0) << daemon_->Log();
      EXPECT_THAT(ProcessesMentioning(daemon_->socket().string()), ::testing::IsEmpty());
      for (const auto& id : {Id("redis"), Id("second")}) EXPECT_THAT(ContainerCgroupsLeft("default", id), ::testing::IsEmpty());
      RemoveNamespaceCgroups("default");  // when no other test's containers are in it
    }
  }

  // The REST API's address from the daemon's log: the last start's (the log is appended to).
  void ReadRestBase() {
    const std::string log = daemon_->Log();
    const std::regex re("msg=\"serving REST API v1\".* port=([0-9]+)");
    std::string port;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it) {
      port = (*it)[1].str();
    }
    ASSERT_FALSE(port.empty()) << log;
    base_ = "127.0.0.1:" + port;
  }

  static std::vector<std::string> DaemonArgs() {
    return {"--rest-address", "127.0.0.1:0", "--metrics-interval", "0"};
  }

  // Restarts berthd on the same dirs (its pulled image kept) with `dir` first on its PATH, so
  // that its shims, and the runc and criu they run, find their programs there first.
  void RestartWithPathFirst(const fs::path& dir) {
    ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
    const char* path = std::getenv("PATH");
    std::string env = "PATH=" + dir.string();
    if (path != nullptr && *path != '\0') env += std::string(":") + path;
    daemon_ = std::make_unique<Berthd>(dir_->path() / "d", DaemonArgs(), std::vector<std::string>{env});
    ASSERT_TRUE(daemon_->running()) << daemon_->Log();
    ASSERT_NO_FATAL_FAILURE(ReadRestBase());
  }

  // curl -X METHOD localhost:PORT/PATH -d BODY: the status and the body.
  HttpResult Curl(const std::string& method, const std::string& path, const std::string& body = "",
                  std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"curl", "-sS", "--noproxy", "*", "-m", "30", "-X", method, "-o", "-", "-w",
                                     "\n%{http_code}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (!body.empty()) {
      argv.push_back("-d");
      argv.push_back(body);
    }
    argv.push_back(base_ + path);
    auto r = e2e::Run(argv);
    HttpResult out;
    size_t nl = r.out.rfind('\n');
    if (nl != std::string::npos) {
      out.code = std::atoi(r.out.c_str() + nl + 1);
      out.body = r.out.substr(0, nl);
    }
    return out;
  }
  json State() {
    auto r = Curl("GET", "/state");
    EXPECT_EQ(r.code, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  std::string StartBody() const { return R"({"bundlePath": ")" + bundle_.string() + R"("})"; }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Berthd> daemon_;
  std::string base_, image_;
  fs::path bundle_;
};


TEST_F(RestApiE2E, TheSeedsCurlCommands) {
  const std::string id = Id("redis");
  ASSERT_TRUE(fs::exists(bundle_ / "config.json"));
  ASSERT_TRUE(fs::exists(bundle_ / "rootfs" / "bin" / "sh"));

  // The event stream, open before anything happens: curl -N localhost:8888/events
  BackgroundProcess events({"curl", "-sS", "-N", "--noproxy", "*", base_ + "/events"}, dir_->path() / "events.out");

  // Start a container.
  auto started = Curl("POST", "/containers/" + id, StartBody());
  ASSERT_EQ(started.code, 201) << started.body << daemon_->Log();
  json c = json::parse(started.body);
  EXPECT_EQ(c["id"], id);
  EXPECT_EQ(c["bundlePath"], bundle_.string());
  EXPECT_EQ(c["state"]["status"], "running");
  ASSERT_EQ(c["processes"].size(), 1u);
  int init_pid = c["processes"][0]["pid"];
  EXPECT_GT(init_pid, 0);
  EXPECT_EQ(c["processes"][0]["args"], json({"sleep", "100000"}));

  // The same container through containerd's API.
  auto tasks = daemon_->Ctr({"task", "ls"});
  EXPECT_THAT(tasks.out, HasSubstr(id));
  EXPECT_THAT(tasks.out, HasSubstr("RUNNING"));
  EXPECT_THAT(daemon_->Ctr({"containers", "ls"}).out, HasSubstr(id));

  // Add a process (both spellings of the route).
  auto exec = Curl("PUT", "/containers/" + id + "/process",
                   R"({"user": {"gid": 0, "uid": 0}, "args": ["sh", "-c", "sleep 100"],
                       "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"]})");
  ASSERT_EQ(exec.code, 200) << exec.body;
  json p = json::parse(exec.body);
  int exec_pid = p["pid"];
  EXPECT_GT(exec_pid, 0);
  EXPECT_EQ(p["args"][2], "sleep 100");
  EXPECT_EQ(p["user"]["uid"], 0);
  auto exec2 = Curl("PUT", "/containers/" + id + "/processes", R"({"args": ["sleep", "100"]})");
  ASSERT_EQ(exec2.code, 200) << exec2.body;

  // State: the seed's shape.
  json st = State();
  ASSERT_EQ(st["containers"].size(), 1u) << st.dump(2);
  EXPECT_EQ(st["containers"][0]["id"], id);
  EXPECT_EQ(st["containers"][0]["bundlePath"], bundle_.string());
  EXPECT_EQ(st["containers"][0]["state"]["status"], "running");
  EXPECT_EQ(st["containers"][0]["processes"].size(), 3u) << st.dump(2);
  EXPECT_GT(st["machine"]["cpus"].get<int>(), 0);
  EXPECT_GT(st["machine"]["memory"].get<int64_t>(), 0);
  bool exec_listed = false;
  for (const auto& proc : st["containers"][0]["processes"]) {
    if (proc["pid"] == exec_pid) exec_listed = proc["args"][2] == "sleep 100";
  }
  EXPECT_TRUE(exec_listed) << st.dump(2);

  // Pause and resume.
  EXPECT_EQ(Curl("PATCH", "/containers/" + id, R"({"status": "paused"})").code, 200);
  EXPECT_EQ(State()["containers"][0]["state"]["status"], "paused");
  EXPECT_THAT(daemon_->Ctr({"task", "ls"}).out, HasSubstr("PAUSED"));
  EXPECT_EQ(Curl("PATCH", "/containers/" + id, R"({"status": "running"})").code, 200);
  EXPECT_EQ(State()["containers"][0]["state"]["status"], "running");

  // Signal one process of the container.
  EXPECT_EQ(Curl("POST", "/containers/" + id + "/process/" + std::to_string(exec_pid), R"({"signal": 15})").code, 200);
  EXPECT_TRUE(WaitUntil([&] { return State()["containers"][0]["processes"].size() == 2u; }));

  // Signal the main process: the container exits, the stream shows it.
  EXPECT_EQ(Curl("PATCH", "/containers/" + id, R"({"signal": 9})").code, 200);
  // {"id":...,"pid":N,"status":137,"timestamp":...,"type":"exit"} for the init process.
  ASSERT_TRUE(events.WaitForOutput("\"pid\":" + std::to_string(init_pid) + ",\"status\":137", std::chrono::seconds(10)))
      << events.Output();
  bool found = false;
  std::istringstream lines(events.Output());
  for (std::string line; std::getline(lines, line);) {
    json e = json::parse(line, nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << line;
    if (e["type"] == "exit" && e["id"] == id && e["pid"] == init_pid) {
      found = true;
      EXPECT_EQ(e["status"], 137);
      EXPECT_TRUE(e.contains("timestamp"));
    }
  }
  EXPECT_TRUE(found) << events.Output();
  EXPECT_THAT(events.Output(), HasSubstr("\"type\":\"start-container\""));
  EXPECT_TRUE(WaitUntil([&] { return State()["containers"][0]["state"]["status"] == "stopped"; }));

  // Delete: task and container gone, for ctr too.
  auto del = Curl("DELETE", "/containers/" + id);
  EXPECT_EQ(del.code, 200) << del.body;
  EXPECT_EQ(State()["containers"].size(), 0u);
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, ::testing::Not(HasSubstr(id)));
  events.Stop();
}

TEST_F(RestApiE2E, ErrorsAreJsonWithTheRightCodes) {
  const std::string id = Id("redis");
  auto error_of = [](const HttpResult& r) {
    json e = json::parse(r.body, nullptr, false);
    return e.is_object() && e.contains("error") ? e["error"].get<std::string>() : "<not json: " + r.body + ">";
  };
  auto bad_json = Curl("POST", "/containers/" + id, R"({"bundlePath": )");
  EXPECT_EQ(bad_json.code, 400);
  EXPECT_THAT(error_of(bad_json), HasSubstr("JSON"));
  EXPECT_EQ(Curl("POST", "/containers/" + id, R"({"bundlePath": 7})").code, 400);
  EXPECT_EQ(Curl("POST", "/containers/" + id, R"({})").code, 400);
  EXPECT_EQ(Curl("POST", "/containers/" + id, R"({"bundlePath": "relative/path"})").code, 400);
  auto missing = Curl("POST", "/containers/" + id, R"({"bundlePath": "/no/such/bundle"})");
  EXPECT_EQ(missing.code, 404);
  EXPECT_THAT(error_of(missing), HasSubstr("bundle not found"));
  EXPECT_EQ(Curl("POST", "/containers/..", StartBody(), {"--path-as-is"}).code, 400);
  EXPECT_EQ(Curl("POST", "/containers/a%2F..%2Fb", StartBody()).code, 400);
  EXPECT_EQ(Curl("GET", "/containers/" + id).code, 405);
  EXPECT_EQ(Curl("GET", "/nothing/here").code, 404);
  EXPECT_EQ(Curl("PATCH", "/containers/" + id, R"({"status": "paused"})").code, 404);
  EXPECT_EQ(Curl("DELETE", "/containers/" + id).code, 404);
  EXPECT_EQ(Curl("GET", "/state?namespace=bad/ns").code, 400);

  ASSERT_EQ(Curl("POST", "/containers/" + id, StartBody()).code, 201);
  auto again = Curl("POST", "/containers/" + id, StartBody());
  EXPECT_EQ(again.code, 409);
  EXPECT_THAT(error_of(again), HasSubstr("already exists"));
  EXPECT_EQ(Curl("PATCH", "/containers/" + id, R"({"status": "frozen"})").code, 400);
  EXPECT_EQ(Curl("PATCH", "/containers/" + id, R"({"signal": "KILL"})").code, 400);
  EXPECT_EQ(Curl("POST", "/containers/" + id + "/process/notapid", R"({"signal": 15})").code, 400);
  EXPECT_EQ(Curl("POST", "/containers/" + id + "/process/999999", R"({"signal": 15})").code, 404);
  EXPECT_EQ(Curl("PUT", "/containers/" + id + "/process", R"({"args": []})").code, 400);
  EXPECT_EQ(Curl("PUT", "/containers/" + id + "/process", R"({"args": ["sh"], "terminal": true})").code, 400);
  // Checkpoints: the list is there (empty); bad names and bodies are refused before criu is
  // asked; there is nothing to delete, or to restore from.
  auto list = Curl("GET", "/containers/" + id + "/checkpoint");
  EXPECT_EQ(list.code, 200);
  EXPECT_EQ(json::parse(list.body), json::array());
  EXPECT_EQ(Curl("POST", "/containers/" + id + "/checkpoint/test1", R"({"exit": "yes"})").code, 400);
  EXPECT_EQ(Curl("POST", "/containers/" + id + "/checkpoint/te..st", R"({"exit": false})").code, 400);
  auto no_checkpoint = Curl("DELETE", "/containers/" + id + "/checkpoint/test1");
  EXPECT_EQ(no_checkpoint.code, 404);
  EXPECT_THAT(error_of(no_checkpoint), HasSubstr("test1"));
  EXPECT_EQ(Curl("GET", "/containers/nosuch/checkpoint").code, 404);
  auto no_restore = Curl("POST", "/containers/" + Id("second"),
                         R"({"bundlePath": ")" + bundle_.string() + R"(", "checkpoint": "nosuch"})");
  EXPECT_EQ(no_restore.code, 404) << no_restore.body;
  EXPECT_THAT(error_of(no_restore), HasSubstr("checkpoint"));
  EXPECT_EQ(Curl("POST", "/containers/" + Id("second"),
                 R"({"bundlePath": ")" + bundle_.string() + R"(", "checkpoint": "a/b"})").code,
            400);
  // A body over the limit.
  fs::path big = dir_->path() / "big.json";
  {
    std::ofstream out(big);
    out << "{\"bundlePath\": \"" << std::string(2 << 20, 'x') << "\"}";
  }
  EXPECT_EQ(Curl("POST", "/containers/" + Id("second"), "@" + big.string()).code, 413);
  // None of it changed anything: one container, still running.
  json st = State();
  ASSERT_EQ(st["containers"].size(), 1u) << st.dump(2);
  EXPECT_EQ(st["containers"][0]["state"]["status"], "running");
  EXPECT_EQ(daemon_->Ctr({"containers", "ls", "-q"}).out, id + "\n");
}

// The seed's checkpoint example: checkpoint a running container (exit: true), list it, restore a
// container of the same id from it, delete it.
TEST_F(RestApiE2E, TheSeedsCheckpointAndRestore) {
  std::string why;
  const std::string criu = UsableCriu(&why);
  if (criu.empty()) GTEST_SKIP() << why;
  if (criu.find('/') != std::string::npos) {
    // berthd's shims run `criu` from PATH: put $BERTH_CRIU first there.
    fs::path bin = dir_->path() / "criu-bin";
    fs::create_directories(bin);
    fs::create_symlink(fs::absolute(criu), bin / "criu");
    ASSERT_NO_FATAL_FAILURE(RestartWithPathFirst(bin));
  }
  const std::string id = Id("redis");
  const std::string leases_before = daemon_->Ctr({"leases", "ls", "-q"}).out;
  BackgroundProcess events({"curl", "-sS", "-N", "--noproxy", "*", base_ + "/events"}, dir_->path() / "events.out");
  auto started = Curl("POST", "/containers/" + id, StartBody());
  ASSERT_EQ(started.code, 201) << started.body << daemon_->Log();

  // curl -X POST localhost:8888/containers/redis/checkpoint/test1 -d '{"exit": true}'
  auto made = Curl("POST", "/containers/" + id + "/checkpoint/test1", R"({"exit": true})");
  ASSERT_EQ(made.code, 201) << made.body << daemon_->Log();
  json cp = json::parse(made.body);
  EXPECT_EQ(cp["name"], "test1");
  EXPECT_EQ(cp["exit"], true);
  EXPECT_EQ(cp["tcp"], false);
  EXPECT_EQ(cp["unixSockets"], false);
  EXPECT_EQ(cp["shell"], false);
  EXPECT_TRUE(cp["timestamp"].is_string()) << cp.dump();
  // exit: the container stops once checkpointed.
  EXPECT_TRUE(WaitUntil(
      [&] {
        json st = State();
        return st["containers"].size() == 1u && st["containers"][0]["state"]["status"] == "stopped";
      },
      std::chrono::seconds(20)))
      << State().dump(2);
  EXPECT_TRUE(events.WaitForOutput("\"type\":\"checkpoint\"", std::chrono::seconds(10))) << events.Output();

  // curl localhost:8888/containers/redis/checkpoint
  auto list = Curl("GET", "/containers/" + id + "/checkpoint");
  ASSERT_EQ(list.code, 200) << list.body;
  json listed = json::parse(list.body);
  ASSERT_EQ(listed.size(), 1u) << listed.dump(2);
  EXPECT_EQ(listed[0]["name"], "test1");
  EXPECT_EQ(listed[0]["exit"], true);
  EXPECT_EQ(listed[0]["timestamp"], cp["timestamp"]);
  // A checkpoint image, as containerd makes them, for ctr too; the operation's lease is gone.
  EXPECT_THAT(daemon_->Ctr({"images", "ls", "-q"}).out, HasSubstr("checkpoint/" + id + ":test1"));
  EXPECT_EQ(daemon_->Ctr({"leases", "ls", "-q"}).out, leases_before);
  auto taken = Curl("POST", "/containers/" + id + "/checkpoint/test1", R"({"exit": true})");
  EXPECT_EQ(taken.code, 409) << taken.body;

  // The checkpoint outlives the container; a new container of that id restores from it.
  ASSERT_EQ(Curl("DELETE", "/containers/" + id).code, 200);
  EXPECT_EQ(State()["containers"].size(), 0u);
  auto restored = Curl("POST", "/containers/" + id,
                       R"({"bundlePath": ")" + bundle_.string() + R"(", "checkpoint": "test1"})");
  ASSERT_EQ(restored.code, 201) << restored.body << daemon_->Log();
  EXPECT_EQ(json::parse(restored.body)["state"]["status"], "running");
  json st = State();
  ASSERT_EQ(st["containers"].size(), 1u) << st.dump(2);
  EXPECT_EQ(st["containers"][0]["state"]["status"], "running");
  EXPECT_THAT(daemon_->Ctr({"task", "ls"}).out, ::testing::ContainsRegex(id + " +[0-9]+ +RUNNING"));

  // curl -X DELETE localhost:8888/containers/redis/checkpoint/test1
  auto del = Curl("DELETE", "/containers/" + id + "/checkpoint/test1");
  EXPECT_EQ(del.code, 200) << del.body;
  auto after = Curl("GET", "/containers/" + id + "/checkpoint");
  EXPECT_EQ(after.code, 200);
  EXPECT_EQ(json::parse(after.body), json::array());
  EXPECT_THAT(daemon_->Ctr({"images", "ls", "-q"}).out, ::testing::Not(HasSubstr("checkpoint/")));
  EXPECT_EQ(Curl("DELETE", "/containers/" + id + "/checkpoint/test1").code, 404);
  events.Stop();
}

// A criu that fails `criu check` first on berthd's PATH: a checkpoint is a 501 naming criu and
// its verdict, the container keeps running, and nothing is left (no image, no content, no lease).
TEST_F(RestApiE2E, WithoutAUsableCriuACheckpointIs501AndLeavesNothing) {
  fs::path fake = dir_->path() / "fake-criu";
  fs::create_directories(fake);
  {
    std::ofstream out(fake / "criu");
    out << "#!/bin/sh\necho 'Error (criu/cr-check.c:1): fake criu of berth tests: unusable' >&2\nexit 1\n";
  }
  fs::permissions(fake / "criu", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
  ASSERT_NO_FATAL_FAILURE(RestartWithPathFirst(fake));
  const std::string id = Id("redis");
  auto started = Curl("POST", "/containers/" + id, StartBody());
  ASSERT_EQ(started.code, 201) << started.body << daemon_->Log();
  const std::string images_before = daemon_->Ctr({"images", "ls", "-q"}).out;
  const std::string content_before = daemon_->Ctr({"content", "ls", "-q"}).out;
  const std::string leases_before = daemon_->Ctr({"leases", "ls", "-q"}).out;

  auto r = Curl("POST", "/containers/" + id + "/checkpoint/test1", R"({"exit": true})");
  EXPECT_EQ(r.code, 501) << r.body;
  json e = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(e.is_object() && e.contains("error") && e["error"].is_string()) << r.body;
  EXPECT_THAT(e["error"].get<std::string>(), HasSubstr("criu check"));
  EXPECT_THAT(e["error"].get<std::string>(), HasSubstr("fake criu of berth tests"));

  auto list = Curl("GET", "/containers/" + id + "/checkpoint");
  EXPECT_EQ(list.code, 200);
  EXPECT_EQ(json::parse(list.body, nullptr, false), json::array()) << list.body;
  EXPECT_EQ(State()["containers"][0]["state"]["status"], "running");
  EXPECT_EQ(daemon_->Ctr({"images", "ls", "-q"}).out, images_before);
  EXPECT_EQ(daemon_->Ctr({"content", "ls", "-q"}).out, content_before);
  EXPECT_EQ(daemon_->Ctr({"leases", "ls", "-q"}).out, leases_before);
}

TEST_F(RestApiE2E, AFailedStartLeavesNothingAndNamespacesAreSeparate) {
  // A bundle whose process cannot start: 4xx/5xx, and no container record or task remains.
  fs::path broken = dir_->path() / "broken";
  auto made = daemon_->Berth({"bundle", "create", image_, broken.string(), "--", "/no/such/binary"});
  ASSERT_EQ(made.exit_code, 0) << Describe(made);
  auto r = Curl("POST", "/containers/" + Id("second"), R"({"bundlePath": ")" + broken.string() + R"("})");
  EXPECT_GE(r.code, 400) << r.body;
  EXPECT_EQ(daemon_->Ctr({"containers", "ls", "-q"}).out, "");
  EXPECT_EQ(State()["containers"].size(), 0u);

  // ?namespace= picks the namespace: ctr sees it there, not in default.
  const std::string ns = Id("rest");
  auto other = Curl("POST", "/containers/" + Id("redis") + "?namespace=" + ns, StartBody());
  ASSERT_EQ(other.code, 201) << other.body;
  EXPECT_EQ(State()["containers"].size(), 0u);
  EXPECT_THAT(daemon_->Ctr({"-n", ns, "task", "ls"}).out, HasSubstr(Id("redis")));
  EXPECT_EQ(Curl("DELETE", "/containers/" + Id("redis") + "?namespace=" + ns).code, 200);
  EXPECT_THAT(RemoveNamespaceCgroups(ns), ::testing::IsEmpty());
}

TEST_F(RestApiE2E, TheSeedsCtrWorkflowsThroughBerth) {
  const std::string id = Id("redis");
  BackgroundProcess events(daemon_->BerthArgv({"events", "--format", "table"}), dir_->path() / "events.out");
  ASSERT_TRUE(events.WaitForOutput("TYPE", std::chrono::seconds(10))) << events.Output();

  auto started = daemon_->Berth({"containers", "start", id, bundle_.string()});
  ASSERT_EQ(started.exit_code, 0) << Describe(started);
  auto list = daemon_->Berth({"containers"});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  EXPECT_THAT(list.out, HasSubstr("ID"));
  EXPECT_THAT(list.out, HasSubstr("PID1"));
  EXPECT_THAT(list.out, ::testing::ContainsRegex(id + " +" + bundle_.string() + " +running +[0-9]+"));
  // The REST API sees the same container, with its bundle.
  json st = State();
  ASSERT_EQ(st["containers"].size(), 1u) << st.dump(2);
  EXPECT_EQ(st["containers"][0]["bundlePath"], bundle_.string());

  auto exec = daemon_->Berth({"containers", "exec", "--id", id, "-a", "-e", "FOO=bar", "-u", "1000", "-g", "1001",
                              "--", "sh", "-c", "echo $FOO; id -u; id -g"});
  EXPECT_EQ(exec.exit_code, 0) << Describe(exec);
  EXPECT_EQ(exec.out, "bar\n1000\n1001\n");
  auto stats = daemon_->Berth({"containers", "stats", id});
  EXPECT_EQ(stats.exit_code, 0) << Describe(stats);
  EXPECT_FALSE(stats.out.empty());
  EXPECT_NE(daemon_->Berth({"containers", "kill", "--pid", "999999", id}).exit_code, 0);
  auto killed = daemon_->Berth({"containers", "kill", "-s", "9", id});
  EXPECT_EQ(killed.exit_code, 0) << Describe(killed);
  EXPECT_TRUE(events.WaitForOutput("exit", std::chrono::seconds(10))) << events.Output();
  EXPECT_THAT(events.Output(), ::testing::ContainsRegex("start-container +" + id + " +[0-9]+"));
  EXPECT_THAT(events.Output(), ::testing::ContainsRegex("exit +" + id + " +[0-9]+ +137"));
  events.Stop();

  // Attached: the output, the exit code, and the container gone afterwards.
  fs::path echo = dir_->path() / "echo";
  ASSERT_EQ(daemon_->Berth({"bundle", "create", image_, echo.string(), "--", "sh", "-c", "echo hi; exit 3"}).exit_code, 0);
  auto attached = daemon_->Berth({"containers", "start", "--attach", Id("second"), echo.string()});
  EXPECT_EQ(attached.exit_code, 3) << Describe(attached);
  EXPECT_EQ(attached.out, "hi\n");
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, ::testing::Not(HasSubstr(Id("second"))));
  auto restore = daemon_->Berth({"containers", "start", "--checkpoint", "cp1", Id("second"), echo.string()});
  EXPECT_NE(restore.exit_code, 0);
  EXPECT_THAT(restore.err, HasSubstr("checkpoint"));
}

}  // namespace
}  // namespace berth::e2e
