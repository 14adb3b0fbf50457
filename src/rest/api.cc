#include "rest/api.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <google/protobuf/util/time_util.h>

#include "common/filters.h"
#include "common/identifiers.h"
#include "common/labels.h"
#include "common/logging.h"
#include "common/timeutil.h"
#include "oci/bundle.h"
#include "events/seed_event.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"

namespace berth::rest {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kJson = "application/json";
constexpr const char* kSpecTypeUrl = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
constexpr const char* kProcessTypeUrl = "types.containerd.io/opencontainers/runtime-spec/1/Process";
constexpr const char* kDefaultRuntime = "io.containerd.runc.v2";

int HttpCode(const Status& st) {
  switch (st.code()) {
    case Errc::kInvalidArgument: return 400;
    case Errc::kNotFound: return 404;
    case Errc::kAlreadyExists:
    case Errc::kFailedPrecondition: return 409;
    case Errc::kNotImplemented: return 501;
    case Errc::kUnavailable:
    case Errc::kResourceExhausted: return 503;
    case Errc::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

http::Response Error(int code, std::string_view message) { return {code, kJson, ErrorBody(message), {}}; }
http::Response Error(const Status& st) { return Error(HttpCode(st), st.message()); }
// Checkpoint and restore: criu unusable here (the shim's FailedPrecondition naming criu and the
// verdict of `criu check`) is "not implemented on this machine", 501; the rest as Error.
http::Response CriuError(const Status& st) {
  if (st.Is(Errc::kFailedPrecondition) && st.message().find("criu") != std::string::npos) {
    return Error(501, st.message());
  }
  return Error(st);
}
http::Response Json(int code, const json& body) {
  return {code, kJson, body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", {}};
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '/');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

std::string StatusName(containerd::v1::types::Status s) {
  switch (s) {
    case containerd::v1::types::CREATED: return "created";
    case containerd::v1::types::RUNNING: return "running";
    case containerd::v1::types::STOPPED: return "stopped";
    case containerd::v1::types::PAUSED: return "paused";
    case containerd::v1::types::PAUSING: return "pausing";
    default: return "unknown";
  }
}

// A stdio path of the seed (a file the output is appended to, or a fifo) as the shim takes it.
Result<std::string> StdioPath(const std::string& path, bool input) {
  if (path.empty()) return std::string();
  if (path.front() != '/') return InvalidArgument("stdio path {:?} must be absolute", path);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) return path;
  if (input) {
    if (::stat(path.c_str(), &st) != 0) return NotFound("stdin {} not found", path);
    return path;
  }
  return "file://" + path;
}

// Labels of the seed ("key=value", or a bare "key").
Result<labels::Labels> ParseLabels(const std::vector<std::string>& in) {
  labels::Labels out;
  for (const auto& l : in) {
    size_t eq = l.find('=');
    std::string key = l.substr(0, eq), value = eq == std::string::npos ? "" : l.substr(eq + 1);
    if (key.empty()) return InvalidArgument("label {:?} has no key", l);
    out[key] = value;
  }
  BERTH_RETURN_IF_ERROR(labels::ValidateAll(out));
  return out;
}

std::optional<google::protobuf::Any> RuntimeOptions(const std::string& runtime) {
  if (runtime.empty() || runtime == "runc") return std::nullopt;
  containerd::runc::v1::Options options;
  options.set_binary_name(runtime);
  return events::PackAny(options);
}

int64_t TotalMemory() {
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
}

// A process's args from /proc (an exec started by another client: the shim keeps no spec).
std::vector<std::string> ProcArgs(uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
  return args;
}

Checkpoint ToJsonView(const control::NamedCheckpoint& c) {
  return Checkpoint{c.name, FormatRfc3339(c.created_at),
                    CheckpointOptions{c.flags.exit, c.flags.tcp, c.flags.unix_sockets, c.flags.shell}};
}

// A task event as one line of the seed's /events stream ({"type","id","status"}, plus the pid
// and a timestamp as 0.1 added them).
std::optional<json> EventJson(const events::Envelope& env) {
  auto seed = events::ToSeedEvent(env);
  if (!seed) return std::nullopt;
  json out = {{"type", seed->type}, {"id", seed->id}};
  if (seed->pid != 0) out["pid"] = seed->pid;
  if (seed->has_status) out["status"] = seed->status;
  out["timestamp"] = google::protobuf::util::TimeUtil::ToString(env.timestamp());
  return out;
}

}  // namespace

Api::Api(control::Containers& containers, control::Tasks& tasks, control::Checkpoints& checkpoints,
         events::Exchange& exchange)
    : containers_(containers), tasks_(tasks), checkpoints_(checkpoints), exchange_(exchange) {
  auto filter = filters::ParseAll({"topic==\"/tasks/exit\""});
  if (filter.ok()) {
    reaper_ = std::thread(&Api::ReapExecs, this, exchange_.Subscribe(std::move(*filter)));
  } else {
    log::Error("rest: exec reaper not started", {{"error", filter.status().ToString()}});
  }
}

Api::~Api() {
  stopping_ = true;
  if (reaper_.joinable()) reaper_.join();
}

void Api::ReapExecs(std::unique_ptr<events::Subscription> exits) {
  events::Envelope env;
  while (!stopping_) {
    auto got = exits->Next(std::chrono::milliseconds(500), &env);
    if (got == events::Subscription::Wait::kClosed) return;
    if (got != events::Subscription::Wait::kEvent) continue;
    containerd::events::TaskExit exit;
    if (!exit.ParseFromString(env.event().value()) || !exit.id().starts_with("rest-")) continue;
    const std::string& ns = env.namespace_();
    if (auto task = tasks_.Get(ns, exit.container_id()); task.ok()) {
      auto deleted = (*task)->Delete(exit.id());
      if (!deleted.ok() && !deleted.status().Is(Errc::kNotFound)) {
        log::Warn("rest: delete exited exec",
                  {{"namespace", ns}, {"id", exit.container_id()}, {"exec", exit.id()},
                   {"error", deleted.status().ToString()}});
      }
    }
    std::lock_guard lock(mu_);
    execs_.erase(ns + "/" + exit.container_id() + "/" + exit.id());
  }
}

http::Response Api::Handle(const http::Request& req) {
  std::string ns = req.QueryParam("namespace", "default");
  if (Status st = identifiers::Validate(ns); !st.ok()) return Error(400, "namespace: " + st.message());
  std::vector<std::string> p = SplitPath(req.path);
  const std::string& m = req.method;
  auto not_allowed = [] { return Error(405, "method not allowed"); };
  if (p.size() == 1 && p[0] == "state") return m == "GET" ? State(ns) : not_allowed();
  if (p.size() == 1 && p[0] == "events") return m == "GET" ? Events(ns) : not_allowed();
  if (p.empty() || p[0] != "containers" || p.size() < 2) return Error(404, "404 page not found");
  const std::string& id = p[1];
  if (Status st = identifiers::Validate(id); !st.ok()) return Error(400, "container id: " + st.message());
  if (p.size() == 2) {
    if (m == "POST") return StartContainer(ns, id, req);
    if (m == "PATCH") return UpdateContainer(ns, id, req);
    if (m == "DELETE") return DeleteContainer(ns, id);
    return not_allowed();
  }
  if (p[2] == "process" || p[2] == "processes") {
    if (p.size() == 3) return m == "PUT" ? AddProcess(ns, id, req) : not_allowed();
    if (p.size() == 4) return m == "POST" ? SignalProcess(ns, id, p[3], req) : not_allowed();
  }
  if (p[2] == "checkpoint") {
    if (p.size() == 3) return m == "GET" ? ListCheckpoints(ns, id) : not_allowed();
    if (p.size() == 4) return m == "POST" || m == "DELETE" ? CheckpointChange(ns, id, p[3], req) : not_allowed();
  }
  return Error(404, "404 page not found");
}

http::Response Api::StartContainer(const std::string& ns, const std::string& id, const http::Request& req) {
  auto body = DecodeStartContainer(req.body);
  if (!body.ok()) return Error(body.status());
  auto bundle = oci::LoadBundle(body->bundle_path, "/" + ns + "/" + id);
  if (!bundle.ok()) return Error(bundle.status());
  if (bundle->terminal) {
    return Error(400, "the bundle's process asks for a terminal, which the REST API has no console for "
                      "(set process.terminal to false)");
  }
  auto stdin_path = StdioPath(body->stdin_path, true);
  auto stdout_path = StdioPath(body->stdout_path, false);
  auto stderr_path = StdioPath(body->stderr_path, false);
  for (const auto* s : {&stdin_path, &stdout_path, &stderr_path}) {
    if (!s->ok()) return Error(s->status());
  }
  auto labels = ParseLabels(body->labels);
  if (!labels.ok()) return Error(labels.status());
  (*labels)[oci::kBundleLabel] = bundle->dir;
  // The seed restored a container from its own checkpoints: those of a container of this id
  // (which outlive it). Looked up before anything is made, so an unknown one leaves nothing.
  std::optional<checkpoint::Blob> restore_from;
  if (!body->checkpoint.empty()) {
    if (Status st = identifiers::Validate(body->checkpoint); !st.ok()) {
      return Error(400, "checkpoint name: " + st.message());
    }
    auto found = checkpoints_.Find(ns, id, body->checkpoint);
    if (!found.ok()) return Error(found.status());
    restore_from = *found;
  }

  metadata::Container record;
  record.id = id;
  record.labels = *labels;
  record.runtime.name = kDefaultRuntime;
  record.runtime.options = RuntimeOptions(body->runtime);
  google::protobuf::Any spec_any;
  spec_any.set_type_url(kSpecTypeUrl);
  spec_any.set_value(bundle->spec_json);
  record.spec = spec_any;
  const bool new_namespace = !containers_.NamespaceExists(ns);
  auto created = containers_.Create(ns, record);
  if (!created.ok()) {
    if (created.status().Is(Errc::kAlreadyExists)) return Error(409, fmt::format("container {} already exists", id));
    return Error(created.status());
  }
  // From here a failure removes what was made: a refused start leaves nothing behind.
  auto undo = [&](const Status& why) {
    if (tasks_.Get(ns, id).ok()) tasks_.Delete(ns, id).IgnoreError();
    containers_.Delete(ns, id).IgnoreError();
    if (new_namespace) containers_.RemoveNamespaceIfEmpty(ns);  // a refused start leaves no namespace
    log::Warn("rest: start container", {{"namespace", ns}, {"id", id}, {"error", why.ToString()}});
    return CriuError(why);
  };
  control::TaskRequest task_req;
  task_req.container_id = id;
  task_req.stdin_path = *stdin_path;
  task_req.stdout_path = *stdout_path;
  task_req.stderr_path = *stderr_path;
  task_req.checkpoint = restore_from;
  auto task = tasks_.Create(ns, task_req);
  if (!task.ok()) return undo(task.status());
  auto pid = tasks_.Start(ns, id, "");
  if (!pid.ok()) return undo(pid.status());
  auto view = View(ns, *created);
  if (!view.ok()) return Error(view.status());
  return Json(201, Encode(*view));
}

http::Response Api::UpdateContainer(const std::string& ns, const std::string& id, const http::Request& req) {
  auto body = DecodeUpdateContainer(req.body);
  if (!body.ok()) return Error(body.status());
  auto task = tasks_.Get(ns, id);
  if (!task.ok()) return Error(task.status());
  if (body->status == "paused") {
    if (Status st = (*task)->Pause(); !st.ok()) return Error(st);
  } else if (body->status == "running") {
    if (Status st = (*task)->Resume(); !st.ok()) return Error(st);
  }
  if (body->signal != 0) {
    if (Status st = (*task)->Kill("", static_cast<uint32_t>(body->signal), false); !st.ok()) return Error(st);
  }
  return Json(200, json::object());
}

http::Response Api::DeleteContainer(const std::string& ns, const std::string& id) {
  auto container = containers_.Get(ns, id);
  if (!container.ok()) return Error(container.status());
  auto task = tasks_.Get(ns, id);
  if (task.ok()) {
    auto st = (*task)->State("");
    if (st.ok() && st->status() != containerd::v1::types::STOPPED && st->status() != containerd::v1::types::CREATED) {
      if (st->status() == containerd::v1::types::PAUSED) (*task)->Resume().IgnoreError();
      if (Status k = (*task)->Kill("", SIGKILL, true); !k.ok() && !k.Is(Errc::kNotFound)) return Error(k);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      auto waited = (*task)->Wait("", [deadline] { return std::chrono::steady_clock::now() > deadline; });
      if (!waited.ok()) return Error(waited.status());
    }
    if (auto del = tasks_.Delete(ns, id); !del.ok() && !del.status().Is(Errc::kNotFound)) return Error(del.status());
  } else if (!task.status().Is(Errc::kNotFound)) {
    return Error(task.status());
  }
  {
    std::lock_guard lock(mu_);
    std::string prefix = ns + "/" + id + "/";
    for (auto it = execs_.lower_bound(prefix); it != execs_.end() && it->first.starts_with(prefix);) {
      it = execs_.erase(it);
    }
  }
  if (Status st = containers_.Delete(ns, id); !st.ok()) return Error(st);
  return Json(200, json::object());
}

http::Response Api::AddProcess(const std::string& ns, const std::string& id, const http::Request& req) {
  auto process = DecodeProcess(req.body);
  if (!process.ok()) return Error(process.status());
  if (process->terminal) return Error(400, "a terminal needs a console, which the REST API has none of");
  auto task = tasks_.Get(ns, id);
  if (!task.ok()) return Error(task.status());
  std::string exec_id;
  {
    std::lock_guard lock(mu_);
    exec_id = fmt::format("rest-{}-{}", ::getpid(), ++next_exec_);
  }
  containerd::task::v2::ExecProcessRequest exec;
  exec.set_id(id);
  exec.set_exec_id(exec_id);
  exec.set_terminal(false);
  exec.mutable_spec()->set_type_url(kProcessTypeUrl);
  Process spec_process = *process;
  // What the request leaves out comes from the container's own process, as `ctr task exec`
  // builds on the container's spec: without PATH nothing could be found.
  if (spec_process.env.empty() || spec_process.cwd.empty()) {
    auto container = containers_.Get(ns, id);
    if (container.ok() && container->spec) {
      json spec = json::parse(container->spec->value(), nullptr, false);
      if (spec.is_object() && spec.contains("process")) {
        if (auto init = ProcessFromSpec(spec["process"]); init.ok()) {
          if (spec_process.env.empty()) spec_process.env = init->env;
          if (spec_process.cwd.empty()) spec_process.cwd = init->cwd;
        }
      }
    }
  }
  exec.mutable_spec()->set_value(ProcessToSpec(spec_process).dump());
  if (Status st = tasks_.Exec(ns, id, exec); !st.ok()) return Error(st);
  auto pid = tasks_.Start(ns, id, exec_id);
  if (!pid.ok()) {
    (*task)->Delete(exec_id).IgnoreError();
    return Error(pid.status());
  }
  process->pid = *pid;
  {
    std::lock_guard lock(mu_);
    execs_[ns + "/" + id + "/" + exec_id] = *process;
  }
  return Json(200, Encode(*process));
}

http::Response Api::SignalProcess(const std::string& ns, const std::string& id, const std::string& pid_text,
                                  const http::Request& req) {
  uint32_t pid = 0;
  auto [end, ec] = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  if (ec != std::errc() || end != pid_text.data() + pid_text.size() || pid == 0) {
    return Error(400, fmt::format("invalid pid {:?}", pid_text));
  }
  auto signal = DecodeSignal(req.body);
  if (!signal.ok()) return Error(signal.status());
  auto task = tasks_.Get(ns, id);
  if (!task.ok()) return Error(task.status());
  auto init = (*task)->State("");
  if (!init.ok()) return Error(init.status());
  std::string exec_id;
  if (init->pid() != pid) {
    auto pids = (*task)->Pids();
    if (!pids.ok()) return Error(pids.status());
    bool found = false;
    for (const auto& info : pids->processes()) {
      if (info.pid() != pid) continue;
      containerd::runc::v1::ProcessDetails details;
      if (info.has_info() && details.ParseFromString(info.info().value())) exec_id = details.exec_id();
      found = true;
    }
    if (!found || exec_id.empty()) return Error(404, fmt::format("process {} not found in container {}", pid, id));
  }
  if (Status st = (*task)->Kill(exec_id, static_cast<uint32_t>(*signal), false); !st.ok()) return Error(st);
  return Json(200, json::object());
}

http::Response Api::ListCheckpoints(const std::string& ns, const std::string& id) {
  auto list = checkpoints_.List(ns, id);  // NotFound for a missing container
  if (!list.ok()) return Error(list.status());
  std::vector<Checkpoint> out;
  out.reserve(list->size());
  for (const auto& c : *list) out.push_back(ToJsonView(c));
  return Json(200, EncodeCheckpoints(out));
}

// The seed's answers: 201 for a checkpoint made (here with the checkpoint as it lists it), 200
// for one deleted. Both need the container (the seed's did), which a checkpoint outlives.
http::Response Api::CheckpointChange(const std::string& ns, const std::string& id, const std::string& name,
                                     const http::Request& req) {
  if (Status st = identifiers::Validate(name); !st.ok()) return Error(400, "checkpoint name: " + st.message());
  auto container = containers_.Get(ns, id);
  if (!container.ok()) return Error(container.status());
  if (req.method == "DELETE") {
    if (Status st = checkpoints_.Delete(ns, id, name); !st.ok()) return Error(st);
    return Json(200, json::object());
  }
  auto options = DecodeCheckpointOptions(req.body);
  if (!options.ok()) return Error(options.status());
  control::CheckpointFlags flags{options->exit, options->tcp, options->unix_sockets, options->shell};
  auto made = checkpoints_.Create(ns, id, name, flags);
  if (!made.ok()) {
    log::Warn("rest: checkpoint", {{"namespace", ns}, {"id", id}, {"name", name}, {"error", made.status().ToString()}});
    return CriuError(made.status());
  }
  return Json(201, Encode(ToJsonView(*made)));
}

Result<ContainerView> Api::View(const std::string& ns, const metadata::Container& c) {
  ContainerView view;
  view.id = c.id;
  auto bundle = c.labels.find(oci::kBundleLabel);
  BERTH_ASSIGN_OR_RETURN(auto task, tasks_.Get(ns, c.id));
  view.bundle_path = bundle != c.labels.end() ? bundle->second : task->bundle().path.string();
  for (const auto& [k, v] : c.labels) {
    if (k != oci::kBundleLabel) view.labels.push_back(v.empty() ? k : k + "=" + v);
  }
  BERTH_ASSIGN_OR_RETURN(auto st, task->State(""));
  view.status = StatusName(st.status());
  Process init;
  if (c.spec) {
    json spec = json::parse(c.spec->value(), nullptr, false);
    if (spec.is_object() && spec.contains("process")) {
      if (auto p = ProcessFromSpec(spec["process"]); p.ok()) init = *p;
    }
  }
  init.pid = st.pid();
  if (st.status() != containerd::v1::types::STOPPED) view.processes.push_back(init);
  auto pids = task->Pids();
  if (!pids.ok()) return view;
  for (const auto& info : pids->processes()) {
    containerd::runc::v1::ProcessDetails details;
    if (!info.has_info() || !details.ParseFromString(info.info().value()) || details.exec_id().empty()) continue;
    Process exec;
    {
      std::lock_guard lock(mu_);
      auto it = execs_.find(ns + "/" + c.id + "/" + details.exec_id());
      if (it != execs_.end()) exec = it->second;
    }
    if (exec.args.empty()) exec.args = ProcArgs(info.pid());
    exec.pid = info.pid();
    view.processes.push_back(exec);
  }
  return view;
}

http::Response Api::State(const std::string& ns) {
  std::vector<ContainerView> views;
  for (const auto& task : tasks_.List(ns)) {
    auto c = containers_.Get(ns, task->id());
    if (!c.ok()) continue;  // being deleted
    auto view = View(ns, *c);
    if (view.ok()) views.push_back(std::move(*view));
  }
  Machine machine{static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)), TotalMemory()};
  return Json(200, EncodeState(views, machine));
}

http::Response Api::Events(const std::string& ns) {
  auto filter = filters::ParseAll({fmt::format("namespace=={}", ns)});
  if (!filter.ok()) return Error(filter.status());
  auto sub = std::shared_ptr<events::Subscription>(exchange_.Subscribe(std::move(*filter)));
  http::Response r{200, "application/json", "", {}};
  r.stream = [sub](http::Stream& out) {
    events::Envelope env;
    while (!out.closed()) {
      auto got = sub->Next(std::chrono::milliseconds(500), &env);
      if (got == events::Subscription::Wait::kClosed) return;
      if (got != events::Subscription::Wait::kEvent) continue;
      auto line = EventJson(env);
      if (line && !out.Write(line->dump() + "\n")) return;
    }
  };
  return r;
}

}  // namespace berth::rest
