#!/usr/bin/env bash
# containerd Go client conformance harness: builds the tests in src/berthcompat (containerd 1.6's
# own Go client, from Debian's golang-github-containerd-containerd-dev, GOPATH mode, offline) and
# runs them against a real berthd started on temp dirs, with a local registry for pulls.
#
# Usage: tests/compat/go/run.sh BUILD_DIR BERTHD_BIN SHIM_DIR [go test flags, e.g. -test.run Content]
#   BUILD_DIR   where the test binary (BUILD_DIR/compat-go/berthcompat.test) and Go's cache go
#   BERTHD_BIN  the berthd to test
#   SHIM_DIR    directory of berth-shim (put first on PATH)
# Env: BERTH_COMPAT_IMAGE_TAR (default SOURCE/build/images/berth-busybox.tar, made by
#   scripts/embedded-image when missing), BERTH_COMPAT_KEEP=1 keeps the temp dirs,
#   BERTH_COMPAT_SHOW_LOG=1 prints berthd's log tail even on success, BERTH_CRIU=/path/to/criu
#   the criu for the checkpoint/restore tests (default: the first criu on PATH or in the sbin
#   dirs; its directory goes on PATH right after SHIM_DIR, for berthd's shims and runc; those
#   tests run `criu check` and are skipped when it fails or there is no criu).
# Exit: 0 all passed, 1 a test failed, 77 `go` is not installed (ctest SKIP_RETURN_CODE).
set -euo pipefail
export LC_ALL=C
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
src=$(cd -- "$here/../../.." && pwd -P)

if [ $# -lt 3 ]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
fi
build=$1 berthd=$2 shimdir=$3
shift 3

if ! command -v go >/dev/null 2>&1; then
  echo "compat-go: SKIP: go is not installed (apt-get install golang-go golang-github-containerd-containerd-dev)"
  exit 77
fi
if [ ! -d /usr/share/gocode/src/github.com/containerd/containerd ]; then
  echo "compat-go: containerd's Go source is missing: apt-get install golang-github-containerd-containerd-dev" >&2
  exit 1
fi
[ -x "$berthd" ] || { echo "compat-go: no berthd at $berthd" >&2; exit 1; }
[ -x "$shimdir/berth-shim" ] || { echo "compat-go: no berth-shim in $shimdir" >&2; exit 1; }

out=$(mkdir -p "$build/compat-go" && cd "$build/compat-go" && pwd -P)
image=${BERTH_COMPAT_IMAGE_TAR:-$src/build/images/berth-busybox.tar}
if [ ! -f "$image" ]; then
  bash "$src/scripts/embedded-image" "$image" >/dev/null
fi

# Offline GOPATH build against Debian's Go sources; nothing is fetched.
export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local GONOSUMDB= GOSUMDB=off
export GOPATH="$here:/usr/share/gocode"
export GOCACHE="$out/cache"
export CGO_ENABLED=1
(cd "$here/src/berthcompat" && go test -c -o "$out/berthcompat.test" .)

# criu: $BERTH_CRIU (made absolute) or the first criu on PATH or in the sbin dirs. runc (under
# berth-shim) runs `criu` from PATH, so its directory comes right after the shim's.
criu=${BERTH_CRIU:-}
if [ -n "$criu" ]; then
  if d=$(cd -- "$(dirname -- "$criu")" 2>/dev/null && pwd -P); then criu=$d/$(basename -- "$criu"); fi
else
  criu=$(PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" command -v criu || true)
fi
export BERTH_COMPAT_CRIU=$criu

export PATH="$(cd -- "$shimdir" && pwd -P)${criu:+:$(dirname -- "$criu")}:$PATH"
export BERTH_COMPAT_BERTHD=$(cd -- "$(dirname -- "$berthd")" && pwd -P)/$(basename -- "$berthd")
export BERTH_COMPAT_SOURCE=$src
export BERTH_COMPAT_IMAGE_TAR=$image
export BERTH_COMPAT_WORKDIR=${BERTH_COMPAT_WORKDIR:-$out}
export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy

# The test binary prints go test's usual -v lines and ends with PASS/FAIL; add the "ok"/"FAIL"
# package line `go test` would.
start=$(date +%s.%N)
set +e
(cd "$out" && "$out/berthcompat.test" -test.v -test.timeout 230s "$@")
rc=$?
set -e
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3fs", b-a}')
if [ $rc -eq 0 ]; then
  echo "ok  	berthcompat	$secs"
else
  echo "FAIL	berthcompat	$secs"
  [ $rc -eq 77 ] && rc=1
fi
exit $rc
