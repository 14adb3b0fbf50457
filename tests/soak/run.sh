#!/usr/bin/env bash
# Soak test (make test, ctest `soak.cycles500`): a berthd (the ASan+UBSan build) on temp dirs with a
# namespace of its own, the busybox test image built offline (scripts/embedded-image, i.e.
# scripts/mkimage plus a tar) and imported with `berth images import`, then
# BUILD_DIR/bench/berth-soak: 500 create/start/exec/kill/delete cycles, 10 at a time, with --check
# (bench/soak.cc: fds, mounts, cgroups, shims, bundle/runc/snapshot dirs back to the baseline
# taken after a warm-up; threads +2; RSS and SQLite within their slack). Then berthd gets SIGTERM
# and must exit 0 (LeakSanitizer runs at that exit: memory leaked and no longer reachable fails it
# too), and no mount under its dirs, no process naming them and no container cgroup may be left.
# Takes ~4 min on a quiet 2-vCPU machine (an ASan cycle costs ~0.4 s of the two CPUs), ~7-8 min
# when a build shares them: measured with berth-start-load and berth's exec against the ASan
# berthd, starts ~0.55 s, execs ~0.16 s, kill/delete ~0.11 s per cycle at P=10 under load 3-7.
#
# Usage: tests/soak/run.sh BUILD_DIR BERTHD_BIN SHIM_DIR [SOAK_BIN]
#   BUILD_DIR   holds cmd/berth/berth (and bench/berth-soak)
#   BERTHD_BIN  the berthd to test
#   SHIM_DIR    directory of berth-shim (put first on PATH)
#   SOAK_BIN    berth-soak (default BUILD_DIR/bench/berth-soak)
# Env: BERTH_SOAK_CYCLES (default 500), BERTH_SOAK_PARALLEL (default 10), BERTH_SOAK_RSS_SLACK_KIB
#   (default 32768), BERTH_SOAK_KEEP=1 keeps the temp dir (berthd's log, the soak's output).
# Exit: 0 passed, 1 failed, 2 usage, 77 skipped (not root, or no runc: ctest SKIP_RETURN_CODE).
set -euo pipefail
export LC_ALL=C
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
src=$(cd -- "$here/../.." && pwd -P)

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
fi
build=$1 berthd=$2 shimdir=$3
soak=${4:-$build/bench/berth-soak}
berth=$build/cmd/berth/berth
cycles=${BERTH_SOAK_CYCLES:-500}
parallel=${BERTH_SOAK_PARALLEL:-10}
# ASan's allocator keeps freed memory in its quarantine (256 MiB by default) and per-thread caches
# before reusing it, so berthd's RSS climbs for a long while whether or not anything leaks. With
# a 16 MiB quarantine (256 KiB per thread) it reaches its plateau early, and the RSS row means
# something again; the slack still has to cover that filling up after the warm-up. Leaks of
# unreachable memory are LeakSanitizer's, at berthd's exit.
rss_slack=${BERTH_SOAK_RSS_SLACK_KIB:-32768}
berthd_asan="quarantine_size_mb=16:thread_local_quarantine_size_kb=256${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

log() { echo "soak: $*"; }
skip() { echo "soak: SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (containers, mounts, cgroups)"
command -v runc >/dev/null 2>&1 || skip "runc is not installed"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "no overlay file system"
[ -x "$berthd" ] || { echo "soak: no berthd at $berthd" >&2; exit 1; }
[ -x "$shimdir/berth-shim" ] || { echo "soak: no berth-shim in $shimdir" >&2; exit 1; }
[ -x "$soak" ] || { echo "soak: no berth-soak at $soak" >&2; exit 1; }
[ -x "$berth" ] || { echo "soak: no berth at $berth" >&2; exit 1; }

# Short paths: the socket path must stay under 108 bytes.
T=$(mktemp -d /tmp/berth-soak.XXXXXX)
T=$(cd -- "$T" && pwd -P)
ns=soak-${T##*.}   # its own namespace: cgroups /sys/fs/cgroup/*/$ns/<id> are only ours
sock=$T/b.sock
pid=""

alive() { kill -0 "$1" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null || echo Z)" != Z ]; }

# Processes (not this script) whose command line names $T/: shims, runc, a berthd.
ours() {
  local p
  for p in $(grep -lsF -- "$T/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    [ "$p" != $$ ] && [ "$p" != "$BASHPID" ] || continue
    tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "$T/" || continue  # (grep itself)
    echo "$p"
  done
}
mounts_under() { awk -v b="$T" '$5 == b || index($5, b "/") == 1 {print $5}' /proc/self/mountinfo | sort -r; }
# Container cgroups of our namespace (the namespace's own dirs, which runc leaves, excluded).
container_cgroups() {
  local c
  for c in /sys/fs/cgroup/*/"$ns"/*/ /sys/fs/cgroup/"$ns"/*/; do
    if [ -d "$c" ]; then echo "${c%/}"; fi
  done
}

stop_berthd() {  # SIGTERM, 30 s (ASan), then SIGKILL; sets berthd_rc
  local i
  berthd_rc=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    echo "soak: berthd ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || berthd_rc=$?
  pid=""
}

cleanup() {
  local rc=$? p c m i a
  local socks=()
  trap - EXIT INT TERM
  set +e
  stop_berthd
  # Shims still running (a failed run) are killed: their sockets (/run/berth/s/<hash>, named in
  # each bundle's `address`) would stay behind.
  for a in "$T"/state/io.containerd.runtime.v2.task/*/*/address; do
    [ -f "$a" ] && socks+=("$(sed 's|^unix://||' "$a")")
  done
  for p in $(ours); do kill -KILL "$p" 2>/dev/null; done
  for a in ${socks[@]+"${socks[@]}"}; do
    case "$a" in /run/berth/s/*) rm -f -- "$a" ;; esac
  done
  # What a failed run left running: the containers' processes, then their cgroups.
  for c in $(container_cgroups); do
    [ -f "$c/cgroup.procs" ] && xargs -r kill -KILL <"$c/cgroup.procs" 2>/dev/null
  done
  for i in 1 2 3 4 5; do
    for c in $(container_cgroups); do rmdir "$c" 2>/dev/null; done
    [ -z "$(container_cgroups)" ] && break
    sleep 0.5
  done
  for c in /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/"$ns"; do
    if [ -d "$c" ]; then rmdir "$c" 2>/dev/null || echo "soak: could not remove cgroup $c" >&2; fi
  done
  for m in $(mounts_under); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  if [ "${BERTH_SOAK_KEEP:-0}" = 1 ]; then
    echo "soak: kept $T" >&2
  else
    rm -rf --one-file-system -- "$T" 2>/dev/null || rm -rf -- "$T"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "soak: FAIL: $*" >&2
  echo "soak: berthd log tail:" >&2
  tail -n 30 "$T/berthd.log" 2>/dev/null | sed 's/^/  berthd: /' >&2
  exit 1
}

start=$(date +%s)
bash "$src/scripts/embedded-image" "$T/image.tar" >/dev/null || fail "scripts/embedded-image failed"
image=localhost/berth/busybox:latest   # the name embedded-image gives it

PATH="$(cd -- "$shimdir" && pwd -P):$PATH" ASAN_OPTIONS=$berthd_asan \
  "$berthd" --root "$T/root" --state "$T/state" --address "$sock" </dev/null >"$T/berthd.log" 2>&1 &
pid=$!
ready=0
for ((i = 0; i < 600; i++)); do
  alive "$pid" || fail "berthd exited during start-up"
  if [ -S "$sock" ] && timeout 20 "$berth" --address "$sock" version >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[ "$ready" = 1 ] || fail "berthd did not answer within 60 s"
timeout 120 "$berth" --address "$sock" --namespace "$ns" images import "$T/image.tar" >"$T/import.log" 2>&1 ||
  { cat "$T/import.log" >&2; fail "berth images import failed"; }
log "berthd pid $pid (ASAN_OPTIONS=$berthd_asan), namespace $ns, image $image imported"

# The soak. A watchdog inside (--stall) fails it when no cycle completes for 2 minutes; the outer
# timeout keeps it under ctest's TIMEOUT with room for the clean-up.
set +e
timeout -k 10 840 "$soak" --address "$sock" --namespace "$ns" --image "$image" \
  --cycles "$cycles" --parallel "$parallel" --pid "$pid" --root "$T/root" --state "$T/state" \
  --check --rss-slack-kib "$rss_slack" --progress 30 --stall 120 </dev/null
soak_rc=$?
set -e
[ "$soak_rc" = 0 ] || fail "berth-soak exited $soak_rc (124: killed by the 840 s timeout)"

stop_berthd
[ "$berthd_rc" = 0 ] || fail "berthd exited $berthd_rc on SIGTERM (23: LeakSanitizer found leaks; see the log)"
left=$(mounts_under)
[ -z "$left" ] || fail "mounts left under $T: $left"
sleep 0.5  # (the last shims exit on their own at most 5 s after their task's delete; berth-soak waited)
procs=""
for p in $(ours); do procs+="$p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null); "; done
[ -z "$procs" ] || fail "processes left naming $T: $procs"
left=$(container_cgroups)
[ -z "$left" ] || fail "container cgroups left: $left"
log "ok: $cycles cycles in $(( $(date +%s) - start )) s (image and daemon start included); berthd exited 0, nothing left"
