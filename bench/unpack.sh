#!/usr/bin/env bash
# Pull (fetch + unpack) benchmark: `ctr images pull` of a multi-layer ~200 MB image from a local
# registry, into berthd and into containerd 1.6 (Debian's /usr/bin/containerd), both driven by
# the same /usr/bin/ctr, in the same run, against the same registry. Prints wall time and MB/s
# per daemon (median of N runs) and the speedup containerd_time / berthd_time.
#
# Usage:
#   bench/unpack.sh [BUILD_DIR] [options]          (make bench builds and passes build/release)
#
#   BUILD_DIR            where berthd was built (default build/release)
#   --runs N             timed pulls per daemon (default 3); the median is reported
#   --big-mb M           incompressible data in the image, MiB (default 200)
#   --big-layers K       ... split across K layers (default 4)
#   --layers N           small layers (busybox base + N-1 tiny ones) before the big ones (default 3)
#   --compression C      layer compression: gzip (default) or zstd or none
#   --snapshotter NAME   snapshotter both daemons unpack into (default overlayfs)
#   --between MODE       how each run starts from nothing (default fresh):
#                          fresh  a new daemon on a new, empty root/state for every run
#                                 (daemon start-up is not timed)
#                          rm     one daemon per daemon kind for all runs; after each run
#                                 `ctr images rm --sync`, `ctr content rm` of every blob and
#                                 `ctr snapshots rm` of every snapshot, checked to be empty
#   --daemons LIST       comma-separated subset of berthd,containerd,berth (default berthd,containerd):
#                          berthd and containerd are driven by ctr; berth is a berthd driven by
#                          `berth pull` (the berth CLI's own registry client; bench/pull.sh)
#   --pull-timeout S     seconds one pull may take before it counts as failed (default 300)
#   --tmp DIR            parent of the temp dir (default $TMPDIR or /var/tmp)
#   --keep               keep the temp dir (logs, roots) instead of removing it
#
# Runs as root (containerd and the overlay snapshotter mount), never reads stdin, only loopback
# traffic. Everything it starts it stops on exit: daemons, registry, mounts under its temp dir.
# containerd gets its own root/state/socket under the temp dir and a minimal config (CRI and the
# unused snapshotters disabled); the system containerd's socket and root are never touched.
# Exit status: 0 when every pull of every daemon succeeded, 1 otherwise, 2 for usage errors.
set -euo pipefail
prog=unpack.sh
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
. "$here/lib/prelude.sh"

build=build/release
runs=3
big_mb=200
big_layers=4
small_layers=3
compression=gzip
snapshotter=overlayfs
between=fresh
daemons="berthd,containerd"
pull_timeout=300
tmp_parent=${TMPDIR:-/var/tmp}
keep=0
build_set=0

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --big-mb) [ $# -ge 2 ] || usage; big_mb=$2; shift 2 ;;
    --big-layers) [ $# -ge 2 ] || usage; big_layers=$2; shift 2 ;;
    --layers) [ $# -ge 2 ] || usage; small_layers=$2; shift 2 ;;
    --compression) [ $# -ge 2 ] || usage; compression=$2; shift 2 ;;
    --snapshotter) [ $# -ge 2 ] || usage; snapshotter=$2; shift 2 ;;
    --between) [ $# -ge 2 ] || usage; between=$2; shift 2 ;;
    --daemons) [ $# -ge 2 ] || usage; daemons=$2; shift 2 ;;
    --pull-timeout) [ $# -ge 2 ] || usage; pull_timeout=$2; shift 2 ;;
    --tmp) [ $# -ge 2 ] || usage; tmp_parent=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    -*) echo "$prog: unknown option: $1" >&2; usage ;;
    *) [ "$build_set" = 0 ] || usage; build=$1; build_set=1; shift ;;
  esac
done

isint "$runs" && [ "$runs" -ge 1 ] || { echo "$prog: --runs must be >= 1" >&2; exit 2; }
isint "$big_mb" && [ "$big_mb" -ge 1 ] || { echo "$prog: --big-mb must be >= 1" >&2; exit 2; }
isint "$big_layers" && [ "$big_layers" -ge 1 ] || { echo "$prog: --big-layers must be >= 1" >&2; exit 2; }
isint "$small_layers" && [ "$small_layers" -ge 1 ] || { echo "$prog: --layers must be >= 1" >&2; exit 2; }
isint "$pull_timeout" && [ "$pull_timeout" -ge 1 ] || { echo "$prog: --pull-timeout must be >= 1" >&2; exit 2; }
case "$between" in fresh|rm) ;; *) echo "$prog: --between must be fresh or rm" >&2; exit 2 ;; esac
case "$compression" in gzip|zstd|none) ;; *) echo "$prog: --compression must be gzip, zstd or none" >&2; exit 2 ;; esac
[[ "$snapshotter" =~ ^[a-z0-9._-]+$ ]] || { echo "$prog: bad --snapshotter" >&2; exit 2; }
kinds=()
IFS=, read -r -a _ds <<<"$daemons"
for d in "${_ds[@]}"; do
  case "$d" in berthd|containerd|berth) kinds+=("$d") ;; *) echo "$prog: --daemons: unknown $d" >&2; exit 2 ;; esac
done
[ "${#kinds[@]}" -ge 1 ] || { echo "$prog: --daemons is empty" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root (daemons mount overlayfs)"
case "$build" in /*) ;; *) build=$repo/$build ;; esac
berthd_bin=$build/cmd/berthd/berthd
berth_bin=$build/cmd/berth/berth
CTR=${CTR:-/usr/bin/ctr}
CONTAINERD=${CONTAINERD:-/usr/bin/containerd}
[ -x "$CTR" ] || die "$CTR not found (package containerd)"
for d in "${kinds[@]}"; do
  case "$d" in
    berthd) [ -x "$berthd_bin" ] || die "$berthd_bin is missing; run 'make bench' (or 'make build')" ;;
    berth) [ -x "$berthd_bin" ] && [ -x "$berth_bin" ] || die "$berth_bin or berthd is missing; run 'make build'" ;;
    containerd) [ -x "$CONTAINERD" ] || die "$CONTAINERD not found (package containerd)" ;;
  esac
done
for t in timeout docker-registry skopeo openssl curl awk sort du; do
  command -v "$t" >/dev/null || die "$t not installed (scripts/setup installs the dependencies)"
done
[ -d "$tmp_parent" ] || die "--tmp $tmp_parent: no such directory"

# ---------------------------------------------------------------- temp dir and cleanup
tmp=$(mktemp -d "$tmp_parent/berth-bench-unpack.XXXXXX")
tmp=$(cd -- "$tmp" && pwd -P)
registry_started=0

. "$here/lib/daemons.sh"

c() {  # ctr against daemon: c kind dir ARGS...
  local kind=$1 dir=$2; shift 2
  timeout -k 5 120 "$CTR" --address "$(sock_of "$dir" "$kind")" --namespace bench "$@" </dev/null
}

# Removes image, content and snapshots from a daemon; fails if anything is left.
wipe() {  # kind dir
  local kind=$1 dir=$2 i keys parents k removed
  c "$kind" "$dir" images rm --sync "$ref" >/dev/null 2>&1 || true
  c "$kind" "$dir" content ls -q 2>/dev/null | xargs -r timeout -k 5 120 "$CTR" \
    --address "$(sock_of "$dir" "$kind")" --namespace bench content rm >/dev/null 2>&1 || true
  # Snapshots: remove leaves (keys nobody names as parent) until none are left.
  for ((i = 0; i < 64; i++)); do
    keys=$(c "$kind" "$dir" snapshots --snapshotter "$snapshotter" ls 2>/dev/null | awk 'NR > 1 {print $1}' || true)
    [ -n "$keys" ] || break
    parents=$(c "$kind" "$dir" snapshots --snapshotter "$snapshotter" ls 2>/dev/null | awk 'NR > 1 && NF >= 3 {print $2}' || true)
    removed=0
    for k in $keys; do
      if ! grep -qxF -- "$k" <<<"$parents"; then
        c "$kind" "$dir" snapshots --snapshotter "$snapshotter" rm "$k" >/dev/null 2>&1 && removed=1
      fi
    done
    [ "$removed" = 1 ] || break
  done
  local left_i left_c left_s
  left_i=$(c "$kind" "$dir" images ls -q 2>/dev/null | wc -l)
  left_c=$(c "$kind" "$dir" content ls -q 2>/dev/null | wc -l)
  left_s=$(c "$kind" "$dir" snapshots --snapshotter "$snapshotter" ls 2>/dev/null | awk 'NR > 1' | wc -l)
  if [ "$left_i" != 0 ] || [ "$left_c" != 0 ] || [ "$left_s" != 0 ]; then
    echo "$prog: $kind: cleanup left $left_i images, $left_c blobs, $left_s snapshots" >&2
    return 1
  fi
}

# ---------------------------------------------------------------- machine and versions
echo "== berth unpack benchmark: ctr images pull (fetch + unpack), berthd vs containerd"
echo "machine:     $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM"
echo "temp dir:    $tmp ($(df --output=fstype "$tmp" | tail -n 1) filesystem)"
echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg) (at start)"
echo "ctr:         $("$CTR" --version)"
for d in "${kinds[@]}"; do
  case "$d" in
    berthd) echo "berthd:      $("$berthd_bin" --version 2>&1 | head -n 1) ($berthd_bin)" ;;
    berth) echo "berth:       $("$berth_bin" --version 2>&1 | head -n 1) ($berth_bin), pulling into a berthd" ;;
    containerd)
      echo "containerd:  $("$CONTAINERD" --version 2>&1 | head -n 1)"
      if command -v unpigz >/dev/null; then
        echo "             (gunzips layers with $(command -v unpigz))"
      else
        echo "             (gunzips layers in Go: unpigz is not in PATH)"
      fi
      ;;
  esac
done

# ---------------------------------------------------------------- image and registry
echo
echo "building the image (scripts/mkimage --layers $small_layers --big-mb $big_mb --big-layers $big_layers --compression $compression) ..."
bash "$repo/scripts/mkimage" --out "$tmp/image" --tag bench --layers "$small_layers" \
  --big-mb "$big_mb" --big-layers "$big_layers" --compression "$compression" >"$tmp/image.digest" ||
  die "scripts/mkimage failed"
manifest_digest=$(cat "$tmp/image.digest")
nlayers=$(grep -o '"layers":\[.*\]' "$tmp/image/blobs/sha256/${manifest_digest#sha256:}" | grep -o '"digest"' | wc -l)
image_bytes=$(find "$tmp/image/blobs/sha256" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
image_mb=$(awk -v b="$image_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')

registry_started=1
addr=$(bash "$repo/scripts/test-registry" start "$tmp/registry" --owner-pid $$) || die "could not start the registry"
ref=$(bash "$repo/scripts/test-registry" push "$tmp/registry" "$tmp/image" bench bench/unpack:latest 2>"$tmp/push.log") ||
  { cat "$tmp/push.log" >&2; die "could not push the image"; }
rm -rf -- "$tmp/image"
# sha256 of the big data as one stream (mkimage's fixed AES-128-CTR keystream), for verify_rootfs.
big_sha=$(head -c "$((big_mb * 1024 * 1024))" /dev/zero |
  openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 |
  sha256sum | cut -d' ' -f1)

echo "image:       $ref ($manifest_digest)"
echo "             $nlayers layers ($compression), $image_bytes bytes = $image_mb MB pulled (manifest + config + layers)"
echo "registry:    docker-registry on $addr (loopback, plain HTTP)"
echo "pull:        $CTR --address SOCK --namespace bench images pull --plain-http --snapshotter $snapshotter REF"
case " ${kinds[*]} " in *" berth "*)
  echo "             (row berth: $berth_bin --address SOCK --namespace bench pull --plain-http --snapshotter $snapshotter --progress plain REF)" ;;
esac
case "$between" in
  fresh) echo "between runs: fresh daemon on a new, empty root/state per run (start-up not timed)" ;;
  rm) echo "between runs: same daemon; ctr images rm --sync + content rm + snapshots rm, checked empty" ;;
esac
echo "runs:        $runs per daemon, daemons alternating (order flips each run); MB = 10^6 bytes"
echo

# ---------------------------------------------------------------- the runs
declare -A times=()     # kind -> space-separated seconds
declare -A failed=()    # kind -> message
declare -A cur_dir=()   # kind -> instance dir (rm mode: for all runs)

if [ "$between" = rm ]; then
  for d in "${kinds[@]}"; do
    cur_dir[$d]=$tmp/$d
    start_daemon "$d" "${cur_dir[$d]}" || failed[$d]="daemon did not start"
  done
fi

# Mounts a view of the top snapshot (what `ctr snapshots mounts` prints) and checks the rootfs:
# /hello.txt and the big data, byte for byte. Not timed.
verify_rootfs() {  # kind dir
  local kind=$1 dir=$2 listing top mnt cmd got hello k rc=0
  local -a files=()
  listing=$(c "$kind" "$dir" snapshots --snapshotter "$snapshotter" ls 2>/dev/null || true)
  top=$(awk 'NR > 1 && $NF == "Committed" {k[$1] = 1} NR > 1 && NF >= 3 {p[$2] = 1}
             END {for (x in k) if (!(x in p)) print x}' <<<"$listing")
  if [ "$(wc -w <<<"$top")" != 1 ]; then echo "no single top snapshot: $top" >"$dir/verify.err"; return 1; fi
  c "$kind" "$dir" snapshots --snapshotter "$snapshotter" view bench-verify "$top" >/dev/null 2>"$dir/verify.err" || return 1
  mnt=$dir/verify
  mkdir -p "$mnt"
  cmd=$(c "$kind" "$dir" snapshots --snapshotter "$snapshotter" mounts "$mnt" bench-verify 2>>"$dir/verify.err") || rc=1
  if [ "$rc" = 0 ] && [[ "$cmd" == "mount -t "* ]] && sh -c "$cmd" </dev/null >>"$dir/verify.err" 2>&1; then
    if [ "$big_layers" = 1 ]; then files=("$mnt/data/big.bin"); else
      for ((k = 1; k <= big_layers; k++)); do files+=("$mnt/data/big-$k.bin"); done
    fi
    got=$(cat -- "${files[@]}" 2>>"$dir/verify.err" | sha256sum | cut -d' ' -f1)
    hello=$(cat -- "$mnt/hello.txt" 2>>"$dir/verify.err" || true)
    [ "$got" = "$big_sha" ] || { echo "big data sha256 $got, want $big_sha" >>"$dir/verify.err"; rc=1; }
    [ "$hello" = "hello from berth" ] || { echo "/hello.txt: '$hello'" >>"$dir/verify.err"; rc=1; }
    umount "$mnt" 2>>"$dir/verify.err" || umount -l "$mnt" 2>/dev/null || true
  else
    echo "could not mount the view: $cmd" >>"$dir/verify.err"; rc=1
  fi
  c "$kind" "$dir" snapshots --snapshotter "$snapshotter" rm bench-verify >/dev/null 2>>"$dir/verify.err" || rc=1
  return "$rc"
}

report_failure() {  # kind dir logfile rc
  local kind=$1 dir=$2 log=$3 rc=$4
  {
    echo "---- $kind: the pull failed (exit $rc$([ "$rc" = 124 ] && echo ", timed out after ${pull_timeout}s")); ctr output (last 30 lines):"
    # ctr's progress redraws with escape codes; keep the readable lines.
    sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | tr '\r' '\n' | grep -v '^[[:space:]]*$' | tail -n 30 | sed 's/^/  ctr: /'
    echo "---- $kind log tail ($dir/$kind.log, last 40 lines):"
    tail -n 40 "$dir/$kind.log" | sed "s/^/  $kind: /"
    echo "----"
  } >&2
}

one_run() {  # kind run_no
  local kind=$1 n=$2 dir log t0 t1 rc=0 dt mbs images committed usage verified=""
  if [ "$between" = fresh ]; then
    dir=$tmp/$kind.run$n
    cur_dir[$kind]=$dir
    if ! start_daemon "$kind" "$dir"; then failed[$kind]="daemon did not start (run $n)"; return; fi
  else
    dir=${cur_dir[$kind]}
  fi
  log=$dir/pull.$n.log
  sync
  t0=$(now_ns)
  if [ "$kind" = berth ]; then
    timeout -k 5 "$pull_timeout" "$berth_bin" --address "$(sock_of "$dir" "$kind")" --namespace bench \
      pull --plain-http --snapshotter "$snapshotter" --progress plain "$ref" </dev/null >"$log" 2>&1 || rc=$?
  else
    timeout -k 5 "$pull_timeout" "$CTR" --address "$(sock_of "$dir" "$kind")" --namespace bench \
      images pull --plain-http --snapshotter "$snapshotter" "$ref" </dev/null >"$log" 2>&1 || rc=$?
  fi
  t1=$(now_ns)
  if [ "$rc" != 0 ]; then
    printf 'run %d  %-10s  FAILED (client exit %d)\n' "$n" "$kind" "$rc"
    report_failure "$kind" "$dir" "$log" "$rc"
    failed[$kind]="the pull failed in run $n (exit $rc)"
    [ "$between" = fresh ] && stop_daemon "$kind" "$dir"
    return
  fi
  # Check that it really unpacked: image present, one committed snapshot per layer.
  images=$(c "$kind" "$dir" images ls -q 2>/dev/null | grep -cxF -- "$ref" || true)
  committed=$(c "$kind" "$dir" snapshots --snapshotter "$snapshotter" ls 2>/dev/null | awk 'NR > 1 && $NF == "Committed"' | wc -l || true)
  usage=$(du -sxb "$dir/root" 2>/dev/null | awk '{printf "%.0f", $1 / 1e6}' || true)
  dt=$((t1 - t0))
  mbs=$(awk -v b="$image_bytes" -v ns="$dt" 'BEGIN { printf "%.1f", b / 1e6 / (ns / 1e9) }')
  if [ "$images" != 1 ] || [ "$committed" != "$nlayers" ]; then
    printf 'run %d  %-10s  %8s s  but the result is wrong: image listed %s times, %s committed snapshots (want %s)\n' \
      "$n" "$kind" "$(secs "$dt")" "$images" "$committed" "$nlayers"
    report_failure "$kind" "$dir" "$log" 0
    failed[$kind]="pull succeeded but image/snapshots are missing (run $n)"
    [ "$between" = fresh ] && stop_daemon "$kind" "$dir"
    return
  fi
  if [ "$n" = 1 ]; then
    if verify_rootfs "$kind" "$dir"; then
      verified=", rootfs verified"
    else
      printf 'run %d  %-10s  %8s s  but the unpacked rootfs is wrong:\n' "$n" "$kind" "$(secs "$dt")"
      sed 's/^/  verify: /' "$dir/verify.err" >&2
      tail -n 20 "$dir/$kind.log" | sed "s/^/  $kind: /" >&2
      failed[$kind]="unpacked rootfs does not match the image (run $n)"
      [ "$between" = fresh ] && stop_daemon "$kind" "$dir"
      return
    fi
  fi
  printf 'run %d  %-10s  %8s s  %7s MB/s   (%s committed snapshots%s, root %s MB on disk)\n' \
    "$n" "$kind" "$(secs "$dt")" "$mbs" "$committed" "$verified" "$usage"
  times[$kind]="${times[$kind]:-} $dt"
  if [ "$between" = fresh ]; then
    stop_daemon "$kind" "$dir"
    [ "$keep" = 1 ] || rm -rf --one-file-system -- "$dir"
  else
    wipe "$kind" "$dir" || failed[$kind]="cleanup between runs failed (run $n)"
  fi
}

for ((n = 1; n <= runs; n++)); do
  # Rotate who goes first, so no daemon always pulls on the coldest (or warmest) machine.
  order=()
  for ((i = 0; i < ${#kinds[@]}; i++)); do order+=("${kinds[$(((i + n - 1) % ${#kinds[@]}))]}"); done
  for d in "${order[@]}"; do
    [ -n "${failed[$d]:-}" ] && continue
    one_run "$d" "$n"
  done
done

if [ "$between" = rm ]; then
  for d in "${kinds[@]}"; do stop_daemon "$d" "${cur_dir[$d]}"; done
fi

# ---------------------------------------------------------------- summary
median_ns() {  # numbers on the command line
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.0f", v[(NR + 1) / 2]; else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo
echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg) (at end)"
printf '%-11s %6s %10s %10s %10s %10s\n' daemon runs "median s" "MB/s" "min s" "max s"
declare -A med=()
status=0
for d in "${kinds[@]}"; do
  if [ -n "${failed[$d]:-}" ]; then
    printf '%-11s FAILED: %s\n' "$d" "${failed[$d]}"
    status=1
    continue
  fi
  # shellcheck disable=SC2086
  set -- ${times[$d]}
  med[$d]=$(median_ns "$@")
  printf '%-11s %6d %10s %10s %10s %10s\n' "$d" "$#" "$(secs "${med[$d]}")" \
    "$(awk -v b="$image_bytes" -v ns="${med[$d]}" 'BEGIN { printf "%.1f", b / 1e6 / (ns / 1e9) }')" \
    "$(secs "$(printf '%s\n' "$@" | sort -n | head -n 1)")" "$(secs "$(printf '%s\n' "$@" | sort -n | tail -n 1)")"
done
for d in berthd berth; do
  if [ -n "${med[$d]:-}" ] && [ -n "${med[containerd]:-}" ]; then
    awk -v who="$d" -v b="${med[$d]}" -v c="${med[containerd]}" 'BEGIN {
      printf "time ratio %s/containerd: %.2f   speedup (containerd_time / %s_time): %.2fx\n", who, b / c, who, c / b }'
  fi
done
exit "$status"
