#include "berth/task_exec.h"

#include <unistd.h>

#include <memory>

#include "berth/process_session.h"
#include "client/cio.h"
#include "client/container_spec.h"
#include "common/random_hex.h"

namespace berth::cli {
namespace {

std::string RandomExecId() { return "exec-" + RandomHex(6); }

// The container's spec JSON (an object; empty when it has none).
Result<nlohmann::json> ContainerSpec(const client::Container& c) {
  if (!c.spec || c.spec->value().empty()) return nlohmann::json::object();
  auto spec = nlohmann::json::parse(c.spec->value(), nullptr, false);
  if (spec.is_discarded() || !spec.is_object()) {
    return InvalidArgument("container {:?}: its spec is not JSON", c.id);
  }
  return spec;
}

}  // namespace

Result<ContainerAndSpec> GetContainerAndSpec(client::Client& client, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(client::Container container, client.GetContainer(id));
  BERTH_ASSIGN_OR_RETURN(nlohmann::json spec, ContainerSpec(container));
  return ContainerAndSpec{std::move(container), std::move(spec)};
}

bool SpecTerminal(const nlohmann::json& spec) {
  auto p = spec.find("process");
  if (p == spec.end() || !p->is_object()) return false;
  auto t = p->find("terminal");
  return t != p->end() && t->is_boolean() && t->get<bool>();
}

int RunExec(const GlobalOptions& global, const ExecArgs& args) {
  if (args.command.empty()) {
    PrintError("exec needs a command");
    return kExitUsage;
  }
  std::optional<ProcessSession> session;
  if (!args.detach) session.emplace(args.tty);
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto got = GetContainerAndSpec(*client, args.id);
  if (!got.ok()) return Fail(got.status());
  // The container's process, with this command, terminal and cwd (ctr's exec).
  nlohmann::json process = got->spec.value("process", nlohmann::json::object());
  process["args"] = args.command;
  if (args.tty) {
    process["terminal"] = true;
  } else {
    process.erase("terminal");
  }
  if (!args.cwd.empty()) process["cwd"] = args.cwd;
  if (!args.env.empty()) {
    nlohmann::json env = process.value("env", nlohmann::json::array());
    for (const auto& e : args.env) env.push_back(e);
    process["env"] = env;
  }
  if (args.uid) process["user"]["uid"] = *args.uid;
  if (args.gid) process["user"]["gid"] = *args.gid;
  const std::string exec_id = args.exec_id.empty() ? RandomExecId() : args.exec_id;

  auto fifos = client::FifoSet::Create(exec_id, args.tty);
  if (!fifos.ok()) return Fail(fifos.status());
  client::ExecRequest request;
  request.container_id = args.id;
  request.exec_id = exec_id;
  request.stdin_path = (*fifos)->paths().stdin_path;
  request.stdout_path = (*fifos)->paths().stdout_path;
  request.stderr_path = (*fifos)->paths().stderr_path;
  request.terminal = args.tty;
  request.spec = client::ProcessSpecAny(process.dump());
  std::unique_ptr<client::IoCopier> detached_io;  // readers until started (see RunTask)
  if (session) {
    session->StartIo(*client, (*fifos)->paths(), args.id, exec_id);
  } else {
    detached_io = std::make_unique<client::IoCopier>(
        (*fifos)->paths(), client::IoCopier::Streams{-1, STDOUT_FILENO, STDERR_FILENO});
  }
  if (Status st = client->ExecProcess(request); !st.ok()) {
    if (session) session->FinishIo(false);
    return Fail(st);
  }
  if (auto started = client->StartTask(args.id, exec_id); !started.ok()) {
    if (session) session->FinishIo(false);
    client->DeleteProcess(args.id, exec_id).IgnoreError();
    return Fail(started.status());
  }
  if (args.detach) {
    (*fifos)->Keep();
    return 0;
  }
  session->Attach(*client, args.id, exec_id);
  auto exit = client->WaitTask(args.id, exec_id);
  session->FinishIo(exit.ok());
  auto deleted = client->DeleteProcess(args.id, exec_id);
  if (!exit.ok()) return Fail(exit.status());
  if (!deleted.ok()) return Fail(deleted.status());
  return ExitCodeOf(exit->code);
}

}  // namespace berth::cli
