#!/usr/bin/env bash
# Checkpoint/restore benchmark: the time of `ctr containers checkpoint --task` and of
# `ctr containers restore --live` of a container whose process keeps ~100 MiB of anonymous memory
# resident, in berthd and in containerd 1.6 (Debian's /usr/bin/containerd), both driven by the
# same /usr/bin/ctr, with the same criu and runc, in the same run. Prints per daemon the median
# over N runs of both times and the checkpoint image's size, and the ratios berthd/containerd
# (lower is better).
#
# Usage:
#   bench/checkpoint.sh [BUILD_DIR] [options]      (make bench-checkpoint builds and passes build/release)
#
#   BUILD_DIR            where berthd and berth-shim were built (default build/release)
#   --runs N             checkpoint + restore cycles per daemon (default 5); medians are reported
#   --daemons LIST       comma-separated subset of berthd,containerd (default both)
#   --op-timeout S       seconds one ctr call may take before the run counts as failed (default 300)
#   --tmp DIR            parent of the temp dir (default $TMPDIR or /var/tmp)
#   --keep               keep the temp dir (daemon logs, per-run ctr logs)
#
# criu: $BERTH_CRIU (the path of a criu binary) or the first criu in PATH. Its directory goes
# first in PATH for both daemons (and so for their shims and runc). `criu check` runs first;
# when it fails (or no criu is found) the script prints `skipped: ...` and exits 0.
#
# The workload, from the busybox test image the other benches use (scripts/mkimage, 1 layer):
#   awk 'BEGIN{s=sprintf("%104857600s",""); system("sleep 100000")}'
# (busybox awk keeps a 100 MiB string resident, then waits in sleep). Each run, for each daemon
# in turn (berthd, containerd, berthd, ...), with `ctr --address SOCK --namespace bench`:
#   1. run -d IMAGE cN awk ...; wait until the largest VmRSS among the task's processes
#      (`ctr tasks ps`, /proc/PID/status) is >= 100 MiB (not timed);
#   2. timed: containers checkpoint --task cN ck-N:1   (ctr pauses the task, the daemon has criu
#      dump it into its content store, ctr writes the checkpoint image and resumes the task);
#      then checks that the image is listed and cN is RUNNING;
#   3. tasks kill -s KILL cN, wait for STOPPED, tasks rm cN (not timed);
#   4. timed: containers restore --live cR-N ck-N:1   (new container from the checkpoint, task
#      created from criu's images and started); then checks that cR-N is RUNNING with the
#      memory back (VmRSS >= 100 MiB);
#   5. kill + rm of cR-N's task, containers rm cR-N cN, images rm --sync ck-N:1 (not timed).
# The times are the wall times of the ctr processes (Go start-up included, the same for both).
#
# Runs as root, never reads stdin, only loopback traffic. Each daemon has its own root, state,
# socket and TMPDIR under the temp dir (containerd 1.6 keeps criu's files in TMPDIR while it
# checkpoints and restores; berthd in ROOT/tmpcheckpoints and the bundle: the same filesystem);
# the system containerd's socket and root are never touched. Everything it started is stopped
# and the temp dir removed on exit.
# Exit status: 0 when every run of every daemon succeeded (or criu is unusable: skipped), 1
# otherwise, 2 for usage errors.
set -euo pipefail
prog=checkpoint.sh
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
. "$here/lib/prelude.sh"

build=build/release
runs=5
daemons="berthd,containerd"
op_timeout=300
tmp_parent=${TMPDIR:-/var/tmp}
keep=0
build_set=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --daemons) [ $# -ge 2 ] || usage; daemons=$2; shift 2 ;;
    --op-timeout) [ $# -ge 2 ] || usage; op_timeout=$2; shift 2 ;;
    --tmp) [ $# -ge 2 ] || usage; tmp_parent=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    -*) echo "$prog: unknown option: $1" >&2; usage ;;
    *) [ "$build_set" = 0 ] || usage; build=$1; build_set=1; shift ;;
  esac
done
isint "$runs" && [ "$runs" -ge 1 ] || { echo "$prog: --runs must be >= 1" >&2; exit 2; }
isint "$op_timeout" && [ "$op_timeout" -ge 1 ] || { echo "$prog: --op-timeout must be >= 1" >&2; exit 2; }
kinds=()
IFS=, read -r -a _ds <<<"$daemons"
for d in "${_ds[@]}"; do
  case "$d" in berthd|containerd) kinds+=("$d") ;; *) echo "$prog: --daemons: unknown $d" >&2; exit 2 ;; esac
done
[ "${#kinds[@]}" -ge 1 ] || usage

# The workload and what "resident" means for it.
workload_mib=100
workload=(awk 'BEGIN{s=sprintf("%104857600s",""); system("sleep 100000")}')
rss_min_kib=$((workload_mib * 1024))
rss_timeout=120   # seconds to wait for the workload's memory

[ "$(id -u)" = 0 ] || die "must run as root"
case "$build" in /*) ;; *) build=$repo/$build ;; esac
berthd_bin=$build/cmd/berthd/berthd
CTR=${CTR:-/usr/bin/ctr}
CONTAINERD=${CONTAINERD:-/usr/bin/containerd}
for d in "${kinds[@]}"; do
  case "$d" in
    berthd) [ -x "$berthd_bin" ] && [ -x "$build/cmd/berth-shim/berth-shim" ] ||
              die "$berthd_bin or berth-shim is missing; run 'make bench-checkpoint' (or 'make build')" ;;
    containerd) [ -x "$CONTAINERD" ] || die "$CONTAINERD not found (package containerd)" ;;
  esac
done
for t in timeout docker-registry skopeo awk sort runc; do
  command -v "$t" >/dev/null || die "$t not installed (scripts/setup installs the dependencies)"
done

# ---------------------------------------------------------------- criu
if [ -n "${BERTH_CRIU:-}" ]; then
  criu=$BERTH_CRIU
  case "$criu" in /*) ;; *) criu=$(cd -- "$(dirname -- "$criu")" && pwd -P)/$(basename -- "$criu") ;; esac
  [ -x "$criu" ] && [ -f "$criu" ] || die "BERTH_CRIU=$BERTH_CRIU is not an executable file"
else
  criu=$(command -v criu || true)
  if [ -z "$criu" ]; then
    echo "$prog: skipped: criu not found (set BERTH_CRIU=/path/to/criu or put criu in PATH)"
    exit 0
  fi
fi
criu_dir=$(dirname -- "$criu")
# runc (under both shims) runs `criu` from its PATH, and berth-shim runs `criu check` to explain
# a failure: criu's directory goes first in the PATH the daemons start with.
daemon_path=$criu_dir:$PATH
if [ "$(basename -- "$criu")" != criu ]; then
  die "$criu: the binary must be named criu (runc runs \`criu\` from PATH)"
fi
criu_rc=0
criu_out=$(PATH=$daemon_path timeout -k 5 120 "$criu" check </dev/null 2>&1) || criu_rc=$?
if [ "$criu_rc" != 0 ]; then
  last=$(printf '%s\n' "$criu_out" | grep -v '^[[:space:]]*$' | tail -n 1 || true)
  [ -n "$last" ] || last="exit status $criu_rc, no output"
  echo "$prog: skipped: criu check: $last"
  exit 0
fi
criu_verdict=$(printf '%s\n' "$criu_out" | grep -v '^[[:space:]]*$' | tail -n 1 || true)
criu_version=$("$criu" --version 2>/dev/null | awk -F': *' '/^Version/ {print $2; exit}' || true)

tmp=$(mktemp -d "$tmp_parent/berth-bench-checkpoint.XXXXXX")
tmp=$(cd -- "$tmp" && pwd -P)
registry_started=0
. "$here/lib/daemons.sh"
. "$here/lib/image.sh"
bench_cleanup_hook() {
  local k
  for k in "${!daemon_pid[@]}"; do remove_all_tasks "$k" "$tmp/$k" >/dev/null 2>&1 || true; done
}

# ctr against one daemon, in namespace bench, bounded by --op-timeout; stdin is /dev/null.
c() {  # kind args...
  local kind=$1
  shift
  timeout -k 5 "$op_timeout" "$CTR" --address "$(sock_of "$tmp/$kind" "$kind")" --namespace bench "$@" </dev/null
}
task_status() {  # kind id: RUNNING, STOPPED, PAUSED, ... or nothing when there is no task
  c "$1" tasks ls 2>/dev/null | awk -v id="$2" 'NR > 1 && $1 == id {print $3; exit}' || true
}
# The largest VmRSS (KiB) among the task's processes (awk, and the sh/sleep it runs), 0 if none.
task_rss_kib() {  # kind id
  local p r max=0
  for p in $(c "$1" tasks ps "$2" 2>/dev/null | awk 'NR > 1 && $1 ~ /^[0-9]+$/ {print $1}' || true); do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    [ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
  done
  echo "$max"
}
wait_rss() {  # kind id: waits (up to rss_timeout) for >= rss_min_kib; prints the last value
  local i r=0
  for ((i = 0; i < rss_timeout * 5; i++)); do
    r=$(task_rss_kib "$1" "$2")
    [ "$r" -ge "$rss_min_kib" ] && break
    sleep 0.2
  done
  echo "$r"
}
wait_stopped() {  # kind id: up to 30 s for the task to be STOPPED (or gone)
  local i s
  for ((i = 0; i < 300; i++)); do
    s=$(task_status "$1" "$2")
    case "$s" in STOPPED|"") return 0 ;; esac
    sleep 0.1
  done
  return 1
}
# Sum of the sizes of the blobs the checkpoint image's index lists (criu's tar, the spec, the
# runtime options), bytes; nothing when the image or its index cannot be read.
image_bytes() {  # kind ref
  local dg
  dg=$(c "$1" images ls 2>/dev/null | awk -v r="$2" 'NR > 1 && $1 == r {print $3; exit}' || true)
  [ -n "$dg" ] || return 0
  c "$1" content get "$dg" 2>/dev/null | grep -o '"size": *[0-9][0-9]*' | awk -F: '{s += $2} END {if (NR) print s}' || true
}
mib() { awk -v k="$1" -v d="$2" 'BEGIN { printf "%.1f", k / d }'; }  # value divisor
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }

# ---------------------------------------------------------------- machine and versions
echo "== berth checkpoint benchmark: ctr containers checkpoint --task / restore --live, ${workload_mib} MiB resident, berthd vs containerd"
echo "machine:     $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM"
echo "temp dir:    $tmp ($(df --output=fstype "$tmp" | tail -n 1) filesystem)"
echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg) (at start)"
echo "ctr:         $("$CTR" --version)"
for d in "${kinds[@]}"; do
  case "$d" in
    berthd) echo "berthd:      $("$berthd_bin" --version 2>&1 | head -n 1) (shim: berth-shim)" ;;
    containerd) echo "containerd:  $("$CONTAINERD" --version 2>&1 | head -n 1) (shim: containerd-shim-runc-v2)" ;;
  esac
done
runc_bin=$(PATH=$daemon_path; command -v runc)
echo "runc:        $("$runc_bin" --version 2>&1 | head -n 1) ($runc_bin)"
echo "criu:        $criu ${criu_version:+(version $criu_version) }- criu check: $criu_verdict"

bench_image_setup
for d in "${kinds[@]}"; do
  mkdir -p "$tmp/$d/tmp"
  PATH=$daemon_path TMPDIR=$tmp/$d/tmp XDG_RUNTIME_DIR=$tmp/$d/tmp start_daemon "$d" "$tmp/$d" || die "$d did not start"
  bench_image_pull "$d" "$tmp/$d"
done
echo "image:       $ref (busybox, 1 layer)"
echo "workload:    ${workload[*]}"
echo "             (measured: largest VmRSS among the task's processes, >= $workload_mib MiB before each checkpoint)"
echo "runs:        $runs per daemon, daemons alternating; times are ctr's wall time; MiB = 2^20 bytes"
echo

# ---------------------------------------------------------------- the runs
declare -A ck_times=() rs_times=() sizes=() rsss=()  # kind -> space-separated values
declare -A failed=()                                 # kind -> message

report_failure() {  # kind what log rc
  local kind=$1 what=$2 log=$3 rc=$4
  {
    echo "---- $kind: $what$([ "$rc" = 124 ] && echo " (timed out after ${op_timeout}s)"); ctr output (last 30 lines):"
    [ -s "$log" ] && tail -n 30 "$log" | sed 's/^/  ctr: /'
    echo "---- $kind log tail ($tmp/$kind/$kind.log, last 40 lines):"
    tail -n 40 "$tmp/$kind/$kind.log" | sed "s/^/  $kind: /"
    echo "----"
  } >&2
}

# Removes what a run left (after a failure): every task and container, the checkpoint image.
scrub() {  # kind n
  remove_all_tasks "$1" "$tmp/$1" >/dev/null 2>&1 || true
  c "$1" images rm --sync "ck-$2:1" >/dev/null 2>&1 || true
}

fail() {  # kind n what log rc
  printf 'run %d  %-10s  FAILED: %s\n' "$2" "$1" "$3"
  report_failure "$1" "$3" "$4" "$5"
  failed[$1]="$3 (run $2)"
  scrub "$1" "$2"
}

one_run() {  # kind run_no
  local kind=$1 n=$2 id=c$2 rid=cR-$2 ck=ck-$2:1 log rc=0 t0 t1 ck_ns rs_ns rss rss2 bytes st
  log=$tmp/$kind/run.$n.log
  : >"$log"
  # 1. the container, and its memory
  c "$kind" run -d "$ref" "$id" "${workload[@]}" >>"$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then fail "$kind" "$n" "ctr run -d failed (exit $rc)" "$log" "$rc"; return; fi
  rss=$(wait_rss "$kind" "$id")
  if [ "$rss" -lt "$rss_min_kib" ]; then
    fail "$kind" "$n" "the workload's RSS is $(mib "$rss" 1024) MiB after ${rss_timeout}s (want >= $workload_mib MiB)" "$log" 0
    return
  fi
  # 2. checkpoint (timed)
  sync
  t0=$(now_ns)
  c "$kind" containers checkpoint --task "$id" "$ck" >>"$log" 2>&1 || rc=$?
  t1=$(now_ns)
  ck_ns=$((t1 - t0))
  if [ "$rc" != 0 ]; then fail "$kind" "$n" "ctr containers checkpoint failed (exit $rc)" "$log" "$rc"; return; fi
  bytes=$(image_bytes "$kind" "$ck")
  if [ -z "$bytes" ]; then fail "$kind" "$n" "checkpoint $ck is not listed (or its index is unreadable)" "$log" 0; return; fi
  st=$(task_status "$kind" "$id")
  if [ "$st" != RUNNING ]; then fail "$kind" "$n" "task $id is ${st:-gone} after the checkpoint (want RUNNING)" "$log" 0; return; fi
  # 3. the original goes away (not timed)
  c "$kind" tasks kill -s KILL "$id" >>"$log" 2>&1 || rc=$?
  if [ "$rc" = 0 ] && ! wait_stopped "$kind" "$id"; then rc=1; fi
  [ "$rc" != 0 ] || c "$kind" tasks rm "$id" >>"$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then fail "$kind" "$n" "could not kill and remove task $id (exit $rc)" "$log" "$rc"; return; fi
  # 4. restore (timed)
  sync
  t0=$(now_ns)
  c "$kind" containers restore --live "$rid" "$ck" >>"$log" 2>&1 || rc=$?
  t1=$(now_ns)
  rs_ns=$((t1 - t0))
  if [ "$rc" != 0 ]; then fail "$kind" "$n" "ctr containers restore --live failed (exit $rc)" "$log" "$rc"; return; fi
  st=$(task_status "$kind" "$rid")
  if [ "$st" != RUNNING ]; then fail "$kind" "$n" "restored task $rid is ${st:-missing} (want RUNNING)" "$log" 0; return; fi
  rss2=$(task_rss_kib "$kind" "$rid")
  if [ "$rss2" -lt "$rss_min_kib" ]; then
    fail "$kind" "$n" "restored task $rid has $(mib "$rss2" 1024) MiB resident (want >= $workload_mib MiB)" "$log" 0
    return
  fi
  printf 'run %d  %-10s  checkpoint %9s ms   restore %9s ms   (RSS %s MiB, restored %s MiB, image %s MiB)\n' \
    "$n" "$kind" "$(ms "$ck_ns")" "$(ms "$rs_ns")" "$(mib "$rss" 1024)" "$(mib "$rss2" 1024)" "$(mib "$bytes" 1048576)"
  ck_times[$kind]="${ck_times[$kind]:-} $ck_ns"
  rs_times[$kind]="${rs_times[$kind]:-} $rs_ns"
  sizes[$kind]="${sizes[$kind]:-} $bytes"
  rsss[$kind]="${rsss[$kind]:-} $rss"
  # 5. clean up (not timed)
  c "$kind" tasks kill -s KILL "$rid" >>"$log" 2>&1 || rc=$?
  if [ "$rc" = 0 ] && ! wait_stopped "$kind" "$rid"; then rc=1; fi
  [ "$rc" != 0 ] || c "$kind" tasks rm "$rid" >>"$log" 2>&1 || rc=$?
  [ "$rc" != 0 ] || c "$kind" containers rm "$rid" "$id" >>"$log" 2>&1 || rc=$?
  [ "$rc" != 0 ] || c "$kind" images rm --sync "$ck" >>"$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then fail "$kind" "$n" "cleanup after the run failed (exit $rc)" "$log" "$rc"; return; fi
}

for ((n = 1; n <= runs; n++)); do
  for d in "${kinds[@]}"; do
    [ -n "${failed[$d]:-}" ] && continue
    one_run "$d" "$n"
  done
done

# ---------------------------------------------------------------- summary
median() {  # numbers on the command line (mean of the middle two for an even count)
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.0f", v[(NR + 1) / 2]; else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo
echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg) (at end)"
printf '%-11s %5s %14s %11s %10s %8s\n' daemon runs "checkpoint ms" "restore ms" "image MiB" "RSS MiB"
declare -A med_ck=() med_rs=()
status=0
for d in "${kinds[@]}"; do
  if [ -n "${failed[$d]:-}" ]; then
    printf '%-11s FAILED: %s\n' "$d" "${failed[$d]}"
    status=1
    continue
  fi
  # shellcheck disable=SC2086
  set -- ${ck_times[$d]}
  count=$#
  med_ck[$d]=$(median "$@")
  # shellcheck disable=SC2086
  med_rs[$d]=$(median ${rs_times[$d]})
  # shellcheck disable=SC2086
  printf '%-11s %5d %14s %11s %10s %8s\n' "$d" "$count" "$(ms "${med_ck[$d]}")" "$(ms "${med_rs[$d]}")" \
    "$(mib "$(median ${sizes[$d]})" 1048576)" "$(mib "$(median ${rsss[$d]})" 1024)"
done
if [ -n "${med_ck[berthd]:-}" ] && [ -n "${med_ck[containerd]:-}" ]; then
  awk -v bc="${med_ck[berthd]}" -v cc="${med_ck[containerd]}" -v br="${med_rs[berthd]}" -v cr="${med_rs[containerd]}" 'BEGIN {
    printf "checkpoint time ratio berthd/containerd: %.2f   speedup (containerd_time / berthd_time): %.2fx\n", bc / cc, cc / bc
    printf "restore time ratio berthd/containerd:    %.2f   speedup (containerd_time / berthd_time): %.2fx\n", br / cr, cr / br }'
fi
exit "$status"
