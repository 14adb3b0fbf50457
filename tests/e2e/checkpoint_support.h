// What the checkpoint end-to-end tests share (checkpoint_test.cc, through ctr, and
// checkpoint_cli_test.cc, through berth): the media types of a checkpoint index, the counter
// container, the stand-in runtime (checkpoint/restore without criu), fake criu binaries, the gate
// of the tests that need a working criu, and helpers reading a berthd's tasks, images, content
// and checkpoint indexes through ctr.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "text_lines.h"

namespace berth::e2e {

// ---- the checkpoint index (containerd 1.6's client composes it) ----

// Media type of the tar of criu's image files.
inline constexpr const char* kCriuTar = "application/vnd.containerd.container.criu.checkpoint.criu.tar";
// Media type of the container's spec.
inline constexpr const char* kConfig = "application/vnd.containerd.container.checkpoint.config.v1+proto";
// Media type of the checkpoint options.
inline constexpr const char* kOptions = "application/vnd.containerd.container.checkpoint.options.v1+proto";
// Media type of the runtime options (they name the runtime binary).
inline constexpr const char* kRuntimeOptions = "application/vnd.containerd.container.checkpoint.runtime.options+proto";
// Media type of the rw layer (--rw).
inline constexpr const char* kGzipLayer = "application/vnd.oci.image.layer.v1.tar+gzip";

// The descriptor of the index's manifest of `media_type` (null if none).
nlohmann::json ManifestOf(const nlohmann::json& index_json, const std::string& media_type);
// The digest of the index's manifest of `media_type` ("" if none).
std::string DigestOf(const nlohmann::json& index_json, const std::string& media_type);
// The digests of the index's manifests.
std::set<std::string> ChildDigests(const nlohmann::json& index_json);

// ---- containers ----

// The counter of the issue (a `sh -c` command): /tmp/n counts up ten times a second.
inline constexpr const char* kCounter = "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done";

// Container id `name`-<pid>: the cgroup path /default/<id> is shared by all tests running at once.
std::string Id(const std::string& name);

// /tmp/n of counter container `id` of `d` (exec id "n<++exec_seq>"); -1 if unreadable for 5 s.
long Counter(const Berthd& d, const std::string& id, int& exec_seq);

// ---- listings (ctr's) ----

// The rows of a listing after its header line.
std::vector<std::string> Rows(const std::string& listing);
// The whitespace-separated words of `line`.
std::vector<std::string> Fields(const std::string& line);

// The status of task `id` in `d` (`ctr task ls`; "" if there is none).
std::string TaskStatus(const Berthd& d, const std::string& id);
// The image names in `d` (`ctr images ls -q`).
std::vector<std::string> Images(const Berthd& d);
// The blob digests in `d`'s content store (`ctr content ls -q`).
std::set<std::string> Content(const Berthd& d);
// The target digest of image `ref` in `d` (`ctr images ls`; "" if there is none).
std::string ImageDigest(const Berthd& d, const std::string& ref);
// The shim's bundle directory of container `id` of `d` (namespace default).
std::filesystem::path Bundle(const Berthd& d, const std::string& id);

// ---- files and PATH ----

// Writes `text` as an executable file `p` (parent directories made); returns `p`.
std::filesystem::path WriteExecutable(const std::filesystem::path& p, const std::string& text);
// `name` on $PATH (then the sbin and bin directories), "" if it is nowhere.
std::filesystem::path FindExecutable(const std::string& name);
// "PATH=<dir>:$PATH", for berthd's environment: `dir` (holding a criu or a runc) searched first.
std::string PathWith(const std::filesystem::path& dir);

// ---- the stand-in runtime ----

// Writes the stand-in runtime to `p` (its log and fail marker in `dir`, other calls to `runc`); returns `p`.
std::filesystem::path WriteStandIn(const std::filesystem::path& p, const std::filesystem::path& dir,
                                   const std::string& runc);
// For --runc-binary: the stand-in at `dir`/standin-runc (written once), runc found on berthd's PATH.
std::filesystem::path StandIn(const std::filesystem::path& dir);
// The log of the stand-in written with `dir`.
std::string StandInLog(const std::filesystem::path& dir);
// The log lines of the stand-in's calls of `sub` (checkpoint|restore), oldest first.
std::vector<std::string> StandInCalls(const std::filesystem::path& dir, const std::string& sub);

// ---- criu ----

// A fake criu whose `criu check` passes (a failure verdict is then criu's log, not criu).
inline constexpr const char* kGoodCriu = R"SH(#!/bin/sh
if [ "$1" = check ]; then echo "Looks good."; exit 0; fi
echo "fake criu: $*" >&2
exit 1
)SH";

// A fake criu that cannot work on this kernel, as criu says it.
inline constexpr const char* kBrokenCriu = R"SH(#!/bin/sh
echo "(00.001234) Error (criu/vdso.c:627): vdso: Unexpected rt vDSO area bounds" >&2
exit 1
)SH";

// Writes `script` as `dir`/criu; returns `dir` (for PathWith).
std::filesystem::path WriteFakeCriu(const std::filesystem::path& dir, const std::string& script);

// A criu that passes `criu check` ($BERTH_CRIU, else on PATH), or why there is none.
struct WorkingCriu {
  std::filesystem::path path;  // empty when there is none
  std::string skip_reason;     // for GTEST_SKIP when `path` is empty
};
// The gate of the real-criu tests: the criu to put first on berthd's PATH, or the reason to skip.
WorkingCriu FindWorkingCriu();

// ---- the fixtures' TearDown ----

// Clears and stops (cleanly) each daemon, then expects no shims, mounts or cgroups of `ids` left.
void TearDownDaemons(const std::vector<Berthd*>& daemons, const std::vector<std::string>& ids);

}  // namespace berth::e2e
