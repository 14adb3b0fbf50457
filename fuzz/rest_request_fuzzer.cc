// Fuzz target: the REST API v1's request decoding (berth_rest: rest/json_codec.h), the bodies
// Api::Handle hands to it as they come off the socket.
//
// Bytes: data[0] % 6 picks the route's decoder, the rest is the request body:
//   0 POST /containers/{id}                      DecodeStartContainer
//   1 PUT /containers/{id}/process               DecodeProcess, then what AddProcess makes of
//                                                it: the exec's OCI process (ProcessToSpec)
//   2 PATCH /containers/{id}                     DecodeUpdateContainer
//   3 POST /containers/{id}/process/{pid}        DecodeSignal
//   4 POST /containers/{id}/checkpoint/{name}    DecodeCheckpointOptions
//   5 a container's stored spec, as AddProcess (env and cwd of an exec) and /state read it:
//     "<PUT /process body>\0<spec JSON>" — json::parse, ProcessFromSpec(spec["process"]) — and
//     the /state answer made from it (EncodeState).
// Api::Handle itself (routing, ids, labels, stdio paths) is not fuzzed here: it needs the
// daemon's control::Containers/Tasks/Checkpoints (SQLite, content store, shims), and its path
// and label parsing are file-local helpers of api.cc.
// Invariants:
//   - ParseObject accepts only objects nested at most 32 deep (checked before parsing);
//   - every refusal is InvalidArgument and its {"error": ...} body is a JSON object;
//   - what decodes satisfies the decoder's contract (a bundle path; args; a known status or a
//     signal in 1..64; a signal in 1..64) and survives the seed's encoding: encoded (Encode,
//     ProcessToSpec, Encode(Checkpoint), or the request's own fields) and decoded again it is
//     the same value (an exec's empty cwd becomes "/");
//   - the JSON the API answers and sends to the shim dumps without an exception.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "rest/json_codec.h"

namespace {

using berth::Errc;
using berth::Status;
using nlohmann::json;
using namespace berth::rest;

constexpr int kMaxDepth = 32;

// As api.cc's Json() answers: invalid UTF-8 replaced, never thrown.
std::string Answer(const json& body) { return body.dump(-1, ' ', false, json::error_handler_t::replace); }

int Depth(const json& j) {
  int deepest = 0;
  if (j.is_structured()) {
    for (const auto& child : j) deepest = std::max(deepest, Depth(child));
    return deepest + 1;
  }
  return 0;
}

bool SameProcess(const Process& a, const Process& b) {
  return a.terminal == b.terminal && a.uid == b.uid && a.gid == b.gid && a.additional_gids == b.additional_gids &&
         a.args == b.args && a.env == b.env && a.cwd == b.cwd && a.pid == b.pid;
}

void CheckRefusal(const Status& st) {
  FUZZ_CHECK(!st.ok());
  FUZZ_CHECK(st.Is(Errc::kInvalidArgument));
  const json body = json::parse(ErrorBody(st.message()), nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(body.is_object() && body.size() == 1 && body.contains("error") && body["error"].is_string());
}

void CheckParseObject(const std::string& body) {
  auto obj = ParseObject(body);
  if (!obj.ok()) {
    CheckRefusal(obj.status());
    return;
  }
  FUZZ_CHECK(obj->is_object());
  FUZZ_CHECK(Depth(*obj) <= kMaxDepth);
}

void FuzzStart(const std::string& body) {
  auto c = DecodeStartContainer(body);
  if (!c.ok()) {
    CheckRefusal(c.status());
    return;
  }
  FUZZ_CHECK(!c->bundle_path.empty());
  const json again = {{"bundlePath", c->bundle_path}, {"checkpoint", c->checkpoint}, {"stdin", c->stdin_path},
                      {"stdout", c->stdout_path},     {"stderr", c->stderr_path},   {"labels", c->labels},
                      {"runtime", c->runtime}};
  auto back = DecodeStartContainer(again.dump());
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->bundle_path == c->bundle_path && back->checkpoint == c->checkpoint &&
             back->stdin_path == c->stdin_path && back->stdout_path == c->stdout_path &&
             back->stderr_path == c->stderr_path && back->labels == c->labels && back->runtime == c->runtime);
}

// An exec's process as AddProcess sends it to the shim, read back as the shim's spec.
void CheckExecSpec(const Process& p) {
  const std::string spec = ProcessToSpec(p).dump();  // as AddProcess: a throw would be a crash there
  auto back = ProcessFromSpec(json::parse(spec));
  FUZZ_CHECK(back.ok());
  Process want = p;
  want.pid = 0;
  if (want.cwd.empty()) want.cwd = "/";
  FUZZ_CHECK(SameProcess(*back, want));
}

void FuzzProcess(const std::string& body) {
  auto p = DecodeProcess(body);
  if (!p.ok()) {
    CheckRefusal(p.status());
    return;
  }
  FUZZ_CHECK(!p->args.empty());
  FUZZ_CHECK(p->pid == 0);
  auto back = DecodeProcess(Answer(Encode(*p)));
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(SameProcess(*back, *p));
  CheckExecSpec(*p);
  p->pid = 4242;  // as the answer shows it
  FUZZ_CHECK(json::parse(Answer(Encode(*p)))["pid"] == 4242);
}

void FuzzUpdate(const std::string& body) {
  auto u = DecodeUpdateContainer(body);
  if (!u.ok()) {
    CheckRefusal(u.status());
    return;
  }
  FUZZ_CHECK(u->status.empty() || u->status == "paused" || u->status == "running");
  FUZZ_CHECK(u->signal >= 0 && u->signal <= 64);
  FUZZ_CHECK(!u->status.empty() || u->signal != 0);
}

void FuzzSignal(const std::string& body) {
  auto s = DecodeSignal(body);
  if (!s.ok()) {
    CheckRefusal(s.status());
    return;
  }
  FUZZ_CHECK(*s >= 1 && *s <= 64);
  auto again = DecodeSignal(json{{"signal", *s}}.dump());
  FUZZ_CHECK(again.ok() && *again == *s);
}

void FuzzCheckpoint(const std::string& body) {
  auto o = DecodeCheckpointOptions(body);
  if (!o.ok()) {
    CheckRefusal(o.status());
    return;
  }
  if (body.empty()) FUZZ_CHECK(!o->exit && !o->tcp && !o->unix_sockets && !o->shell);
  const Checkpoint c{"cp", "2026-01-02T03:04:05Z", *o};
  auto back = DecodeCheckpointOptions(Answer(Encode(c)));
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->exit == o->exit && back->tcp == o->tcp && back->unix_sockets == o->unix_sockets &&
             back->shell == o->shell);
  const json list = json::parse(Answer(EncodeCheckpoints({c, c})));
  FUZZ_CHECK(list.is_array() && list.size() == 2);
}

void FuzzStoredSpec(const std::string& body, const std::string& stored) {
  // api.cc: json::parse(container->spec->value(), nullptr, false), then spec["process"].
  json spec = json::parse(stored, nullptr, /*allow_exceptions=*/false);
  Process init;
  bool have_init = false;
  if (spec.is_object() && spec.contains("process")) {
    if (auto p = ProcessFromSpec(spec["process"]); p.ok()) {
      init = *p;
      have_init = true;
      FUZZ_CHECK(init.pid == 0);
      CheckExecSpec(init);
    } else {
      FUZZ_CHECK(p.status().Is(Errc::kInvalidArgument));
    }
  }

  // /state: the init process as the answer shows it.
  ContainerView view;
  view.id = "fuzz";
  view.bundle_path = "/bundles/fuzz";
  view.status = "running";
  init.pid = 42;
  view.processes.push_back(init);
  view.labels = {"a=b", "c"};
  const json state = json::parse(Answer(EncodeState({view}, Machine{2, int64_t{1} << 33})), nullptr, false);
  FUZZ_CHECK(state.is_object());
  const json& shown = state.at("containers").at(0).at("processes").at(0);
  FUZZ_CHECK(shown.at("pid") == 42);
  auto shown_back = ProcessFromSpec(shown);
  FUZZ_CHECK(shown_back.ok());
  Process want = init;
  want.pid = 0;
  FUZZ_CHECK(SameProcess(*shown_back, want));

  // PUT /process: what the request leaves out comes from the container's process.
  auto exec = DecodeProcess(body);
  if (!exec.ok()) {
    CheckRefusal(exec.status());
    return;
  }
  Process spec_process = *exec;
  if (have_init && spec_process.env.empty()) spec_process.env = init.env;
  if (have_init && spec_process.cwd.empty()) spec_process.cwd = init.cwd;
  CheckExecSpec(spec_process);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int route = data[0] % 6;
  if (route < 4 || (route == 4 && !rest.empty())) CheckParseObject(rest);  // (5: below, on its body)
  switch (route) {
    case 0:
      FuzzStart(rest);
      break;
    case 1:
      FuzzProcess(rest);
      break;
    case 2:
      FuzzUpdate(rest);
      break;
    case 3:
      FuzzSignal(rest);
      break;
    case 4:
      FuzzCheckpoint(rest);
      break;
    default: {
      const size_t nul = rest.find('\0');
      const std::string body = rest.substr(0, nul);
      const std::string stored = nul == std::string::npos ? std::string() : rest.substr(nul + 1);
      CheckParseObject(body);
      FuzzStoredSpec(body, stored);
      break;
    }
  }
  return 0;
}
