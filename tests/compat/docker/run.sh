#!/usr/bin/env bash
# Docker on berth: Debian's docker.io 20.10 (dockerd --containerd <berthd socket>) driven by its
# own CLI (/usr/bin/docker) against a berthd started here, everything on temp dirs.
#
# Usage: tests/compat/docker/run.sh BERTHD_BIN SHIM_DIR
#   BERTHD_BIN  the berthd binary; SHIM_DIR the directory holding berth-shim (put on PATH)
# Env: KEEP_LOGS=DIR copies berthd's and dockerd's logs there before cleanup.
#
# Prints one line per check ("ok   NAME" or "FAIL NAME: detail"), then "N passed, M failed".
# Exit: 0 all passed, 1 some failed, 77 dockerd/docker 20.10 not installed (skip).
# Needs root. Cleans up on any exit: dockerd and berthd stopped, leftover shims killed, mounts
# under the temp dir unmounted, the containers' cgroups removed, the temp dir deleted.
set -uo pipefail
export LC_ALL=C

if [ $# -ne 2 ]; then echo "usage: $0 BERTHD_BIN SHIM_DIR" >&2; exit 2; fi
BERTHD_BIN=$(realpath -m -- "$1")
SHIM_DIR=$(realpath -m -- "$2")
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib.sh
. "$here/lib.sh"

if [ ! -x "$DOCKERD" ] || [ ! -x "$DOCKER" ]; then
  echo "skip: $DOCKERD or $DOCKER not installed (Debian package docker.io)"; exit 77
fi
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }
if [ "${COMPAT_DAEMON:-berthd}" = berthd ]; then
  [ -x "$BERTHD_BIN" ] || { echo "no berthd at $BERTHD_BIN" >&2; exit 2; }
  [ -x "$SHIM_DIR/berth-shim" ] || { echo "no berth-shim in $SHIM_DIR" >&2; exit 2; }
fi

PASSED=0
FAILED=0
ok() { echo "ok   $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $(echo "$2" | tr '\n' ' ' | cut -c1-600)"; FAILED=$((FAILED + 1)); }
# stderr of the last `docker run` without dockerd's warning about this host's ip_forward=0.
errs() { grep -v 'IPv4 forwarding is disabled' "$T/err" 2>/dev/null | tr '\n' ' '; }
# check NAME CONDITION-RESULT DETAIL: ok when the previous test command returned 0.
check() { if [ "$2" = 0 ]; then ok "$1"; else fail "$1" "$3"; fi; }

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${KEEP_LOGS:-}" ] && [ -n "${T:-}" ]; then
    mkdir -p "$KEEP_LOGS"
    cp -f "$T/b/berthd.log" "$T/d/dockerd.log" "$KEEP_LOGS/" 2>/dev/null
  fi
  cleanup_all
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

inspect() { dk_t 20 inspect -f "$1" "$2" 2>&1; }
stopped() { [ "$(inspect '{{.State.Running}}' "$1")" = false ]; }

# wait_for SECONDS CMD...: polls CMD (0.2 s) until it succeeds.
wait_for() {
  local secs=$1 i; shift
  for i in $(seq 1 $((secs * 5))); do "$@" && return 0; sleep 0.2; done
  return 1
}

# COMPAT_DAEMON=containerd runs the same checks against Debian's containerd 1.6 instead (a
# reference: a check that fails there too is about docker or this machine, not berthd).
start_daemon() {
  if [ "${COMPAT_DAEMON:-berthd}" = containerd ]; then start_containerd; else start_berthd "$BERTHD_BIN" "$SHIM_DIR"; fi
}

make_tmp
if ! start_daemon; then
  fail setup.berthd "berthd did not start: $(tail -5 "$DAEMON_LOG" 2>/dev/null)"
  echo "$PASSED passed, $FAILED failed"; exit 1
fi
if ! start_dockerd; then
  fail setup.dockerd "dockerd did not start against berthd: $(grep -iE 'error|fatal' "$T/d/dockerd.log" | tail -3)"
  echo "$PASSED passed, $FAILED failed"; exit 1
fi
if ! load_image; then
  fail setup.image "could not load the busybox image into dockerd"
  echo "$PASSED passed, $FAILED failed"; exit 1
fi
mounts_before=$(mounts_under_tmp | sort)

# ---- run, exit codes, stdio, TTY ----
out=$(dk_t 60 run --rm "$IMG" echo hi 2>"$T/err"); rc=$?
[ $rc = 0 ] && [ "$out" = hi ]; check run.echo $? "rc=$rc out=$out err=$(errs)"

out=$(dk_t 60 run --rm "$IMG" sh -c 'exit 3' 2>"$T/err"); rc=$?
[ $rc = 3 ]; check run.exit_code $? "want 3, got rc=$rc out=$out err=$(errs)"

out=$(echo piped-in | dk_t 60 run --rm -i "$IMG" cat 2>"$T/err"); rc=$?
[ $rc = 0 ] && [ "$out" = piped-in ]; check run.stdin $? "rc=$rc out=$out err=$(errs)"

# docker run -t without -i works with a non-terminal stdin; its output has \r\n line ends.
out=$(dk_t 60 run --rm -t "$IMG" busybox tty </dev/null 2>"$T/err" | tr -d "\r"); rc=$?
[[ $rc = 0 && $out =~ ^/dev/pts/[0-9]+$ ]]; check run.tty $? "rc=$rc out=$out err=$(errs)"

# ---- a detached container through its life ----
C1=c1
id=$(dk_t 60 run -d --name $C1 "$IMG" sh -c 'echo started; trap "exit 0" USR1; while :; do sleep 0.2; done' 2>"$T/err"); rc=$?
[ $rc = 0 ] && [ "$(inspect '{{.State.Running}}' $C1)" = true ]; check run.detached $? "rc=$rc out=$id err=$(errs)"

out=$(dk_t 20 ps --filter name=^/$C1\$ --format '{{.Names}} {{.Status}}' 2>&1)
[[ $out == "$C1 Up"* ]]; check ps $? "out=$out"

out=$(dk_t 30 exec $C1 echo in-exec 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = in-exec ]; check exec $? "rc=$rc out=$out"

out=$(dk_t 30 exec $C1 sh -c 'exit 5' 2>&1); rc=$?
[ $rc = 5 ]; check exec.exit_code $? "want 5, got rc=$rc out=$out"

out=$(dk_t 20 logs $C1 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = started ]; check logs $? "rc=$rc out=$out"

out=$(dk_t 20 top $C1 2>&1); rc=$?
[ $rc = 0 ] && grep -q 'while' <<<"$out"; check top $? "rc=$rc out=$out"

# stats: a real memory figure (the container's cgroup), not "0B / 0B".
out=$(dk_t 30 stats --no-stream --format '{{.Name}}|{{.MemUsage}}|{{.PIDs}}' $C1 2>&1); rc=$?
mem=$(cut -d'|' -f2 <<<"$out"); pids=$(cut -d'|' -f3 <<<"$out")
[ $rc = 0 ] && [[ $mem =~ ^[0-9.]+[KMG]i?B ]] && [[ ! $mem =~ ^0B ]] && [[ $pids =~ ^[1-9] ]]
check stats $? "rc=$rc out=$out"

out=$(dk_t 20 pause $C1 2>&1); rc=$?
st=$(dk_t 20 ps --filter name=^/$C1\$ --format '{{.Status}}' 2>&1)
fz=$(cat /sys/fs/cgroup/freezer/$CG_PARENT/"$id"/freezer.state 2>&1)
[ $rc = 0 ] && [[ $st == *"(Paused)"* ]] && [ "$(inspect '{{.State.Paused}}' $C1)" = true ] && [ "$fz" = FROZEN ]
check pause $? "rc=$rc out=$out status=$st freezer=$fz"

out=$(dk_t 20 unpause $C1 2>&1); rc=$?
st=$(dk_t 20 ps --filter name=^/$C1\$ --format '{{.Status}}' 2>&1)
ex=$(dk_t 30 exec $C1 echo thawed 2>&1)
[ $rc = 0 ] && [[ $st == Up* ]] && [[ $st != *Paused* ]] && [ "$ex" = thawed ]
check unpause $? "rc=$rc out=$out status=$st exec=$ex"

# stop: SIGTERM is ignored by this pid 1 (no handler), so docker SIGKILLs after -t 1: 137.
t0=$(date +%s)
out=$(dk_t 60 stop -t 1 $C1 2>&1); rc=$?
dt=$(( $(date +%s) - t0 ))
state="$(inspect '{{.State.Running}} {{.State.ExitCode}}' $C1)"
[ $rc = 0 ] && [ "$state" = "false 137" ] && [ $dt -lt 15 ]; check stop $? "rc=$rc out=$out state=$state took=${dt}s"

out=$(dk_t 60 start $C1 2>&1); rc=$?
logs=$(dk_t 20 logs $C1 2>&1 | tr '\n' ' ')
[ $rc = 0 ] && [ "$(inspect '{{.State.Running}}' $C1)" = true ] && [ "$logs" = "started started " ]
check start $? "rc=$rc out=$out logs=$logs"

out=$(dk_t 30 kill -s USR1 $C1 2>&1); rc=$?
wait_for 15 stopped $C1
state="$(inspect '{{.State.Running}} {{.State.ExitCode}}' $C1)"
[ $rc = 0 ] && [ "$state" = "false 0" ]; check kill.signal $? "rc=$rc out=$out state=$state (trap USR1 -> exit 0)"

dk_t 60 start $C1 >/dev/null 2>&1
out=$(dk_t 30 kill $C1 2>&1); rc=$?
wait_for 15 stopped $C1
state="$(inspect '{{.State.Running}} {{.State.ExitCode}}' $C1)"
[ $rc = 0 ] && [ "$state" = "false 137" ]; check kill $? "rc=$rc out=$out state=$state"

out=$(dk_t 60 rm $C1 2>&1); rc=$?
left=$(dk_t 20 ps -aq --filter name=^/$C1\$ 2>&1)
recs=$(timeout 10 ctr -a "$DAEMON_SOCK" -n $NS containers ls -q 2>&1 | grep -x "$id")
[ $rc = 0 ] && [ -z "$left" ] && [ -z "$recs" ]; check rm $? "rc=$rc out=$out docker-left=$left berthd-record=$recs"

# ---- memory limit: OOM kill ----
# The shell accumulates 256 MiB of command-substitution output: far above -m 16m (no swap here).
out=$(dk_t 120 run --name oom -m 16m "$IMG" sh -c 'x=$(head -c 268435456 /dev/zero | tr "\0" a); echo survived ${#x}' 2>"$T/err"); rc=$?
oomk=$(inspect '{{.State.OOMKilled}} {{.State.ExitCode}}' oom)
[ $rc = 137 ] && [ "$oomk" = "true 137" ]; check run.oom $? "rc=$rc out=$out err=$(errs) inspect(OOMKilled ExitCode)=$oomk"
dk_t 60 rm -f oom >/dev/null 2>&1

# ---- berthd killed with SIGKILL and restarted while a container runs ----
C2=c2
id2=$(dk_t 60 run -d --name $C2 "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done' 2>"$T/err")
sleep 1
cpid=$(inspect '{{.State.Pid}}' $C2)
# dockerd logs this each time its event stream for $NS is (re)established, i.e. its gRPC
# connection is READY again. Its containerd client (grpc-go) redials with backoff (max 3 s +
# 20% jitter) and fails calls fast meanwhile, so a call made before that reconnect fails with
# "connection refused" whatever the daemon does: the checks below wait for it (10 s bound).
streams() { grep -c "msg=\"processing event stream\" module=libcontainerd namespace=$NS\$" "$T/d/dockerd.log"; }
streams_before=$(streams)
kill -KILL "$PIDS_DAEMON"; wait "$PIDS_DAEMON" 2>/dev/null; PIDS_DAEMON=""
sleep 1
last_before=$(dk_t 20 logs --tail 1 $C2 2>&1 | awk '{print $2}')
if start_daemon; then
  t0=$(date +%s%N)
  reconnected() { [ "$(streams)" -gt "$streams_before" ]; }
  wait_for 10 reconnected
  check restart.docker_reconnected $? "dockerd's $NS connection not back 10 s after the daemon was ready: $(grep -E 'level=(error|warning)' "$T/d/dockerd.log" | tail -2)"
  echo "# dockerd reconnected $(( ($(date +%s%N) - t0) / 1000000 )) ms after the daemon was ready"
  [ "$(inspect '{{.State.Running}}' $C2)" = true ] && kill -0 "$cpid" 2>/dev/null
  check restart.still_running $? "inspect=$(inspect '{{.State.Status}}' $C2) pid $cpid alive=$(kill -0 "$cpid" 2>/dev/null && echo yes || echo no)"

  out=$(dk_t 30 exec $C2 echo after-restart 2>&1); rc=$?
  [ $rc = 0 ] && [ "$out" = after-restart ]; check restart.exec $? "rc=$rc out=$out"

  sleep 1
  last_after=$(dk_t 20 logs --tail 1 $C2 2>&1 | awk '{print $2}')
  [[ $last_before =~ ^[0-9]+$ && $last_after =~ ^[0-9]+$ ]] && [ "$last_after" -gt "$last_before" ]
  check restart.logs $? "last tick before restart=$last_before, after=$last_after"

  t0=$(date +%s)
  out=$(dk_t 60 stop -t 1 $C2 2>&1); rc=$?
  dt=$(( $(date +%s) - t0 ))
  state="$(inspect '{{.State.Running}} {{.State.ExitCode}}' $C2)"
  [ $rc = 0 ] && [ "$state" = "false 137" ] && [ $dt -lt 15 ]
  check restart.stop $? "rc=$rc out=$out state=$state took=${dt}s"
else
  fail restart.berthd "berthd did not come back on the same dirs: $(tail -5 "$DAEMON_LOG")"
fi

# ---- nothing left after rm -f ----
dk_t 60 run -d --name c3 "$IMG" sleep 1000 >/dev/null 2>&1
dk_t 60 exec -d c3 sleep 999 >/dev/null 2>&1
out=$(dk_t 60 rm -f $C2 c3 2>&1); rc=$?
leak_report() {
  local s m c r tk
  s=$(for p in $(shims_of_socket); do echo "$p:$( { tr '\0' ' ' </proc/$p/cmdline; } 2>/dev/null | cut -c1-80)"; done)
  m=$(comm -13 <(echo "$mounts_before") <(mounts_under_tmp | sort))
  c=$(cgroups_left)
  r=$(timeout 10 ctr -a "$DAEMON_SOCK" -n $NS containers ls -q 2>&1)
  tk=$(timeout 10 ctr -a "$DAEMON_SOCK" -n $NS tasks ls -q 2>&1)
  [ -z "$s$m$c$r$tk" ] && return 0
  LEAKS="shims=[$s] mounts=[$m] cgroups=[$c] berthd-containers=[$r] berthd-tasks=[$tk]"
  return 1
}
LEAKS=""
wait_for 15 leak_report
[ $rc = 0 ] && leak_report; check rm_f.nothing_left $? "rc=$rc out=$out $LEAKS"

# ---- the daemons themselves ----
san=$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' "$DAEMON_LOG" | head -3)
[ -z "$san" ] && kill -0 "$PIDS_DAEMON" 2>/dev/null; check berthd.healthy $? "alive=$(kill -0 "$PIDS_DAEMON" 2>/dev/null && echo yes || echo no) sanitizer=$san"

stop_dockerd; rc_d=$?
stop_daemon; rc_b=$?
[ $rc_b = 0 ] && [ ! -e "$DAEMON_SOCK" ]; check berthd.clean_shutdown $? "SIGTERM rc=$rc_b socket-left=$([ -e "$DAEMON_SOCK" ] && echo yes || echo no)"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
