#include "checkpoint_support.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace berth::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::IsEmpty;

namespace {

// The stand-in runtime, a runc for checkpoint/restore without criu. runc's global flags (--root,
// --log, --log-format, --systemd-cgroup, --criu) come before the subcommand and are passed on to
// the runc calls it makes; anything but checkpoint/restore is runc's alone. @RUNC@ is the runc it
// calls: "runc" (berthd's PATH) or a path (when the stand-in itself is `runc` on berthd's PATH).
// Its `checkpoint` writes a few fake image files (the first holds the container id) and fails
// while @DIR@/fail-checkpoint exists; its `restore` checks them and creates the container afresh.
// Its log, @DIR@/standin.log, gets one line per checkpoint/restore: the subcommand and its
// arguments (the container id last), and "images present: <id>" once a restore found the dumped
// files (the id is the checkpointed container's).
constexpr const char* kStandIn = R"SH(#!/bin/sh
# Stand-in for runc written by tests/e2e/checkpoint_support.cc: checkpoint/restore without criu.
dir=@DIR@
real=@RUNC@
log="$dir/standin.log"
sub=""
skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in
    --root|--log|--log-format|--criu|--rootless) skip=1 ;;
    -*) ;;
    *) sub=$a; break ;;
  esac
done
case "$sub" in
  checkpoint|restore) ;;
  *) exec "$real" "$@" ;;
esac
global=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root|--log|--log-format|--criu|--rootless) global="$global $1 $2"; shift 2 ;;
    -*) global="$global $1"; shift ;;
    *) break ;;
  esac
done
shift
echo "$sub $*" >> "$log"
image=""; work=""; pidfile=""; console=""; bundle=""; leave=0; nopivot=""
while [ $# -gt 1 ]; do
  case "$1" in
    --image-path) image=$2; shift 2 ;;
    --work-path) work=$2; shift 2 ;;
    --pid-file) pidfile=$2; shift 2 ;;
    --console-socket) console=$2; shift 2 ;;
    --bundle|-b) bundle=$2; shift 2 ;;
    --parent-path|--empty-ns|--manage-cgroups-mode|--page-server|--status-fd) shift 2 ;;
    --leave-running) leave=1; shift ;;
    --no-pivot) nopivot=--no-pivot; shift ;;
    *) shift ;;
  esac
done
id=$1
if [ "$sub" = checkpoint ]; then
  if [ -e "$dir/fail-checkpoint" ]; then
    if [ -n "$work" ]; then
      mkdir -p "$work"
      echo "(00.004242) Error (criu/cr-dump.c:2098): stand-in dump of $id refused" > "$work/dump.log"
    fi
    echo "stand-in checkpoint of $id failed: marker present" >&2
    exit 1
  fi
  mkdir -p "$image" || exit 1
  echo "$id" > "$image/core-1.img"
  echo "stand-in inventory" > "$image/inventory.img"
  echo "stand-in pages" > "$image/pages-1.img"
  if [ "$leave" = 0 ]; then
    "$real" $global kill "$id" KILL || exit 1
  fi
  exit 0
fi
for f in core-1.img inventory.img pages-1.img; do
  if [ ! -f "$image/$f" ]; then
    echo "stand-in restore: no $f in $image" >&2
    exit 1
  fi
done
echo "images present: $(cat "$image/core-1.img")" >> "$log"
cs=""
if [ -n "$console" ]; then cs="--console-socket $console"; fi
"$real" $global create --bundle "$bundle" --pid-file "$pidfile" $cs $nopivot "$id" || exit 1
exec "$real" $global start "$id"
)SH";

}  // namespace

// ---- the checkpoint index ----

json ManifestOf(const json& index_json, const std::string& media_type) {
  if (!index_json.is_object() || !index_json.contains("manifests") || !index_json["manifests"].is_array()) {
    return nullptr;
  }
  for (const auto& m : index_json["manifests"]) {
    if (m.value("mediaType", "") == media_type) return m;
  }
  return nullptr;
}

std::string DigestOf(const json& index_json, const std::string& media_type) {
  const json m = ManifestOf(index_json, media_type);
  return m.is_object() ? m.value("digest", "") : "";
}

std::set<std::string> ChildDigests(const json& index_json) {
  std::set<std::string> out;
  if (!index_json.is_object() || !index_json.contains("manifests")) return out;
  for (const auto& m : index_json["manifests"]) {
    if (m.is_object()) out.insert(m.value("digest", ""));
  }
  return out;
}

// ---- containers ----

std::string Id(const std::string& name) { return name + "-" + std::to_string(::getpid()); }

long Counter(const Berthd& d, const std::string& id, int& exec_seq) {
  long value = -1;
  WaitUntil(
      [&] {
        auto r = d.Ctr({"task", "exec", "--exec-id", "n" + std::to_string(++exec_seq), id, "cat", "/tmp/n"});
        if (r.exit_code != 0) return false;
        try {
          value = std::stol(r.out);
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      5s);
  return value;
}

// ---- listings ----

std::vector<std::string> Rows(const std::string& listing) {
  auto lines = Lines(listing);
  if (!lines.empty()) lines.erase(lines.begin());
  return lines;
}

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream f(line);
  for (std::string w; f >> w;) out.push_back(w);
  return out;
}

std::string TaskStatus(const Berthd& d, const std::string& id) { return TaskStatuses(d.Ctr({"task", "ls"}).out)[id]; }

std::vector<std::string> Images(const Berthd& d) { return Lines(d.Ctr({"images", "ls", "-q"}).out); }

std::set<std::string> Content(const Berthd& d) {
  auto lines = Lines(d.Ctr({"content", "ls", "-q"}).out);
  return {lines.begin(), lines.end()};
}

std::string ImageDigest(const Berthd& d, const std::string& ref) {
  for (const auto& line : Rows(d.Ctr({"images", "ls"}).out)) {
    auto f = Fields(line);
    if (f.size() >= 3 && f[0] == ref) return f[2];
  }
  return "";
}

fs::path Bundle(const Berthd& d, const std::string& id) {
  return d.state() / "io.containerd.runtime.v2.task" / "default" / id;
}

// ---- files and PATH ----

fs::path WriteExecutable(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                         fs::perms::others_read | fs::perms::others_exec);
  return p;
}

fs::path FindExecutable(const std::string& name) {
  const char* path_env = std::getenv("PATH");
  std::string path = path_env != nullptr ? path_env : "";
  path += ":/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin";
  std::istringstream dirs(path);
  for (std::string d; std::getline(dirs, d, ':');) {
    if (d.empty()) continue;
    fs::path candidate = fs::path(d) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string PathWith(const fs::path& dir) {
  const char* path = std::getenv("PATH");
  return "PATH=" + dir.string() + ":" + (path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
}

// ---- the stand-in runtime ----

fs::path WriteStandIn(const fs::path& p, const fs::path& dir, const std::string& runc) {
  std::string text = kStandIn;
  text.replace(text.find("@DIR@"), 5, dir.string());
  text.replace(text.find("@RUNC@"), 6, runc);
  return WriteExecutable(p, text);
}

fs::path StandIn(const fs::path& dir) {
  fs::path p = dir / "standin-runc";
  if (!fs::exists(p)) WriteStandIn(p, dir, "runc");
  return p;
}

std::string StandInLog(const fs::path& dir) { return ReadFile(dir / "standin.log"); }

std::vector<std::string> StandInCalls(const fs::path& dir, const std::string& sub) {
  std::vector<std::string> out;
  for (const auto& line : Lines(StandInLog(dir))) {
    if (line.starts_with(sub + " ")) out.push_back(line);
  }
  return out;
}

// ---- criu ----

fs::path WriteFakeCriu(const fs::path& dir, const std::string& script) {
  WriteExecutable(dir / "criu", script);
  return dir;
}

WorkingCriu FindWorkingCriu() {
  fs::path criu;
  if (const char* env = std::getenv("BERTH_CRIU"); env != nullptr && *env != '\0') {
    criu = env;
  } else {
    criu = FindExecutable("criu");
  }
  if (criu.empty()) return {{}, "no criu ($BERTH_CRIU or on PATH)"};
  auto check = Run({criu.string(), "check"}, 60s);
  const auto lines = Lines(check.out + check.err);
  const std::string verdict = lines.empty() ? "exit " + std::to_string(check.exit_code) : lines.back();
  if (check.exit_code != 0 || (check.out + check.err).find("Looks good") == std::string::npos) {
    return {{}, "criu check: " + verdict};
  }
  return {criu, ""};
}

// ---- the fixtures' TearDown ----

void TearDownDaemons(const std::vector<Berthd*>& daemons, const std::vector<std::string>& ids) {
  for (Berthd* d : daemons) {
    if (d == nullptr || !d->running()) continue;
    // Whatever a failed test left is removed first, so the checks below see only leaks.
    for (const auto& [id, status] : TaskStatuses(d->Ctr({"task", "ls"}).out)) {
      d->Ctr({"task", "kill", "-s", "SIGKILL", id});
      d->Ctr({"task", "rm", "-f", id});
    }
    for (const auto& id : Lines(d->Ctr({"container", "ls", "-q"}).out)) d->Ctr({"container", "rm", id});
    for (const auto& ref : Lines(d->Ctr({"images", "ls", "-q"}).out)) d->Ctr({"images", "rm", ref});
    EXPECT_EQ(d->Stop(), 0) << "berthd did not exit cleanly on SIGTERM:\n" << d->Log();
  }
  for (const Berthd* d : daemons) {
    if (d == nullptr) continue;
    const std::string socket = d->socket().string();
    EXPECT_TRUE(WaitUntil([&] { return ProcessesMentioning(socket).empty(); }, 10s))
        << "shims left running:\n" << ::testing::PrintToString(ProcessesMentioning(socket));
    EXPECT_THAT(MountsUnder(d->state()), IsEmpty());
    EXPECT_THAT(MountsUnder(d->root()), IsEmpty());
  }
  for (const auto& id : ids) EXPECT_THAT(ContainerCgroupsLeft("default", id), IsEmpty()) << id;
  RemoveNamespaceCgroups("default");  // when no other test's containers are in it
}

}  // namespace berth::e2e
