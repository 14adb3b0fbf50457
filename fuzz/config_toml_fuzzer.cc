// Fuzz target: berthd's configuration file (src/server/config.h): berth's own keys or containerd
// 1.6's config.toml, the input being the file's text as LoadConfigFile hands it to ParseConfig.
//
// Invariants: a refusal is InvalidArgument; a configuration that parses is written out by ToToml
// (`berthd config dump`) as text that parses back to the same configuration, with no notes, and
// writes out the same text again; Validate (paths made absolute and normal, ranges checked) is
// idempotent: a validated configuration validates again unchanged.
// (This target found ParseDuration reading durations past 2^52 ns through a double: fixed, and
// unit/cli/output_test keeps it so.)
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "server/config.h"

namespace berth::server {
namespace {

bool SameRunc(const RuncDefaults& a, const RuncDefaults& b) {
  return a.binary_name == b.binary_name && a.root == b.root && a.shim_cgroup == b.shim_cgroup &&
         a.criu_path == b.criu_path && a.systemd_cgroup == b.systemd_cgroup &&
         a.no_pivot_root == b.no_pivot_root && a.no_new_keyring == b.no_new_keyring;
}

// Every field but `notes`.
bool Same(const Config& a, const Config& b) {
  return a.root == b.root && a.state == b.state && a.instance_id == b.instance_id && a.address == b.address &&
         a.grpc_uid == b.grpc_uid && a.grpc_gid == b.grpc_gid && a.max_recv_message_size == b.max_recv_message_size &&
         a.max_send_message_size == b.max_send_message_size && a.ttrpc_address == b.ttrpc_address &&
         a.ttrpc_uid == b.ttrpc_uid && a.ttrpc_gid == b.ttrpc_gid && a.log_level == b.log_level &&
         a.debug_address == b.debug_address && a.debug_uid == b.debug_uid && a.debug_gid == b.debug_gid &&
         a.metrics_address == b.metrics_address && a.metrics_grpc_histogram == b.metrics_grpc_histogram &&
         a.rest_address == b.rest_address && a.rest_uid == b.rest_uid && a.rest_gid == b.rest_gid &&
         a.concurrency == b.concurrency && a.metrics_interval == b.metrics_interval &&
         a.oom_notify == b.oom_notify && a.cgroup_path == b.cgroup_path && a.oom_score == b.oom_score &&
         a.required_plugins == b.required_plugins && a.runc_shim == b.runc_shim && a.shim_debug == b.shim_debug &&
         SameRunc(a.runc, b.runc) && SameRunc(a.linux_v1, b.linux_v1);
}

}  // namespace
}  // namespace berth::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth::server;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  berth::Result<Config> parsed = ParseConfig(text, "fuzz.toml");
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == berth::Errc::kInvalidArgument);
    return 0;
  }
  Config config = *parsed;

  const std::string dumped = ToToml(config);
  berth::Result<Config> back = ParseConfig(dumped, "dump.toml");
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(Same(config, *back));
  FUZZ_CHECK(back->notes.empty());
  FUZZ_CHECK(ToToml(*back) == dumped);

  Config valid = config;
  if (Validate(valid).ok()) {
    Config again = valid;
    FUZZ_CHECK(Validate(again).ok());
    FUZZ_CHECK(Same(valid, again));
  }
  return 0;
}
