#!/usr/bin/env bash
# Density benchmark: memory per running task. Starts N tasks (`sleep 100000`) in berthd and in
# containerd 1.6, both driven by the same /usr/bin/ctr in the same run, then reads, for each
# daemon: its own RSS (idle before the tasks, and with N tasks), and for its shims (every process
# whose command line names the daemon's socket: berth-shim / containerd-shim-runc-v2) the mean
# RSS and PSS (/proc/PID/smaps_rollup) and thread count, and the total (all shims' PSS + the
# daemon's RSS, MiB). Prints both and the ratios.
#
# Usage:
#   bench/density.sh [BUILD_DIR] [options]      (make bench-density builds and passes build/release)
#
#   BUILD_DIR            where berthd and berth-shim were built (default build/release)
#   --count N            tasks per daemon (default 50)
#   --parallel P         concurrent ctr invocations while starting them (default 10)
#   --runtime R          runc (default) or crun
#   --daemons LIST       comma-separated subset of berthd,containerd (default both)
#   --tmp DIR            parent of the temp dir (default $TMPDIR or /var/tmp)
#   --keep               keep the temp dir
#
# Runs as root, reads no stdin (GNU xargs gives each ctr /dev/null), loopback only, stops everything
# it started on exit.
set -euo pipefail
prog=density.sh
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
. "$here/lib/prelude.sh"

build=build/release
count=50
parallel=10
runtime=runc
daemons="berthd,containerd"
tmp_parent=${TMPDIR:-/var/tmp}
keep=0
build_set=0
while [ $# -gt 0 ]; do
  case "$1" in
    --count) [ $# -ge 2 ] || usage; count=$2; shift 2 ;;
    --parallel) [ $# -ge 2 ] || usage; parallel=$2; shift 2 ;;
    --runtime) [ $# -ge 2 ] || usage; runtime=$2; shift 2 ;;
    --daemons) [ $# -ge 2 ] || usage; daemons=$2; shift 2 ;;
    --tmp) [ $# -ge 2 ] || usage; tmp_parent=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    -*) echo "$prog: unknown option: $1" >&2; usage ;;
    *) [ "$build_set" = 0 ] || usage; build=$1; build_set=1; shift ;;
  esac
done
[[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] || { echo "$prog: --count must be >= 1" >&2; exit 2; }
[[ "$parallel" =~ ^[0-9]+$ ]] && [ "$parallel" -ge 1 ] || { echo "$prog: --parallel must be >= 1" >&2; exit 2; }
case "$runtime" in runc|crun) ;; *) echo "$prog: --runtime must be runc or crun" >&2; exit 2 ;; esac
kinds=()
IFS=, read -r -a _ds <<<"$daemons"
for d in "${_ds[@]}"; do
  case "$d" in berthd|containerd) kinds+=("$d") ;; *) echo "$prog: --daemons: unknown $d" >&2; exit 2 ;; esac
done

[ "$(id -u)" = 0 ] || die "must run as root"
case "$build" in /*) ;; *) build=$repo/$build ;; esac
berthd_bin=$build/cmd/berthd/berthd
CTR=${CTR:-/usr/bin/ctr}
CONTAINERD=${CONTAINERD:-/usr/bin/containerd}
[ -x "$berthd_bin" ] && [ -x "$build/cmd/berth-shim/berth-shim" ] || die "berthd or berth-shim missing in $build"
for t in timeout docker-registry skopeo xargs awk; do
  command -v "$t" >/dev/null || die "$t not installed (scripts/setup installs the dependencies)"
done

tmp=$(mktemp -d "$tmp_parent/berth-bench-density.XXXXXX")
tmp=$(cd -- "$tmp" && pwd -P)
registry_started=0
. "$here/lib/daemons.sh"
. "$here/lib/image.sh"
bench_cleanup_hook() {
  local k
  for k in "${!daemon_pid[@]}"; do remove_all_tasks "$k" "$tmp/$k" >/dev/null 2>&1 || true; done
  bench_hugetlb_undo
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
shims_of() {  # socket path -> pids of the shims naming it on their command line
  local sock=$1 p
  for p in $(grep -lsF -- "$sock" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    case "$(cat "/proc/$p/comm" 2>/dev/null)" in *shim*) echo "$p" ;; esac
  done
}

echo "== berth density benchmark: $count running tasks ($runtime, sleep 100000) per daemon"
echo "machine:     $(nproc) CPUs, kernel $(uname -r), load avg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ctr:         $("$CTR" --version)"
bench_image_setup
[ "$runtime" = crun ] && bench_need_hugetlb
flags=""
[ "$runtime" = crun ] && flags="--runc-binary crun"
declare -A row=()
status=0
for d in "${kinds[@]}"; do
  dir=$tmp/$d
  start_daemon "$d" "$dir" || die "$d did not start"
  bench_image_pull "$d" "$dir"
  sleep 1
  idle=$(rss_kib "${daemon_pid[$d]}")
  sock=$(sock_of "$dir" "$d")
  seq 1 "$count" | xargs -P "$parallel" -I{} timeout -k 5 120 "$CTR" --address "$sock" --namespace bench \
    run -d $flags "$ref" "d-{}" sleep 100000 >/dev/null 2>>"$dir/run.err" || true
  running=$("$CTR" --address "$sock" --namespace bench task ls 2>/dev/null | awk 'NR > 1 && $3 == "RUNNING"' | wc -l)
  [ "$running" = "$count" ] || { status=1; echo "$prog: $d: only $running of $count running" >&2; head -n 5 "$dir/run.err" >&2; }
  sleep 2  # let start-up allocations settle
  busy=$(rss_kib "${daemon_pid[$d]}")
  n=0; rss=0; pss=0; thr=0
  for p in $(shims_of "$sock"); do
    n=$((n + 1)); rss=$((rss + $(rss_kib "$p"))); pss=$((pss + $(pss_kib "$p"))); thr=$((thr + $(threads "$p")))
  done
  row[$d]="$running $idle $busy $n $rss $pss $thr"
  remove_all_tasks "$d" "$dir"
  stop_daemon "$d" "$dir"
done
bench_hugetlb_undo

echo
printf '%-11s %7s %15s %14s %6s %14s %14s %12s %16s\n' daemon tasks "daemon idle MiB" "daemon N MiB" shims \
  "shim RSS MiB" "shim PSS MiB" "shim threads" "shims PSS+daemon"
for d in "${kinds[@]}"; do
  read -r running idle busy n rss pss thr <<<"${row[$d]}"
  awk -v d="$d" -v t="$running" -v i="$idle" -v b="$busy" -v n="$n" -v r="$rss" -v p="$pss" -v th="$thr" 'BEGIN {
    nn = (n > 0 ? n : 1)
    printf "%-11s %7d %15.1f %14.1f %6d %14.2f %14.2f %12.1f %16.1f\n", d, t, i / 1024, b / 1024, n,
      r / nn / 1024, p / nn / 1024, th / nn, (p + b) / 1024 }'
done
if [ -n "${row[berthd]:-}" ] && [ -n "${row[containerd]:-}" ]; then
  read -r _ _ bb bn _ bp _ <<<"${row[berthd]}"
  read -r _ _ cb cn _ cp _ <<<"${row[containerd]}"
  awk -v bb="$bb" -v bn="$bn" -v bp="$bp" -v cb="$cb" -v cn="$cn" -v cp="$cp" 'BEGIN {
    printf "per-shim PSS containerd/berthd: %.1fx; daemon RSS with tasks containerd/berthd: %.1fx\n",
      (cp / (cn > 0 ? cn : 1)) / (bp / (bn > 0 ? bn : 1)), cb / bb }'
fi
exit "$status"
