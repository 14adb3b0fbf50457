// Fuzz target: berth-shim's ttrpc server as berthd reaches it: containerd.task.v2.Task served by a
// shim::TaskService registered on a ttrpc::Server, wired as RunServe (src/shim/shim_main.cc) does,
// over a connected unix socket, the EventLoop driven on this thread. The input is a sequence of
// records `method:u8 length:u16le payload[length]` (length clamped to what is left); each becomes
// one request frame (odd stream ids in order, the namespace in the metadata) carrying the payload
// bytes to the method picked by `method` modulo the table below (the service's 17 methods, an
// unknown method, an unknown service), so each method's request decoding and handling runs.
//
// Nothing real is started, signalled or touched outside a temp dir of the target's own:
//   - the service's default runtime options name a runtime and a criu that do not exist, so every
//     runtime command is a fork whose exec fails (exit 127), and its state root is in the temp dir;
//   - a Create has its options dropped (so the runtime binary, root and criu path stay those; the
//     options are still given to UnpackOptions, as CreateTask would), its rootfs mounts dropped
//     (nothing is mounted), its bundle set to the temp bundle, its checkpoint paths moved into the
//     bundle; Create and Exec have their stdio paths moved into the bundle (fifos or file://
//     files; an unsupported scheme on stdout/stderr is kept, it fails before any file is opened)
//     and terminal off (no console socket in /tmp); an Exec's id has its '/' replaced (the exec
//     spec is written to <bundle>/.<exec id>.process.json); a Checkpoint's path is moved into the
//     bundle and its options dropped. Payloads that do not decode are sent as they are (the
//     service refuses them the same way);
//   - no signal reaches a process: Kill of an init runs the (missing) runtime; Kill of an exec
//     signals its pid only once a runtime exec has succeeded, which never happens here, so the
//     pid stays 0 (FailedPrecondition); the reaper (HandleExit) is not wired;
//   - runtime forks are bounded: at most kForkBudget per input (Create 1, Start 2 — restore and
//     criu check —, Delete, Pids, Kill, Update 1); records beyond the budget are skipped.
//
// Invariants: every request but Wait is answered exactly once (a Wait may be held until its exec
// is deleted or fails to start) and every answer is a decodable Response for a stream that was
// sent; an unknown method or service is NotImplemented; the runtime can never have succeeded:
// Start, Kill, Pause, Resume, Checkpoint, Update, Pids and Stats always fail, a Create succeeds
// only when it restores a checkpoint (nothing runs until Start), a Delete only for an exec; a
// Wait answered ok carries exit status 0 (a released waiter); Connect names this process; after
// the peer's EOF the server closes the connection.
#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "fuzz_check.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "shim/publisher.h"
#include "shim/runtime_options.h"
#include "shim/task_service.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/server.h"
#include "ttrpc/wire.h"
#include "ttrpc_peer.h"

namespace berth::shim {
namespace {

constexpr std::string_view kTaskService = "containerd.task.v2.Task";
constexpr int kForkBudget = 4;
constexpr int kMaxRounds = 100000;

struct Method {
  std::string_view service;
  std::string_view name;
  int forks;  // runtime commands it may run here
};

constexpr Method kMethods[] = {
    {kTaskService, "State", 0},      {kTaskService, "Create", 1},    {kTaskService, "Start", 2},
    {kTaskService, "Delete", 1},     {kTaskService, "Pids", 1},      {kTaskService, "Pause", 0},
    {kTaskService, "Resume", 0},     {kTaskService, "Checkpoint", 0}, {kTaskService, "Kill", 1},
    {kTaskService, "Exec", 0},       {kTaskService, "ResizePty", 0}, {kTaskService, "CloseIO", 0},
    {kTaskService, "Update", 1},     {kTaskService, "Wait", 0},      {kTaskService, "Stats", 0},
    {kTaskService, "Connect", 0},    {kTaskService, "Shutdown", 0},  {kTaskService, "Bogus", 0},
    {"containerd.task.v3.Task", "State", 0},
};

// The target's temp dir (removed at exit) and the bundle in it, emptied for every input.
class TempRoot {
 public:
  TempRoot() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/berth-fuzz-shim-XXXXXX";
    FUZZ_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    root_ = tmpl;
    bundle_ = root_ + "/bundle";
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  const std::string& root() const { return root_; }
  const std::string& bundle() const { return bundle_; }

 private:
  std::string root_;
  std::string bundle_;
};

const TempRoot& Temp() {
  static const TempRoot temp;
  return temp;
}

TaskServiceConfig ServiceConfig() {
  TaskServiceConfig cfg;
  cfg.ns = "fuzz";
  cfg.default_options.set_binary_name("/nonexistent/berth-fuzz/runc");
  cfg.default_options.set_criu_path("/nonexistent/berth-fuzz/criu");
  cfg.default_options.set_root(Temp().root() + "/runtime-root");
  cfg.has_default_options = true;
  cfg.idle_exit = std::chrono::hours(1);  // never within an input
  cfg.cgroup_root = Temp().root() + "/cgroup";
  return cfg;
}

// What one request was, for checking its answer.
struct Sent {
  const Method* method = nullptr;
  bool create_restores = false;  // a Create with a checkpoint: the only Create that can succeed
  bool delete_exec = false;      // a Delete of an exec: the only Delete that can succeed
  bool answered = false;
};

std::string MapOutput(const std::string& path, const std::string& bundle, const char* name) {
  if (path.empty()) return path;
  if (path.starts_with("file://")) return "file://" + bundle + "/" + name;
  if (path.find("://") != std::string::npos) return std::string("unsupported://") + name;  // refused, no file
  return bundle + "/" + name;
}

template <typename Req>
void MapStdio(Req& r, const std::string& bundle) {
  const bool shared = !r.stdout().empty() && r.stderr() == r.stdout();
  if (!r.stdin().empty()) r.set_stdin(bundle + "/in");  // stdin has no scheme check: always a path
  r.set_stdout(MapOutput(r.stdout(), bundle, "out"));
  r.set_stderr(shared ? r.stdout() : MapOutput(r.stderr(), bundle, "err"));
  r.set_terminal(false);
}

// The payload to send for `m`, made safe as the header says; records what the answer may be.
std::string Sanitize(const Method& m, std::string payload, Sent* sent) {
  const std::string& bundle = Temp().bundle();
  if (m.service != kTaskService) return payload;
  if (m.name == "Create") {
    task::CreateTaskRequest r;
    if (!r.ParseFromString(payload)) return payload;
    if (r.has_options()) UnpackOptions(r.options()).IgnoreError();
    r.clear_options();
    r.clear_rootfs();
    r.set_bundle(bundle);
    MapStdio(r, bundle);
    if (!r.checkpoint().empty()) r.set_checkpoint(bundle + "/checkpoint");
    if (!r.parent_checkpoint().empty()) r.set_parent_checkpoint(bundle + "/parent");
    sent->create_restores = !r.checkpoint().empty();
    return r.SerializeAsString();
  }
  if (m.name == "Exec") {
    task::ExecProcessRequest r;
    if (!r.ParseFromString(payload)) return payload;
    std::string id = r.exec_id();
    std::replace(id.begin(), id.end(), '/', '_');
    r.set_exec_id(id);
    MapStdio(r, bundle);
    return r.SerializeAsString();
  }
  if (m.name == "Checkpoint") {
    task::CheckpointTaskRequest r;
    if (!r.ParseFromString(payload)) return payload;
    if (!r.path().empty()) r.set_path(bundle + "/image");
    r.clear_options();
    return r.SerializeAsString();
  }
  if (m.name == "Delete") {
    task::DeleteRequest r;
    sent->delete_exec = r.ParseFromString(payload) && !r.exec_id().empty();
  }
  return payload;
}

void CheckAnswer(const fuzz::Frame& f, std::map<uint32_t, Sent>& sent) {
  FUZZ_CHECK(f.header.type == static_cast<uint8_t>(ttrpc::MessageType::kResponse));
  FUZZ_CHECK(f.header.flags == 0);
  FUZZ_CHECK(f.header.length <= ttrpc::kMaxMessageLength);
  auto it = sent.find(f.header.stream_id);
  FUZZ_CHECK(it != sent.end());
  Sent& s = it->second;
  FUZZ_CHECK(!s.answered);
  s.answered = true;
  Result<ttrpc::Response> resp = ttrpc::DecodeResponse(f.body);
  FUZZ_CHECK(resp.ok());
  const bool ok = resp->status.ok();
  const std::string_view name = s.method->name;
  if (s.method->service != kTaskService || name == "Bogus") {
    FUZZ_CHECK(resp->status.code() == Errc::kNotImplemented);
    return;
  }
  for (std::string_view never : {"Start", "Kill", "Pause", "Resume", "Checkpoint", "Update", "Pids", "Stats"}) {
    if (name == never) FUZZ_CHECK(!ok);
  }
  if (name == "Create") FUZZ_CHECK(!ok || s.create_restores);
  if (name == "Delete") FUZZ_CHECK(!ok || s.delete_exec);
  if (!ok) return;
  if (name == "Connect") {
    task::ConnectResponse c;
    FUZZ_CHECK(c.ParseFromString(resp->payload));
    FUZZ_CHECK(c.shim_pid() == static_cast<uint32_t>(::getpid()));
  }
  if (name == "Wait") {
    task::WaitResponse w;
    FUZZ_CHECK(w.ParseFromString(resp->payload));
    FUZZ_CHECK(w.exit_status() == 0);
  }
}

// The request frames of the input, and what was sent on each stream.
std::string Frames(const uint8_t* data, size_t size, std::map<uint32_t, Sent>* sent) {
  std::string stream;
  uint32_t stream_id = 1;
  int budget = kForkBudget;
  size_t pos = 0;
  auto next_byte = [&]() -> size_t { return pos < size ? data[pos++] : 0; };
  while (pos < size) {
    const Method& m = kMethods[next_byte() % std::size(kMethods)];
    size_t len = next_byte();
    len |= next_byte() << 8;
    len = std::min(len, size - pos);
    std::string payload(reinterpret_cast<const char*>(data + pos), len);
    pos += len;
    if (m.forks > budget) continue;
    budget -= m.forks;
    Sent s;
    s.method = &m;
    ttrpc::Request req;
    req.service = std::string(m.service);
    req.method = std::string(m.name);
    req.payload = Sanitize(m, std::move(payload), &s);
    req.metadata.emplace(ttrpc::kNamespaceKey, "fuzz");
    stream += fuzz::RequestFrame(stream_id, req);
    sent->emplace(stream_id, s);
    stream_id += 2;
  }
  return stream;
}

void Run(const uint8_t* data, size_t size) {
  std::error_code ec;
  std::filesystem::remove_all(Temp().bundle(), ec);
  FUZZ_CHECK(std::filesystem::create_directory(Temp().bundle(), ec));

  std::map<uint32_t, Sent> sent;
  const std::string stream = Frames(data, size, &sent);

  auto loop_or = ttrpc::EventLoop::Create();
  FUZZ_CHECK(loop_or.ok());
  ttrpc::EventLoop& loop = **loop_or;
  Publisher publisher(loop, "", "fuzz");  // no daemon address: events are dropped
  // Shutdown (and the idle exit, an hour away) would stop the shim's loop: nothing to stop here.
  TaskService service(loop, publisher, ServiceConfig(), [] {});
  {
    ttrpc::Server server(loop);
    service.Register(server);
    fuzz::Peer peer(loop, fuzz::ServeAndDial(server));
    peer.Write(stream);
    auto collect = [&] {
      for (const fuzz::Frame& f : peer.frames()) CheckAnswer(f, sent);
      peer.frames().clear();
    };
    auto all_answered = [&] {
      collect();
      return peer.written() && std::all_of(sent.begin(), sent.end(), [](const auto& kv) {
               return kv.second.answered || kv.second.method->name == "Wait";
             });
    };
    FUZZ_CHECK(peer.RunUntil(all_answered, kMaxRounds));
    peer.CloseWrite();
    FUZZ_CHECK(peer.RunUntil([&] { return peer.eof(); }, kMaxRounds));
    collect();
    FUZZ_CHECK(peer.partial() == 0);
    FUZZ_CHECK(server.connection_count() == 0);
  }
}

}  // namespace
}  // namespace berth::shim

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::err);
  google::protobuf::SetLogHandler(nullptr);
  (void)berth::shim::Temp();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  berth::shim::Run(data, size);
  return 0;
}
