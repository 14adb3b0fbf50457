#!/usr/bin/env bash
# Soak: N container lifecycles through berthd's gRPC API, P at a time, by one client
# (BUILD_DIR/bench/berth-soak, bench/soak.cc). Each cycle: container (spec from the image config,
# snapshot on its chain id), task with null stdio, start, exec `sh -c 'exit 3'` (waited for, its
# status checked, deleted), SIGKILL, wait, delete task, delete snapshot and container. berthd's
# footprint is sampled after a warm-up (2*P cycles) and after the run: open fds, threads, RSS,
# mounts under its root and state, container cgroups, shim processes, berthd's children,
# SQLite size, task bundle dirs, runc state dirs and snapshot dirs must come back to their
# baseline. Prints the table (metric | before | after | delta | limit), the cycles and the rate;
# then stops berthd (SIGTERM, which must exit 0) and checks that no mount, no process and no
# container cgroup of it is left.
#
# Usage:
#   bench/soak.sh [BUILD_DIR] [options]       (make bench-soak builds and passes build/release)
#
#   BUILD_DIR            where berthd, berth-shim and bench/berth-soak were built
#                        (default build/release)
#   --cycles N           cycles measured (default 10000)
#   --parallel P         concurrent cycles (default 10)
#   --warmup W           cycles before the baseline (default 2*P)
#   --runtime R          runc (default) or crun
#   --rss-slack-kib K    RSS growth tolerated, KiB (default 4096)
#   --db-slack-kib K     SQLite growth tolerated beyond the WAL's growth to its checkpoint size,
#                        KiB (default 1024)
#   --settle S           seconds the counts get to come back after the run (default 10)
#   --berthd-arg ARG     one more berthd flag (repeatable)
#   --tmp DIR            parent of the temp dir (default $TMPDIR or /var/tmp)
#   --keep               keep the temp dir (berthd's log, the soak's output)
#
# 10 000 cycles take ~35-45 min on 2 vCPUs with runc (a cycle costs about two starts; see
# bench/README.md). The image is the busybox test image (scripts/mkimage) served from a loopback
# registry and pulled with ctr, as for the other benchmarks. Runs as root, reads no stdin,
# loopback only, and stops everything it started on exit.
# Exit status: 0 if every cycle succeeded, every metric came back, berthd exited 0 and nothing was
# left behind; 1 otherwise; 2 for usage errors.
set -euo pipefail
prog=soak.sh
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
. "$here/lib/prelude.sh"

build=build/release
cycles=10000
parallel=10
warmup=""
runtime=runc
rss_slack=4096
db_slack=1024
settle=10
tmp_parent=${TMPDIR:-/var/tmp}
keep=0
build_set=0
extra_berthd_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cycles) [ $# -ge 2 ] || usage; cycles=$2; shift 2 ;;
    --parallel) [ $# -ge 2 ] || usage; parallel=$2; shift 2 ;;
    --warmup) [ $# -ge 2 ] || usage; warmup=$2; shift 2 ;;
    --runtime) [ $# -ge 2 ] || usage; runtime=$2; shift 2 ;;
    --rss-slack-kib) [ $# -ge 2 ] || usage; rss_slack=$2; shift 2 ;;
    --db-slack-kib) [ $# -ge 2 ] || usage; db_slack=$2; shift 2 ;;
    --settle) [ $# -ge 2 ] || usage; settle=$2; shift 2 ;;
    --berthd-arg) [ $# -ge 2 ] || usage; extra_berthd_args+=("$2"); shift 2 ;;
    --tmp) [ $# -ge 2 ] || usage; tmp_parent=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    -*) echo "$prog: unknown option: $1" >&2; usage ;;
    *) [ "$build_set" = 0 ] || usage; build=$1; build_set=1; shift ;;
  esac
done
isint "$cycles" && [ "$cycles" -ge 1 ] || { echo "$prog: --cycles must be >= 1" >&2; exit 2; }
isint "$parallel" && [ "$parallel" -ge 1 ] || { echo "$prog: --parallel must be >= 1" >&2; exit 2; }
[ -z "$warmup" ] || isint "$warmup" || { echo "$prog: --warmup must be >= 0" >&2; exit 2; }
for v in "$rss_slack" "$db_slack" "$settle"; do
  isint "$v" || { echo "$prog: --rss-slack-kib, --db-slack-kib and --settle take integers >= 0" >&2; exit 2; }
done
case "$runtime" in runc|crun) ;; *) echo "$prog: --runtime must be runc or crun" >&2; exit 2 ;; esac

[ "$(id -u)" = 0 ] || die "must run as root"
case "$build" in /*) ;; *) build=$repo/$build ;; esac
berthd_bin=$build/cmd/berthd/berthd
soak_bin=$build/bench/berth-soak
CTR=${CTR:-/usr/bin/ctr}
[ -x "$berthd_bin" ] && [ -x "$build/cmd/berth-shim/berth-shim" ] ||
  die "$berthd_bin or berth-shim is missing; run 'make bench-soak' (or 'make build')"
[ -x "$soak_bin" ] || die "$soak_bin is missing; run 'make bench-soak' (or 'make build')"
[ -x "$CTR" ] || die "$CTR not found (package containerd)"
for t in timeout docker-registry skopeo xargs awk "$runtime"; do
  command -v "$t" >/dev/null || die "$t not installed (scripts/setup installs the dependencies)"
done

tmp=$(mktemp -d "$tmp_parent/berth-bench-soak.XXXXXX")
tmp=$(cd -- "$tmp" && pwd -P)
dir=$tmp/berthd
ns=soak-${tmp##*.}   # a namespace of our own: the cgroups /sys/fs/cgroup/*/$ns/<id> are only ours
registry_started=0
. "$here/lib/daemons.sh"
. "$here/lib/image.sh"

# Running and not a zombie (berthd is our child until we reap it).
alive() { kill -0 "$1" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null || echo Z)" != Z ]; }
# Container cgroups of our namespace (not the namespace's own dirs, which runc leaves).
container_cgroups() {
  local c
  for c in /sys/fs/cgroup/*/"$ns"/*/ /sys/fs/cgroup/"$ns"/*/; do
    if [ -d "$c" ]; then echo "${c%/}"; fi
  done
}
# Processes (not this script) whose command line names berthd's dir: shims, runc, berthd.
ours() {
  local p
  for p in $(grep -lsF -- "$dir/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    [ "$p" != $$ ] && [ "$p" != "$BASHPID" ] || continue
    tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "$dir/" || continue  # (grep itself)
    echo "$p"
  done
}
# On exit, berthd stopped (daemons.sh's cleanup): what a failed or interrupted run left of ours.
# The containers' processes (killing a shim does not end its container), the shims and their
# sockets (/run/berth/s/<hash>, named in each bundle's `address`), then the cgroups.
bench_cleanup_hook() {
  local a c p i
  local socks=()
  for a in "$dir"/state/io.containerd.runtime.v2.task/*/*/address; do
    if [ -f "$a" ]; then socks+=("$(sed 's|^unix://||' "$a")"); fi
  done
  for c in $(container_cgroups); do
    if [ -f "$c/cgroup.procs" ]; then xargs -r kill -KILL <"$c/cgroup.procs" 2>/dev/null; fi
  done
  for p in $(ours); do kill -KILL "$p" 2>/dev/null; done
  for a in ${socks[@]+"${socks[@]}"}; do
    case "$a" in /run/berth/s/*) rm -f -- "$a" ;; esac
  done
  for i in 1 2 3 4 5; do
    for c in $(container_cgroups); do rmdir "$c" 2>/dev/null; done
    [ -n "$(container_cgroups)" ] || break
    sleep 0.5
  done
  for c in /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/"$ns"; do
    if [ -d "$c" ]; then rmdir "$c" 2>/dev/null; fi
  done
  bench_hugetlb_undo
}

echo "== berth soak: $cycles create/start/exec/kill/delete cycles, $parallel at a time, runtime $runtime"
echo "machine:     $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r)"
echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg) (at start)"
echo "berthd:      $("$berthd_bin" --version 2>&1 | head -n 1) (shim: berth-shim)"
echo "$runtime:$(printf '%*s' $((12 - ${#runtime})) '')$("$runtime" --version 2>&1 | head -n 1)"

bench_image_setup
BERTHD_ARGS=(${extra_berthd_args[@]+"${extra_berthd_args[@]}"})
[ ${#BERTHD_ARGS[@]} -eq 0 ] || echo "berthd args: ${BERTHD_ARGS[*]}"
sock=$(sock_of "$dir" berthd)
start_daemon berthd "$dir" || die "berthd did not start"
# As bench_image_pull, into our namespace.
timeout -k 5 300 "$CTR" --address "$sock" --namespace "$ns" images pull --plain-http "$ref" \
  </dev/null >"$dir/pull.log" 2>&1 || { cat "$dir/pull.log" >&2; die "pull of $ref failed"; }
echo "image:       $ref (busybox, 1 layer) in namespace $ns; tasks run sleep 100000, execs sh -c 'exit 3'"
[ "$runtime" = crun ] && bench_need_hugetlb
echo

soak_args=(--address "$sock" --namespace "$ns" --image "$ref" --cycles "$cycles" --parallel "$parallel"
  --pid "${daemon_pid[berthd]}" --root "$dir/root" --state "$dir/state" --check
  --rss-slack-kib "$rss_slack" --db-slack-kib "$db_slack" --settle "$settle")
[ -z "$warmup" ] || soak_args+=(--warmup "$warmup")
[ "$runtime" = runc ] || soak_args+=(--runc-binary "$runtime")
# The table goes to stdout (and $tmp/soak.out); progress lines and failures to stderr.
set +e
"$soak_bin" "${soak_args[@]}" </dev/null | tee "$tmp/soak.out"
soak_rc=${PIPESTATUS[0]}
set -e
status=0
[ "$soak_rc" = 0 ] || { status=1; echo "$prog: berth-soak exited $soak_rc" >&2; }

# Stop berthd ourselves (SIGTERM, 20 s) to see its exit status; then nothing of it may be left.
pid=${daemon_pid[berthd]}
kill -TERM "$pid" 2>/dev/null || true
for ((i = 0; i < 200; i++)); do alive "$pid" || break; sleep 0.1; done
if alive "$pid"; then
  echo "$prog: berthd ignored SIGTERM for 20 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
fi
berthd_rc=0
wait "$pid" 2>/dev/null || berthd_rc=$?
unset 'daemon_pid[berthd]'
echo "berthd exit status on SIGTERM: $berthd_rc"
if [ "$berthd_rc" != 0 ]; then
  status=1
  tail -n 20 "$dir/berthd.log" | sed 's/^/  berthd: /' >&2
fi

left=()
while IFS= read -r m; do left+=("mount $m"); done < <(awk -v b="$dir" '$5 == b || index($5, b "/") == 1 {print $5}' /proc/self/mountinfo)
for p in $(ours); do left+=("process $p: $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")"); done
while IFS= read -r c; do left+=("cgroup $c"); done < <(container_cgroups)
if [ ${#left[@]} -eq 0 ]; then
  echo "left behind: nothing (mounts under $dir, processes naming it, container cgroups of namespace $ns)"
else
  status=1
  echo "left behind:"
  printf '  %s\n' "${left[@]}"
fi
echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg) (at end)"
[ "$status" = 0 ] && echo "soak: ok" || echo "soak: FAILED"
exit "$status"
