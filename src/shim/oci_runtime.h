// The OCI runtime's command line (runc, or anything that speaks it: crun, ...), run
// synchronously: fork/exec, wait for that one pid, and turn a failure into a Status carrying
// the runtime's own error text (the last "error" entry of its --log in JSON, else its stderr).
// Other children that exit meanwhile are left for the shim's reaper: only the command's pid
// is waited for.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace berth::shim {

struct RuntimeConfig {
  std::string binary = "runc";
  std::string root;      // --root
  std::string log_path;  // --log (JSON lines), usually <bundle>/log.json
  bool systemd_cgroup = false;
  std::string criu_path;
};

// The container's stdio while the runtime creates/execs it: -1 means /dev/null.
struct ChildStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct CreateOptions {
  std::string bundle;
  std::string pid_file;
  std::string console_socket;  // "" = no terminal
  bool no_pivot = false;
  bool no_new_keyring = false;
  ChildStdio stdio;
};

// criu's options for `checkpoint` and `restore`, as containerd's runc shim passes them.
struct CriuOptions {
  std::string image_path;   // --image-path: where criu's image files are (written or read)
  std::string work_path;    // --work-path: criu's logs and scratch
  std::string parent_path;  // --parent-path: a pre-dump to build on ("" = none)
  bool tcp_established = false;
  bool ext_unix_sockets = false;
  bool shell_job = false;  // a task with a terminal
  bool file_locks = false;
  std::vector<std::string> empty_namespaces;
  std::string cgroups_mode;  // --manage-cgroups-mode soft|full|strict|ignore
};

struct CheckpointActions {
  bool leave_running = false;
  bool pre_dump = false;
};

struct RestoreOptions {
  std::string bundle;
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  CriuOptions criu;
  ChildStdio stdio;
};

struct ExecOptions {
  std::string process_json;  // path of the OCI process spec
  std::string pid_file;
  std::string console_socket;
  ChildStdio stdio;
};

// Not thread-safe: berth-shim's one loop thread only.
class OciRuntime {
 public:
  explicit OciRuntime(RuntimeConfig config) : config_(std::move(config)) {}

  const RuntimeConfig& config() const { return config_; }

  Status Create(const std::string& id, const CreateOptions& opts) const;
  Status Start(const std::string& id) const;
  Status Kill(const std::string& id, int signal, bool all) const;
  Status Delete(const std::string& id, bool force) const;
  Status Pause(const std::string& id) const;
  Status Resume(const std::string& id) const;
  Status Exec(const std::string& id, const ExecOptions& opts) const;
  // `update --resources -` with the LinuxResources JSON on stdin.
  Status Update(const std::string& id, const std::string& resources_json) const;
  // `checkpoint`: criu dumps the container into opts.image_path (and stops it unless
  // leave_running).
  Status Checkpoint(const std::string& id, const CriuOptions& opts, const CheckpointActions& actions) const;
  // `restore --detach --no-subreaper`: the container restored from opts.criu.image_path; its init
  // becomes the caller's child (criu restores it as the runtime's sibling).
  Status Restore(const std::string& id, const RestoreOptions& opts) const;
  // `ps --format json`: the container's pids.
  Result<std::vector<int>> Ps(const std::string& id) const;

  struct Output {
    int exit_status = 0;
    std::string out;
    std::string err;
  };
  // Runs `binary <global args> args...`; a non-zero exit is an Unknown status with the
  // runtime's error text. `stdio` (when not capturing) becomes the child's 0/1/2.
  Result<Output> Run(const std::vector<std::string>& args, const ChildStdio* stdio,
                     const std::string& stdin_data = "") const;

 private:
  std::vector<std::string> GlobalArgs() const;
  RuntimeConfig config_;
};

// Runs any program (argv[0] looked up in PATH) with stdio from /dev/null, capturing its output;
// fails only when it cannot be started.
Result<OciRuntime::Output> RunProgram(const std::vector<std::string>& argv);

// The message of the last `"level":"error"` line of a runtime's JSON log text ("" if none).
std::string LastRuntimeError(const std::string& log_text);

// runc's kill errors as containerd reads them: "not running"/"no such process" -> NotFound
// "process already finished", "does not exist" -> NotFound "no such container".
Status KillError(const Status& runtime_error);

// The pid the runtime wrote to a --pid-file; Unknown when the file is missing or holds none.
Result<int> ReadPidFile(const std::string& path);

}  // namespace berth::shim
