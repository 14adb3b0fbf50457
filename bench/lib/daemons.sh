# Shared by the bench/ scripts: starting and stopping berthd and containerd 1.6 side by side on
# temp dirs, and cleaning up everything on exit. Source it after setting:
#   prog        the script's name (for messages)
#   repo        the repository root
#   tmp         the script's unique temp dir (everything it starts mentions it)
#   berthd_bin  berthd's path;  CTR, CONTAINERD: ctr's and containerd's paths
#   keep        1 to keep $tmp on exit;  registry_started: 1 when scripts/test-registry runs in $tmp/registry
# and optionally define bench_cleanup_hook (run first on exit) and BERTHD_ARGS (an array of extra
# berthd flags, e.g. (--rest-address "$tmp/berthd/rest.sock"), read by start_daemon).
# It declares daemon_pid (kind -> pid) and installs the EXIT/INT/TERM traps.

declare -A daemon_pid=()   # kind -> pid of the running daemon (at most one per kind)
# Unmounts everything mounted at or under $1 (deepest first).
unmount_under() {
  local base=$1 m
  # mountinfo octal-escapes spaces etc.; our temp paths have none.
  awk -v b="$base" '$5 == b || index($5, b "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while IFS= read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "$prog: could not unmount $m" >&2
    done
  return 0
}

stop_pid() {  # SIGTERM, up to 20 s, then SIGKILL; reaps our child
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || echo Z)" = Z ] && break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || echo Z)" != Z ]; then
    echo "$prog: pid $pid ignored SIGTERM for 20 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? k
  trap - EXIT INT TERM
  set +e
  for k in "${!daemon_pid[@]}"; do
    stop_pid "${daemon_pid[$k]}"
  done
  if [ "${registry_started:-0}" = 1 ]; then
    bash "$repo/scripts/test-registry" stop "$tmp/registry" >/dev/null 2>&1 || true
  fi
  if declare -F bench_cleanup_hook >/dev/null; then bench_cleanup_hook; fi
  # Belt and braces (a signal landing between a daemon's start and its pid being recorded):
  # any process still running with our unique temp dir on its command line is ours.
  local p
  for p in $(grep -lsF -- "$tmp/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    [ "$p" != $$ ] || continue
    [ "$p" != "$BASHPID" ] || continue
    # (the grep above matched its own command line too; it is gone by now)
    tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "$tmp/" || continue
    echo "$prog: stopping leftover pid $p: $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")" >&2
    stop_pid "$p"
  done
  unmount_under "$tmp"
  if [ "${keep:-0}" = 1 ]; then
    echo "$prog: kept $tmp" >&2
  else
    rm -rf --one-file-system -- "$tmp" 2>/dev/null || rm -rf -- "$tmp"
  fi
  exit "$rc"
}

now_ns() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }

# ---------------------------------------------------------------- daemons
# Each daemon instance lives in DIR: DIR/root, DIR/state, DIR/<kind>.sock, DIR/<kind>.log.
sock_of() { echo "$1/$2.sock"; }

wait_ready() {  # kind dir pid: socket answers `ctr version` within 30 s
  local kind=$1 dir=$2 pid=$3 sock i
  sock=$(sock_of "$dir" "$kind")
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -S "$sock" ] && timeout 10 "$CTR" --address "$sock" version >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

start_daemon() {  # kind dir
  local kind=$1 dir=$2 sock pid
  mkdir -p "$dir/root" "$dir/state"
  sock=$(sock_of "$dir" "$kind")
  case "$kind" in
    berthd|berth)  # berth: a berthd that the berth CLI drives (bench/pull.sh)
      "$berthd_bin" --root "$dir/root" --state "$dir/state" --address "$sock" ${BERTHD_ARGS[@]+"${BERTHD_ARGS[@]}"} \
        </dev/null >"$dir/$kind.log" 2>&1 &
      pid=$!
      ;;
    containerd)
      mkdir -p "$dir/opt"
      cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""
  level = "info"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
EOF
      "$CONTAINERD" --config "$dir/config.toml" </dev/null >"$dir/containerd.log" 2>&1 &
      pid=$!
      ;;
  esac
  daemon_pid[$kind]=$pid
  if ! wait_ready "$kind" "$dir" "$pid"; then
    echo "$prog: $kind did not start (log tail below)" >&2
    tail -n 30 "$dir/$kind.log" | sed "s/^/  $kind: /" >&2
    return 1
  fi
}

stop_daemon() {  # kind dir
  local kind=$1 dir=$2
  if [ -n "${daemon_pid[$kind]:-}" ]; then
    stop_pid "${daemon_pid[$kind]}"
    unset "daemon_pid[$kind]"
  fi
  unmount_under "$dir"
}


trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
