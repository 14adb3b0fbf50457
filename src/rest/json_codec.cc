#include "rest/json_codec.h"

#include <fmt/format.h>

namespace berth::rest {

namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;

// The deepest nesting of arrays and objects, strings skipped: checked before parsing so a
// hostile body of a million '[' costs a scan, not a parse.
int NestingDepth(const std::string& s) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

Status WrongType(std::string_view field, std::string_view want, const json& got) {
  return InvalidArgument("json: field {:?} must be {}, not {}", field, want, got.type_name());
}

Status GetString(const json& obj, std::string_view field, std::string* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return WrongType(field, "a string", *it);
  *out = it->get<std::string>();
  return Status::Ok();
}

Status GetBool(const json& obj, std::string_view field, bool* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return WrongType(field, "a boolean", *it);
  *out = it->get<bool>();
  return Status::Ok();
}

Status GetUint32(const json& obj, std::string_view field, uint32_t* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_unsigned()) return WrongType(field, "an unsigned 32-bit integer", *it);
  uint64_t v = it->get<uint64_t>();
  if (v > UINT32_MAX) return InvalidArgument("json: field {:?} out of range: {}", field, v);
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status GetStrings(const json& obj, std::string_view field, std::vector<std::string>* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return WrongType(field, "an array of strings", *it);
  for (const auto& v : *it) {
    if (!v.is_string()) return WrongType(field, "an array of strings", v);
    out->push_back(v.get<std::string>());
  }
  return Status::Ok();
}

Status GetSignal(const json& obj, int* out) {
  auto it = obj.find("signal");
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer()) return WrongType("signal", "an integer", *it);
  int64_t v = it->get<int64_t>();
  if (v < 1 || v > 64) return InvalidArgument("invalid signal {}", v);
  *out = static_cast<int>(v);
  return Status::Ok();
}

Result<Process> DecodeProcessObject(const json& obj) {
  if (!obj.is_object()) return InvalidArgument("json: process must be an object, not {}", obj.type_name());
  Process p;
  BERTH_RETURN_IF_ERROR(GetBool(obj, "terminal", &p.terminal));
  BERTH_RETURN_IF_ERROR(GetStrings(obj, "args", &p.args));
  BERTH_RETURN_IF_ERROR(GetStrings(obj, "env", &p.env));
  BERTH_RETURN_IF_ERROR(GetString(obj, "cwd", &p.cwd));
  auto user = obj.find("user");
  if (user != obj.end() && !user->is_null()) {
    if (!user->is_object()) return WrongType("user", "an object", *user);
    BERTH_RETURN_IF_ERROR(GetUint32(*user, "uid", &p.uid));
    BERTH_RETURN_IF_ERROR(GetUint32(*user, "gid", &p.gid));
    auto gids = user->find("additionalGids");
    if (gids != user->end() && !gids->is_null()) {
      if (!gids->is_array()) return WrongType("additionalGids", "an array of integers", *gids);
      for (const auto& g : *gids) {
        if (!g.is_number_unsigned() || g.get<uint64_t>() > UINT32_MAX) {
          return WrongType("additionalGids", "an array of unsigned 32-bit integers", g);
        }
        p.additional_gids.push_back(static_cast<uint32_t>(g.get<uint64_t>()));
      }
    }
  }
  return p;
}

}  // namespace

Result<json> ParseObject(const std::string& body) {
  if (NestingDepth(body) > kMaxDepth) return InvalidArgument("json: nested deeper than {} levels", kMaxDepth);
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("invalid JSON body");
  if (!doc.is_object()) return InvalidArgument("json: body must be an object, not {}", doc.type_name());
  return doc;
}

Result<StartContainer> DecodeStartContainer(const std::string& body) {
  BERTH_ASSIGN_OR_RETURN(json obj, ParseObject(body));
  StartContainer c;
  BERTH_RETURN_IF_ERROR(GetString(obj, "bundlePath", &c.bundle_path));
  BERTH_RETURN_IF_ERROR(GetString(obj, "checkpoint", &c.checkpoint));
  BERTH_RETURN_IF_ERROR(GetString(obj, "stdin", &c.stdin_path));
  BERTH_RETURN_IF_ERROR(GetString(obj, "stdout", &c.stdout_path));
  BERTH_RETURN_IF_ERROR(GetString(obj, "stderr", &c.stderr_path));
  BERTH_RETURN_IF_ERROR(GetStrings(obj, "labels", &c.labels));
  BERTH_RETURN_IF_ERROR(GetString(obj, "runtime", &c.runtime));
  if (c.bundle_path.empty()) return InvalidArgument("empty bundle path");
  return c;
}

Result<Process> DecodeProcess(const std::string& body) {
  BERTH_ASSIGN_OR_RETURN(json obj, ParseObject(body));
  BERTH_ASSIGN_OR_RETURN(Process p, DecodeProcessObject(obj));
  if (p.args.empty()) return InvalidArgument("process args must not be empty");
  return p;
}

Result<UpdateContainer> DecodeUpdateContainer(const std::string& body) {
  BERTH_ASSIGN_OR_RETURN(json obj, ParseObject(body));
  UpdateContainer u;
  BERTH_RETURN_IF_ERROR(GetString(obj, "status", &u.status));
  BERTH_RETURN_IF_ERROR(GetSignal(obj, &u.signal));
  if (!u.status.empty() && u.status != "paused" && u.status != "running") {
    return InvalidArgument("unknown container status {:?}", u.status);
  }
  if (u.status.empty() && u.signal == 0) return InvalidArgument("nothing to update: give a status or a signal");
  return u;
}

Result<int> DecodeSignal(const std::string& body) {
  BERTH_ASSIGN_OR_RETURN(json obj, ParseObject(body));
  int signal = 0;
  BERTH_RETURN_IF_ERROR(GetSignal(obj, &signal));
  if (signal == 0) return InvalidArgument("missing signal");
  return signal;
}

Result<CheckpointOptions> DecodeCheckpointOptions(const std::string& body) {
  CheckpointOptions o;
  if (body.empty()) return o;
  BERTH_ASSIGN_OR_RETURN(json obj, ParseObject(body));
  BERTH_RETURN_IF_ERROR(GetBool(obj, "exit", &o.exit));
  BERTH_RETURN_IF_ERROR(GetBool(obj, "tcp", &o.tcp));
  BERTH_RETURN_IF_ERROR(GetBool(obj, "unixSockets", &o.unix_sockets));
  BERTH_RETURN_IF_ERROR(GetBool(obj, "shell", &o.shell));
  return o;
}

Result<Process> ProcessFromSpec(const json& spec_process) { return DecodeProcessObject(spec_process); }

json ProcessToSpec(const Process& p) {
  json out = {{"terminal", p.terminal},
              {"user", {{"uid", p.uid}, {"gid", p.gid}}},
              {"args", p.args},
              {"env", p.env},
              {"cwd", p.cwd.empty() ? "/" : p.cwd}};
  if (!p.additional_gids.empty()) out["user"]["additionalGids"] = p.additional_gids;
  return out;
}

// The seed's omitempty rules: terminal and user always; args, env, cwd, pid when set.
json Encode(const Process& p) {
  json out = json::object();
  out["terminal"] = p.terminal;
  out["user"] = {{"uid", p.uid}, {"gid", p.gid}};
  if (!p.additional_gids.empty()) out["user"]["additionalGids"] = p.additional_gids;
  if (!p.args.empty()) out["args"] = p.args;
  if (!p.env.empty()) out["env"] = p.env;
  if (!p.cwd.empty()) out["cwd"] = p.cwd;
  if (p.pid != 0) out["pid"] = p.pid;
  return out;
}

json Encode(const ContainerView& c) {
  json out = json::object();
  out["id"] = c.id;
  if (!c.bundle_path.empty()) out["bundlePath"] = c.bundle_path;
  if (!c.processes.empty()) {
    out["processes"] = json::array();
    for (const auto& p : c.processes) out["processes"].push_back(Encode(p));
  }
  out["state"] = {{"status", c.status}};
  if (!c.labels.empty()) out["labels"] = c.labels;
  return out;
}

json Encode(const Checkpoint& c) {
  json out = json::object();
  out["name"] = c.name;
  out["timestamp"] = c.timestamp;
  out["tcp"] = c.flags.tcp;
  out["unixSockets"] = c.flags.unix_sockets;
  out["shell"] = c.flags.shell;
  if (c.flags.exit) out["exit"] = true;
  return out;
}

json EncodeCheckpoints(const std::vector<Checkpoint>& checkpoints) {
  json out = json::array();
  for (const auto& c : checkpoints) out.push_back(Encode(c));
  return out;
}

json EncodeState(const std::vector<ContainerView>& containers, const Machine& machine) {
  json out = json::object();
  out["containers"] = json::array();
  for (const auto& c : containers) out["containers"].push_back(Encode(c));
  out["machine"] = {{"cpus", machine.cpus}, {"memory", machine.memory}};
  return out;
}

std::string ErrorBody(std::string_view message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace berth::rest
