#!/usr/bin/env bash
# Measurements for Docker on berth (not a test): dockerd 20.10 in front of berthd or Debian's
# containerd 1.6, same dockerd flags, temp dirs, cleaned up after.
#
# Usage: bench/docker.sh berthd BERTHD_BIN SHIM_DIR [RUNS] [DENSITY]
#        bench/docker.sh containerd [RUNS] [DENSITY]
# (the daemons and the image are set up by tests/compat/docker/lib.sh, as the Docker e2e test does)
#
# 1. `docker run --rm IMG true` wall time, RUNS times (default 10) after one warm-up: median,
#    min, max (ms).
# 2. DENSITY (default 20) `docker run -d IMG sleep 1000` containers, then memory: RSS of
#    dockerd, RSS of the daemon, sum of PSS (smaps_rollup) of the shims (processes naming the
#    daemon socket), also their RSS sum.
set -uo pipefail
export LC_ALL=C
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=../tests/compat/docker/lib.sh
. "$here/../tests/compat/docker/lib.sh"

kind=${1:?usage: docker.sh berthd BERTHD_BIN SHIM_DIR [RUNS] [DENSITY] | containerd [RUNS] [DENSITY]}
shift
if [ "$kind" = berthd ]; then BERTHD_BIN=$(realpath -- "$1"); SHIM_DIR=$(realpath -- "$2"); shift 2; fi
RUNS=${1:-10}
DENSITY=${2:-20}

trap 'cleanup_all' EXIT
trap 'exit 130' INT TERM
make_tmp
if [ "$kind" = berthd ]; then start_berthd "$BERTHD_BIN" "$SHIM_DIR"; else start_containerd; fi || exit 1
start_dockerd || exit 1
load_image || exit 1

ms() { echo $(( $(date +%s%N) / 1000000 )); }
dk_t 60 run --rm "$IMG" true >/dev/null 2>&1   # warm-up
times=()
for i in $(seq 1 "$RUNS"); do
  t0=$(ms); dk_t 60 run --rm "$IMG" true >/dev/null 2>&1 || echo "run $i failed" >&2; t1=$(ms)
  times+=($((t1 - t0)))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}' <<<"$sorted")
echo "$kind: docker run --rm true x$RUNS: median ${median} ms, min $(head -1 <<<"$sorted") ms, max $(tail -1 <<<"$sorted") ms (all: ${times[*]})"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
kb_mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
mem_report() {
  local label=$1 d_rss c_rss pss=0 srss=0 n=0 p
  d_rss=$(rss_kb "$PID_DOCKERD"); c_rss=$(rss_kb "$PIDS_DAEMON")
  for p in $(shims_of_socket); do
    n=$((n + 1))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
    srss=$((srss + $(rss_kb "$p")))
  done
  echo "$kind $label: dockerd RSS $(kb_mib "$d_rss") MiB, $kind RSS $(kb_mib "$c_rss") MiB, $n shims: PSS sum $(kb_mib $pss) MiB (RSS sum $(kb_mib $srss) MiB); total dockerd+daemon+shim PSS $(kb_mib $((d_rss + c_rss + pss))) MiB"
}
mem_report "idle"
for i in $(seq 1 "$DENSITY"); do
  dk_t 60 run -d --name "d$i" "$IMG" sleep 1000 >/dev/null 2>"$T/err" || { echo "run -d $i failed: $(cat "$T/err")" >&2; }
done
sleep 2
running=$(dk_t 20 ps -q | wc -l)
mem_report "$running running"
