#!/usr/bin/env bash
# `make install` into a DESTDIR, as a packager would, and what berthd.service promises:
# the binaries and the unit land under DESTDIR/PREFIX, the unit passes `systemd-analyze verify`
# (with ExecStart pointed at the staged binary), `berthd config default|dump` print TOML that
# berthd reads back, and berthd tells systemd READY=1 (Type=notify) once it serves, STOPPING=1
# on SIGTERM.
#
# Usage: tests/install/run.sh BUILD_DIR
set -uo pipefail
export LC_ALL=C
build=${1:?usage: run.sh BUILD_DIR}
prefix=/usr/local
work=$(mktemp -d /tmp/berth-install-XXXXXX)
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null
  rm -rf -- "$work"
}
trap cleanup EXIT

pass=0 fail=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/out"
  fi
}

dest=$work/dest
check "cmake --install with DESTDIR" env DESTDIR="$dest" cmake --install "$build" --prefix "$prefix"
for b in berthd berth berth-shim; do
  check "$prefix/bin/$b installed and executable" test -x "$dest$prefix/bin/$b"
done
unit=$dest$prefix/lib/systemd/system/berthd.service
check "berthd.service installed" test -f "$unit"
check "ExecStart is the installed berthd" grep -qx "ExecStart=$prefix/bin/berthd" "$unit"
for line in Type=notify Delegate=yes KillMode=process OOMScoreAdjust=-999 'LimitNOFILE=[0-9a-z]*'; do
  check "unit has $line" grep -qx "$line" "$unit"
done
# systemd-analyze verify checks the syntax and that ExecStart can be executed: point it at the
# staged binary (the unit's own path exists only once installed for real).
mkdir -p "$work/verify"
sed "s#^ExecStart=$prefix#ExecStart=$dest$prefix#" "$unit" >"$work/verify/berthd.service"
verify() {
  out=$(systemd-analyze verify "$work/verify/berthd.service" 2>&1)
  rc=$?
  # A container without systemd running still verifies unit files; only its own warnings are ours.
  if [ $rc -ne 0 ] || echo "$out" | grep -q 'berthd.service'; then echo "$out"; return 1; fi
}
check "systemd-analyze verify berthd.service" verify

berthd=$dest$prefix/bin/berthd
config_default() {
  "$berthd" config default >"$work/default.toml" || return 1
  grep -qx 'version = 2' "$work/default.toml" && grep -Eq "address = ['\"]/run/berth/berth.sock['\"]" "$work/default.toml" &&
    "$berthd" --config "$work/default.toml" config dump | cmp -s - "$work/default.toml"
}
check "config default reads back unchanged through config dump" config_default
config_dump() {
  cat >"$work/containerd.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
[grpc]
  address = "$work/c.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "pause"
TOML
  "$berthd" --config "$work/containerd.toml" --state "$work/state2" config dump >"$work/dump.toml" || return 1
  grep -qx "root = '$work/root'" "$work/dump.toml" || grep -qx "root = \"$work/root\"" "$work/dump.toml" || return 1
  grep -q "state2" "$work/dump.toml"  # flags win over the file
}
check "config dump shows a containerd config.toml with flags applied" config_dump

# sd_notify: a datagram socket as systemd's NOTIFY_SOCKET; READY=1 once the gRPC socket exists.
notify() {
  python3 - "$berthd" "$work" <<'PY'
import os, socket, subprocess, sys, time
berthd, work = sys.argv[1], sys.argv[2]
path = os.path.join(work, "notify.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(30)
sock = os.path.join(work, "n.sock")
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen([berthd, "--root", os.path.join(work, "nroot"), "--state", os.path.join(work, "nstate"),
                      "--address", sock], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    msg = s.recv(4096).decode()
    assert "READY=1" in msg, msg
    assert os.path.exists(sock), "READY=1 before the socket was served"
    p.terminate()
    msg = s.recv(4096).decode()
    assert "STOPPING=1" in msg, msg
    assert p.wait(timeout=30) == 0
finally:
    if p.poll() is None:
        p.kill()
        p.wait()
PY
}
check "READY=1 once serving, STOPPING=1 on SIGTERM (NOTIFY_SOCKET)" notify

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
