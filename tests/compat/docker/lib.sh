# Shared helpers for the Docker-on-berth compatibility test (run.sh) and its measurements
# (bench.sh). Sourced, not run. Everything lives under one temp dir $T; cleanup_all undoes
# whatever was started or mounted, whatever state the run stopped in.
#
# Layout (paths kept short: unix socket paths must stay under 108 bytes):
#   $T/b/{root,state,s.sock,berthd.log}      berthd (or $T/c/... for containerd in bench.sh)
#   $T/d/{data,exec,d.sock,dockerd.log}      dockerd
#   $T/img/                                  the test image (built offline from busybox-static)
# Containers get the cgroup parent /$CG_PARENT (dockerd --cgroup-parent), so the leak check and
# the cleanup look at that directory under every controller only.

DOCKER=/usr/bin/docker   # Debian's docker.io 20.10 CLI (not /usr/local/bin/docker)
DOCKERD=/usr/sbin/dockerd
NS=moby
IMG=berth-compat/busybox:latest

PIDS_DAEMON=""   # berthd or containerd
PID_DOCKERD=""
DAEMON_KIND=""   # berthd | containerd
DAEMON_SOCK=""
DAEMON_LOG=""

log() { echo "# $*" >&2; }

make_tmp() {
  T=$(mktemp -d /tmp/bdk.XXXXXX)
  CG_PARENT="bdk-${T##*.}"
  export DOCKER_CONFIG=$T/cli   # never the user's ~/.docker
  mkdir -p "$T/cli" "$T/d"
}

dk() { "$DOCKER" -H "unix://$T/d/d.sock" "$@"; }

# dk_t SECONDS ARGS...: docker with a time bound (a hung daemon must not hang the test).
dk_t() { local t=$1; shift; timeout -k 5 "$t" "$DOCKER" -H "unix://$T/d/d.sock" "$@"; }

# ---- the daemons ----

start_berthd() {  # BERTHD_BIN SHIM_DIR
  local bin=$1 shimdir=$2
  DAEMON_KIND=berthd
  DAEMON_SOCK=$T/b/s.sock
  DAEMON_LOG=$T/b/berthd.log
  mkdir -p "$T/b"
  PATH="$shimdir:$PATH" ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
    setsid "$bin" --root "$T/b/root" --state "$T/b/state" --address "$DAEMON_SOCK" \
      --log-level debug </dev/null >>"$DAEMON_LOG" 2>&1 &
  PIDS_DAEMON=$!
  wait_daemon_ready
}

RUN_CONTAINERD_CREATED=""  # containerd 1.6 puts shim sockets in /run/containerd/s whatever its state dir
start_containerd() {
  [ -e /run/containerd ] || RUN_CONTAINERD_CREATED=1
  DAEMON_KIND=containerd
  DAEMON_SOCK=$T/c/c.sock
  DAEMON_LOG=$T/c/containerd.log
  mkdir -p "$T/c"
  cat >"$T/c/config.toml" <<EOF
version = 2
root = "$T/c/root"
state = "$T/c/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$DAEMON_SOCK"
[ttrpc]
  address = "$T/c/c.sock.ttrpc"
[debug]
  address = ""
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/c/opt"
EOF
  setsid /usr/bin/containerd --config "$T/c/config.toml" </dev/null >>"$DAEMON_LOG" 2>&1 &
  PIDS_DAEMON=$!
  wait_daemon_ready
}

wait_daemon_ready() {
  local i
  for i in $(seq 1 300); do
    if ! kill -0 "$PIDS_DAEMON" 2>/dev/null; then
      log "$DAEMON_KIND exited during start-up; log tail:"; tail -20 "$DAEMON_LOG" >&2; return 1
    fi
    if [ -S "$DAEMON_SOCK" ] && timeout 5 ctr -a "$DAEMON_SOCK" version >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  log "$DAEMON_KIND not ready after 30s"; return 1
}

stop_pid() {  # PID [SECONDS]: SIGTERM, wait, then SIGKILL. Returns the exit status (or 1 after a SIGKILL).
  local pid=$1 secs=${2:-20} i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return; }
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return; }
    sleep 0.1
  done
  log "pid $pid ignored SIGTERM for ${secs}s; SIGKILL"
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return 1
}

stop_daemon() { stop_pid "$PIDS_DAEMON" 20; local rc=$?; PIDS_DAEMON=""; return $rc; }

start_dockerd() {
  echo '{}' >"$T/d/daemon.json"
  setsid "$DOCKERD" --config-file "$T/d/daemon.json" \
    --containerd "$DAEMON_SOCK" --containerd-namespace "$NS" \
    --containerd-plugins-namespace "$NS-plugins" \
    --bridge none --iptables=false --ip-masq=false --ip-forward=false --userland-proxy=false \
    --storage-driver overlay2 --cgroup-parent "/$CG_PARENT" \
    --host "unix://$T/d/d.sock" --data-root "$T/d/data" --exec-root "$T/d/exec" \
    --pidfile "$T/d/docker.pid" --log-level debug </dev/null >>"$T/d/dockerd.log" 2>&1 &
  PID_DOCKERD=$!
  local i
  for i in $(seq 1 600); do
    if ! kill -0 "$PID_DOCKERD" 2>/dev/null; then
      log "dockerd exited during start-up; log tail:"; tail -20 "$T/d/dockerd.log" >&2; return 1
    fi
    if dk_t 5 version >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  log "dockerd not ready after 60s"; return 1
}

stop_dockerd() { stop_pid "$PID_DOCKERD" 30; local rc=$?; PID_DOCKERD=""; return $rc; }

# ---- the image, built offline ----

# Loads $IMG: scripts/mkimage's busybox OCI layout converted by skopeo to a `docker save` tar
# (docker 20.10's `load` does not take OCI layouts); without skopeo, `docker import` of a
# busybox rootfs tar.
load_image() {
  local here; here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
  local repo=$here/../../..
  mkdir -p "$T/img"
  if command -v skopeo >/dev/null && [ -x /bin/busybox ]; then
    bash "$repo/scripts/mkimage" --out "$T/img/layout" >/dev/null &&
      skopeo copy -q "oci:$T/img/layout:latest" "docker-archive:$T/img/img.tar:$IMG" >/dev/null &&
      dk_t 60 load -q -i "$T/img/img.tar" >/dev/null && return 0
    log "mkimage/skopeo/docker load failed; trying docker import"
  fi
  local r=$T/img/rootfs
  mkdir -p "$r"/{bin,etc,tmp,proc,sys,dev,root}
  cp /bin/busybox "$r/bin/busybox"
  local a; for a in $("$r/bin/busybox" --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
  echo 'root:x:0:' >"$r/etc/group"
  tar -C "$r" -cf "$T/img/rootfs.tar" . &&
    dk_t 60 import -c 'CMD ["sh"]' "$T/img/rootfs.tar" "$IMG" >/dev/null
}

# ---- leak inspection ----

shims_of_socket() {  # pids of processes whose command line mentions the daemon socket
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
    case "$cmd" in *"$DAEMON_SOCK"*) ;; *) continue ;; esac
    [ "${p#/proc/}" = "$PIDS_DAEMON" ] && continue
    [ "${p#/proc/}" = "$PID_DOCKERD" ] && continue
    [ "${p#/proc/}" = "$$" ] && continue
    echo "${p#/proc/}"
  done
}

mounts_under_tmp() { awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo; }

cgroups_left() {  # container cgroup dirs left under our parent, any controller
  find /sys/fs/cgroup/*/"$CG_PARENT" -mindepth 1 -type d 2>/dev/null
}

# ---- cleanup: always, whatever happened ----

cleanup_all() {
  set +e
  if [ -z "${T:-}" ] || [ ! -d "$T" ]; then return; fi
  if [ -n "$PID_DOCKERD" ] && kill -0 "$PID_DOCKERD" 2>/dev/null; then
    # rm -f through docker first (it is the polite path), bounded.
    local ids; ids=$(dk_t 20 ps -aq 2>/dev/null)
    [ -n "$ids" ] && dk_t 60 rm -f $ids >/dev/null 2>&1
  fi
  stop_dockerd
  stop_daemon
  # Containers whose runtime state survived (runc roots anywhere under $T): delete --force.
  local st root id
  for st in $(find "$T" -name state.json -path '*/runtime-runc/*' 2>/dev/null; \
              find "$T" -name state.json -path '*/runc/*' 2>/dev/null); do
    root=$(dirname "$(dirname "$st")"); id=$(basename "$(dirname "$st")")
    runc --root "$root" delete --force "$id" >/dev/null 2>&1
  done
  # Processes still in our cgroups (thaw first: a paused container ignores SIGKILL until thawed).
  local d pid
  for d in $(find /sys/fs/cgroup/freezer/"$CG_PARENT" -mindepth 1 -type d 2>/dev/null); do
    echo THAWED >"$d/freezer.state" 2>/dev/null
  done
  for d in $(find /sys/fs/cgroup/*/"$CG_PARENT" -type d 2>/dev/null); do
    for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  # Shims (berth-shim or containerd-shim-runc-v2) still naming our socket.
  for pid in $(shims_of_socket); do kill -KILL "$pid" 2>/dev/null; done
  sleep 0.3
  # Mounts under $T, deepest first.
  local m
  for m in $(mounts_under_tmp | sort -r); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  # Cgroup directories, deepest first.
  for d in $(find /sys/fs/cgroup/*/"$CG_PARENT" -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null; done
  rm -rf --one-file-system "$T"
  T=""
  if [ -n "$RUN_CONTAINERD_CREATED" ]; then
    rmdir /run/containerd/s /run/containerd/runc/$NS /run/containerd/runc /run/containerd 2>/dev/null
  fi
}
