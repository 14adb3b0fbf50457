#!/usr/bin/env bash
# Start-rate benchmark: N containers running `sleep 100000` started concurrently (P at a time)
# into berthd and into containerd 1.6, in the same run, with runc and with crun, by the clients:
#   ctr   one `/usr/bin/ctr run -d IMAGE ID sleep 100000` process per container, P at a time
#         (what a user sees; each ctr costs ~40-50 ms of Go start-up, the same for both daemons);
#   load  `berth bench` (BUILD_DIR/cmd/berth/berth): one long-lived client (one gRPC channel)
#         with P threads, each start = container (spec + snapshot) + task with null IO + start,
#         as `berth run -d` does (what the daemon can do; cmd/berth/bench.cc);
#   raw   the floor, no daemon: `berth bench --raw`, the same N containers (same spec) started
#         by the OCI runtime directly, P at a time: an overlay of the image's layers (a view
#         the first daemon makes once, not timed) + `RUNTIME run -d`; teardown `RUNTIME delete
#         -f` + unmount + rm. Each daemon's load rate is printed as a percentage of it. Comes
#         with load (its reference) unless --no-raw;
#   rest  berthd only (containerd 1.6 has no REST API): one curl process, P transfers at a time,
#         each `POST /containers/ID?namespace=bench {"bundlePath": B}` of berthd's REST API v1
#         (--rest-address), which answers 201 once the task is running. B is one bundle made
#         once by `berth bundle create` (config.json + a copied rootfs), shared by every
#         container: no per-start snapshot or mount. Compared with berthd's `load` row, which
#         `--client rest` adds when it is not selected.
# Each batch is then torn down by the same client, P at a time, timed the same way: ctr runs
# `ctr task rm -f ID` + `ctr container rm ID` per container, load kills (SIGKILL), waits,
# deletes the task and removes snapshot and container (berth bench's teardown), rest sends
# `DELETE /containers/ID` (kill, wait, delete task and container).
# Prints, per phase (start, teardown), client, daemon and runtime, the per-container latency
# (count/min/median/p95/p99/max, ms) and containers/s (N / wall time of the whole batch), per
# client and runtime the ratios berthd vs containerd, and per runtime rest vs load on berthd.
#
# Usage:
#   bench/start-rate.sh [BUILD_DIR] [options]      (make bench-start builds and passes build/release)
#
#   BUILD_DIR            where berthd, berth-shim and berth were built
#                        (default build/release)
#   --count N            containers per batch (default 100)
#   --parallel P         concurrent starts: ctr processes, load threads or curl transfers
#                        (default 10)
#   --runtimes LIST      comma-separated subset of runc,crun (default runc,crun)
#   --daemons LIST       comma-separated subset of berthd,containerd (default both)
#   --client LIST        comma-separated subset of ctr,load,raw,rest, or both (= ctr,load, the
#                        default) or all (= ctr,load,rest); rest brings load along (its baseline),
#                        load brings raw along (its floor)
#   --no-raw             no raw row (load without its floor)
#   --rest-tcp           rest: berthd's REST API on 127.0.0.1:<free port> instead of a unix
#                        socket in the temp dir (the gRPC clients always use a unix socket)
#   --berthd-arg ARG     one more berthd flag (repeatable), e.g. --berthd-arg --concurrency=0
#   --tmp DIR            parent of the temp dir (default $TMPDIR or /var/tmp)
#   --keep               keep the temp dir (logs, roots)
#
# Every ctr invocation costs ~40-50 ms of Go start-up on this machine (machine-notes.md), the same
# for both daemons: with `ctr` the CLI dominates; `load` measures the daemons. The load client's
# latency runs from before its snapshot prepare to the start's return, its wall time from the
# release of its P threads to the last start (its connect and image lookup are not timed). Each
# batch starts from a daemon with no tasks; the tasks are killed and removed (not timed) before
# the next batch. Runs as root, reads no stdin, loopback only, and stops everything it started
# on exit (daemons, shims, tasks, registry, mounts, the hugetlb hierarchy it mounted for crun).
# Exit status: 0 if every start succeeded, 1 otherwise, 2 for usage errors.
set -euo pipefail
prog=start-rate.sh
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
. "$here/lib/prelude.sh"

build=build/release
count=100
parallel=10
runtimes=runc,crun
daemons="berthd,containerd"
client=both
tmp_parent=${TMPDIR:-/var/tmp}
keep=0
rest_tcp=0
no_raw=0
build_set=0
extra_berthd_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --count) [ $# -ge 2 ] || usage; count=$2; shift 2 ;;
    --parallel) [ $# -ge 2 ] || usage; parallel=$2; shift 2 ;;
    --runtimes) [ $# -ge 2 ] || usage; runtimes=$2; shift 2 ;;
    --daemons) [ $# -ge 2 ] || usage; daemons=$2; shift 2 ;;
    --client) [ $# -ge 2 ] || usage; client=$2; shift 2 ;;
    --tmp) [ $# -ge 2 ] || usage; tmp_parent=$2; shift 2 ;;
    --rest-tcp) rest_tcp=1; shift ;;
    --no-raw) no_raw=1; shift ;;
    --berthd-arg) [ $# -ge 2 ] || usage; extra_berthd_args+=("$2"); shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    -*) echo "$prog: unknown option: $1" >&2; usage ;;
    *) [ "$build_set" = 0 ] || usage; build=$1; build_set=1; shift ;;
  esac
done
isint "$count" && [ "$count" -ge 1 ] || { echo "$prog: --count must be >= 1" >&2; exit 2; }
isint "$parallel" && [ "$parallel" -ge 1 ] || { echo "$prog: --parallel must be >= 1" >&2; exit 2; }
kinds=(); rts=()
IFS=, read -r -a _ds <<<"$daemons"
for d in "${_ds[@]}"; do
  case "$d" in berthd|containerd) kinds+=("$d") ;; *) echo "$prog: --daemons: unknown $d" >&2; exit 2 ;; esac
done
IFS=, read -r -a _rs <<<"$runtimes"
for r in "${_rs[@]}"; do
  case "$r" in runc|crun) rts+=("$r") ;; *) echo "$prog: --runtimes: unknown $r" >&2; exit 2 ;; esac
done
[ "${#kinds[@]}" -ge 1 ] && [ "${#rts[@]}" -ge 1 ] || usage
case "$client" in both) client=ctr,load ;; all) client=ctr,load,rest ;; esac
declare -A _want=()
IFS=, read -r -a _cs <<<"$client"
for c in "${_cs[@]}"; do
  case "$c" in ctr|load|raw|rest) _want[$c]=1 ;; *) echo "$prog: --client: unknown $c (ctr, load, raw, rest, both or all)" >&2; exit 2 ;; esac
done
[ -z "${_want[rest]:-}" ] || _want[load]=1  # the REST row is compared with berthd's gRPC load row
[ -z "${_want[load]:-}" ] || [ "$no_raw" = 1 ] || _want[raw]=1  # the load rows' floor
clients=()
for c in raw ctr load rest; do [ -z "${_want[$c]:-}" ] || clients+=("$c"); done
[ "${#clients[@]}" -ge 1 ] || usage
has_client() { [ -n "${_want[$1]:-}" ]; }
if has_client rest; then
  [[ ",$daemons," == *,berthd,* ]] || { echo "$prog: --client rest needs berthd in --daemons" >&2; exit 2; }
  # curl takes at most 300 transfers at a time (and silently falls back to 50 above that).
  [ "$parallel" -le 300 ] || { echo "$prog: --client rest: --parallel must be <= 300 (curl --parallel-max)" >&2; exit 2; }
fi

[ "$(id -u)" = 0 ] || die "must run as root"
case "$build" in /*) ;; *) build=$repo/$build ;; esac
berthd_bin=$build/cmd/berthd/berthd
CTR=${CTR:-/usr/bin/ctr}
CONTAINERD=${CONTAINERD:-/usr/bin/containerd}
for d in "${kinds[@]}"; do
  case "$d" in
    berthd) [ -x "$berthd_bin" ] && [ -x "$build/cmd/berth-shim/berth-shim" ] ||
              die "$berthd_bin or berth-shim is missing; run 'make bench-start' (or 'make build')" ;;
    containerd) [ -x "$CONTAINERD" ] || die "$CONTAINERD not found (package containerd)" ;;
  esac
done
berth_bin=$build/cmd/berth/berth
if has_client load || has_client raw || has_client rest; then
  # load, raw: berth bench; rest: berth bundle create makes the REST bundle.
  [ -x "$berth_bin" ] || die "$berth_bin is missing; run 'make bench-start' (or 'make build')"
fi
if has_client rest; then command -v curl >/dev/null || die "curl not installed"; fi
for t in timeout docker-registry skopeo xargs awk sort runc; do
  command -v "$t" >/dev/null || die "$t not installed (scripts/setup installs the dependencies)"
done
for r in "${rts[@]}"; do command -v "$r" >/dev/null || die "$r not installed"; done

tmp=$(mktemp -d "$tmp_parent/berth-bench-start.XXXXXX")
tmp=$(cd -- "$tmp" && pwd -P)
registry_started=0
. "$here/lib/daemons.sh"
. "$here/lib/image.sh"
bench_cleanup_hook() {
  local k
  for k in "${!daemon_pid[@]}"; do remove_all_tasks "$k" "$tmp/$k" >/dev/null 2>&1 || true; done
  bench_hugetlb_undo
}

echo "== berth start-rate benchmark: $count container starts, $parallel at a time, berthd vs containerd, client: ${clients[*]}"
echo "machine:     $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r)"
echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg) (at start)"
echo "ctr:         $("$CTR" --version)"
if has_client load; then echo "load:        $berth_bin bench (one client, $parallel threads)"; fi
if has_client raw; then echo "raw:         $berth_bin bench --raw (RUNTIME run -d, $parallel at a time, no daemon; image view from ${kinds[0]})"; fi
if has_client rest; then
  echo "rest:        $(curl --version | head -n 1 | cut -d' ' -f1-2) (one process, $parallel transfers at a time) -> berthd --rest-address"
fi
for d in "${kinds[@]}"; do
  case "$d" in
    berthd) echo "berthd:      $("$berthd_bin" --version 2>&1 | head -n 1) (shim: berth-shim)" ;;
    containerd) echo "containerd:  $("$CONTAINERD" --version 2>&1 | head -n 1) (shim: containerd-shim-runc-v2)" ;;
  esac
done
for r in "${rts[@]}"; do echo "$r:$(printf '%*s' $((12 - ${#r})) '')$("$r" --version 2>&1 | head -n 1)"; done

bench_image_setup
BERTHD_ARGS=(${extra_berthd_args[@]+"${extra_berthd_args[@]}"})
if has_client rest; then
  if [ "$rest_tcp" = 1 ]; then BERTHD_ARGS+=(--rest-address 127.0.0.1:0); else BERTHD_ARGS+=(--rest-address "$tmp/berthd/rest.sock"); fi
fi
[ ${#BERTHD_ARGS[@]} -eq 0 ] || echo "berthd args: ${BERTHD_ARGS[*]}"
for d in "${kinds[@]}"; do
  start_daemon "$d" "$tmp/$d" || die "$d did not start"
  bench_image_pull "$d" "$tmp/$d"
done
echo "image:       $ref (busybox, 1 layer), command: sleep 100000"

# The REST API: where berthd serves it (its log line `msg="serving REST API v1" address=A
# port=N`, port=0 for a unix socket), and the one bundle every REST container starts from.
rest_conn=()   # curl's connection flags
rest_url=""    # http://HOST[:PORT], without a trailing slash
bundle=$tmp/bundle
if has_client rest; then
  rest_line=""
  for ((i = 0; i < 100; i++)); do
    rest_line=$(grep -F 'msg="serving REST API v1"' "$tmp/berthd/berthd.log" | tail -n 1 || true)
    [ -z "$rest_line" ] || break
    sleep 0.1
  done
  if [ -z "$rest_line" ]; then
    tail -n 30 "$tmp/berthd/berthd.log" | sed 's/^/  berthd: /' >&2
    die "berthd did not log msg=\"serving REST API v1\" (is --rest-address in this build?)"
  fi
  rest_port=$(sed -n 's/.* port=\([0-9][0-9]*\).*/\1/p' <<<"$rest_line")
  if [ "$rest_tcp" = 1 ]; then
    { [ -n "$rest_port" ] && [ "$rest_port" != 0 ]; } || die "no port in berthd's log line: $rest_line"
    rest_url=http://127.0.0.1:$rest_port
    rest_where="127.0.0.1:$rest_port"
  else
    [ -S "$tmp/berthd/rest.sock" ] || die "berthd logged the REST API but $tmp/berthd/rest.sock is not a socket"
    rest_conn=(--unix-socket "$tmp/berthd/rest.sock")
    rest_url=http://localhost
    rest_where="unix socket $tmp/berthd/rest.sock"
  fi
  timeout -k 5 300 "$berth_bin" --address "$(sock_of "$tmp/berthd" berthd)" --namespace bench \
    bundle create "$ref" "$bundle" -- sleep 100000 </dev/null >"$tmp/bundle.log" 2>&1 ||
    { cat "$tmp/bundle.log" >&2; die "berth bundle create failed"; }
  [ -f "$bundle/config.json" ] && [ -d "$bundle/rootfs" ] || die "berth bundle create left no $bundle/config.json or rootfs"
  echo "rest api:    $rest_where, bundle: berth bundle create $ref DIR -- sleep 100000 (one for all)"
fi
echo

declare -A result=()  # phase/client/kind/rt -> "count min median p95 p99 max rate failed running"

# One batch with one ctr process per container. Writes $out (one latency in ns, or FAIL, a
# line) and $err; sets wall_ns.
batch_ctr() {  # kind sock rt out err
  local flags="" t0 t1
  [ "$3" = crun ] && flags="--runc-binary crun"
  t0=$(now_ns)
  seq 1 "$count" | xargs -P "$parallel" -I{} bash -c '
    t0=$(date +%s%N)
    if timeout -k 5 120 "$0" --address "$1" --namespace bench run -d $2 "$3" "s-$4-{}" sleep 100000 </dev/null >/dev/null 2>>"$5"; then
      echo $(( $(date +%s%N) - t0 ))
    else
      echo FAIL
    fi' "$CTR" "$2" "$flags" "$ref" "$3" "$5" >>"$4" || true
  t1=$(now_ns)
  wall_ns=$((t1 - t0))
}

# One batch through `berth bench`, which then tears it down itself (timed: the teardown's
# latencies go to $out.td, its wall time to td_wall_ns). Same outputs; its wall time is the one
# it measured, the starts missing from $out are failures, and `running` is its count of
# running tasks before the teardown.
batch_load() {  # kind sock rt out err [berth bench flags...]
  local flags=("${@:6}") summary n
  [ "$3" = crun ] && flags+=(--runc-binary crun)
  timeout -k 5 1800 "$berth_bin" --address "$2" --namespace bench bench --count "$count" --parallel "$parallel" \
    --prefix "s-$3" --latencies "$4" --teardown-latencies "$4.td" "${flags[@]}" "$ref" </dev/null >"$5.table" 2>"$5" || true
  summary=$(grep -o 'summary: .*' "$5" | tail -n 1 || true)
  wall_ns=$(sed -n 's/.* wall_ns=\([0-9]*\).*/\1/p' <<<"$summary")
  [ -n "$wall_ns" ] || wall_ns=0
  td_wall_ns=$(sed -n 's/.*teardown_wall_ns=\([0-9]*\).*/\1/p' <<<"$summary")
  [ -n "$td_wall_ns" ] || td_wall_ns=0
  load_running=$(sed -n 's/.* running=\([0-9]*\).*/\1/p' <<<"$summary")
  [ -n "$load_running" ] || load_running=0
  n=$(grep -c . "$4" || true)
  for ((; n < count; n++)); do echo FAIL >>"$4"; done
  touch "$4.td"
  n=$(grep -c . "$4.td" || true)
  for ((; n < count; n++)); do echo FAIL >>"$4.td"; done
  grep -v 'summary: ' "$5" >"$5.tmp" || true
  mv "$5.tmp" "$5"
}

# One batch through berthd's REST API: one curl process, P transfers at a time (URL glob
# r-RT-[1-N]), each a POST of the shared bundle that answers 201 once the task runs. Same
# outputs: the latency is curl's time_total of each transfer (connect included), the wall time
# that of the curl process; a start that is not a 201 is a failure (its body goes to $err).
# (--no-progress-meter: curl 7.88's -Z prints its progress meter despite -s.)
batch_rest() {  # kind sock rt out err
  local body bodies t0 t1 n code secs url id
  body="{\"bundlePath\": \"$bundle\"}"
  [ "$3" = crun ] && body="{\"bundlePath\": \"$bundle\", \"runtime\": \"crun\"}"
  bodies=$tmp/rest.$3.bodies
  rm -rf -- "$bodies"
  mkdir -p "$bodies"
  t0=$(now_ns)
  timeout -k 5 900 curl -sS --no-progress-meter --noproxy '*' -Z --parallel-immediate --parallel-max "$parallel" "${rest_conn[@]}" \
    -H 'Content-Type: application/json' -d "$body" -o "$bodies/#1" \
    -w '%{http_code} %{time_total} %{url_effective}\n' \
    "$rest_url/containers/r-$3-[1-$count]?namespace=bench" </dev/null >"$4.raw" 2>>"$5" || true
  t1=$(now_ns)
  wall_ns=$((t1 - t0))
  awk '$1 == "201" { printf "%.0f\n", $2 * 1e9; next } { print "FAIL" }' "$4.raw" >>"$4"
  while read -r code secs url; do
    [ "$code" != 201 ] || continue
    id=${url##*/containers/}
    id=${id%%\?*}
    echo "$id: HTTP $code after ${secs}s: $(head -c 300 "$bodies/${id##*-}" 2>/dev/null | tr '\n' ' ')" >>"$5"
  done <"$4.raw"
  n=$(grep -c . "$4" || true)
  for ((; n < count; n++)); do echo FAIL >>"$4"; done
}

# Tears down the ctr batch: per container `ctr task rm -f` (SIGKILL, wait, delete) and
# `ctr container rm` (record and snapshot), P at a time. Writes $out.td (latency ns or FAIL a
# line), sets td_wall_ns.
teardown_ctr() {  # kind sock rt out err
  local t0 t1
  t0=$(now_ns)
  seq 1 "$count" | xargs -P "$parallel" -I{} bash -c '
    t0=$(date +%s%N)
    if timeout -k 5 120 "$0" --address "$1" --namespace bench task rm -f "s-$2-{}" </dev/null >/dev/null 2>>"$3" &&
       timeout -k 5 120 "$0" --address "$1" --namespace bench container rm "s-$2-{}" </dev/null >/dev/null 2>>"$3"; then
      echo $(( $(date +%s%N) - t0 ))
    else
      echo FAIL
    fi' "$CTR" "$2" "$3" "$5" >>"$4.td" || true
  t1=$(now_ns)
  td_wall_ns=$((t1 - t0))
}

# berth bench tore its batch down already (batch_load).
teardown_load() { :; }

# The floor: berth bench --raw through the first daemon (its image view only), same outputs.
batch_raw() {  # kind sock rt out err
  batch_load "$@" --raw
}
teardown_raw() { :; }

# Tears down the REST batch through the REST API (DELETE kills a running task, waits, deletes
# task and container), P at a time: the latency is curl's time_total of each 204, the wall time
# that of the curl process.
teardown_rest() {  # kind sock rt out err
  local t0 t1 n
  t0=$(now_ns)
  timeout -k 5 600 curl -sS --no-progress-meter --noproxy '*' -Z --parallel-immediate --parallel-max "$parallel" "${rest_conn[@]}" \
    -X DELETE -o /dev/null -w '%{http_code} %{time_total} %{url_effective}\n' \
    "$rest_url/containers/r-$3-[1-$count]?namespace=bench" </dev/null >"$4.td.raw" 2>>"$5" || true
  t1=$(now_ns)
  td_wall_ns=$((t1 - t0))
  awk '$1 ~ /^20[04]$/ { printf "%.0f\n", $2 * 1e9; next } { print "FAIL" }' "$4.td.raw" >>"$4.td"
  n=$(grep -c . "$4.td" || true)
  for ((; n < count; n++)); do echo FAIL >>"$4.td"; done
}

# Records one phase's row from its latency file (ns or FAIL a line) and wall time.
record() {  # phase client kind rt latfile wall_ns running
  local n mn md p95 p99 mx rate fails
  fails=$(grep -c FAIL "$5" || true)
  grep -v FAIL "$5" >"$5.ok" || true
  read -r n mn md p95 p99 mx < <(bench_stats_ms "$5.ok")
  rate=$(awk -v n="$n" -v ns="$6" 'BEGIN { if (ns > 0) printf "%.1f", n / (ns / 1e9); else print "-" }')
  result[$1/$2/$3/$4]="$n $mn $md $p95 $p99 $mx $rate $fails $7"
}

status=0
for rt in "${rts[@]}"; do
  [ "$rt" = crun ] && bench_need_hugetlb
  for c in "${clients[@]}"; do
    for d in "${kinds[@]}"; do
      [ "$c" != rest ] || [ "$d" = berthd ] || continue  # containerd 1.6 has no REST API
      [ "$c" != raw ] || [ "$d" = "${kinds[0]}" ] || continue  # once per runtime
      dir=$tmp/$d
      sock=$(sock_of "$dir" "$d")
      out=$tmp/$c.$d.$rt.lat
      err=$tmp/$c.$d.$rt.err
      : >"$out"
      : >"$out.td"
      : >"$err"
      wall_ns=0 td_wall_ns=0 load_running=0
      "batch_$c" "$d" "$sock" "$rt" "$out" "$err"
      if [ "$c" = load ] || [ "$c" = raw ]; then
        running=$load_running  # counted by berth bench before its teardown
      else
        running=$("$CTR" --address "$sock" --namespace bench task ls 2>/dev/null | awk 'NR > 1 && $3 == "RUNNING"' | wc -l)
      fi
      label=$d
      [ "$c" != raw ] || label=none
      record start "$c" "$label" "$rt" "$out" "$wall_ns" "$running"
      fails=$(grep -c FAIL "$out" || true)
      if [ "$fails" != 0 ] || [ "$running" != "$count" ]; then
        status=1
        echo "$prog: $c/$d/$rt: $fails starts failed, $running of $count running; first errors:" >&2
        head -n 5 "$err" | sed 's/^/  /' >&2
      fi
      "teardown_$c" "$d" "$sock" "$rt" "$out" "$err"
      record teardown "$c" "$label" "$rt" "$out.td" "$td_wall_ns" -
      td_fails=$(grep -c FAIL "$out.td" || true)
      if [ "$td_fails" != 0 ]; then
        status=1
        echo "$prog: $c/$d/$rt: $td_fails teardowns failed; first errors:" >&2
        tail -n 5 "$err" | sed 's/^/  /' >&2
      fi
      # What a failed start or teardown left (not timed).
      remove_all_tasks "$d" "$dir"
    done
  done
  [ "$rt" = crun ] && bench_hugetlb_undo
done

echo "load avg:    $(cut -d' ' -f1-3 /proc/loadavg) (at end)"
row_format='%-9s %-6s %-11s %-5s %6s %8s %9s %8s %8s %8s %12s %6s\n'
printf "$row_format" phase client daemon rt count "min ms" "median ms" "p95 ms" "p99 ms" "max ms" "containers/s" failed
for phase in start teardown; do
  for rt in "${rts[@]}"; do
    for c in "${clients[@]}"; do
      for d in none "${kinds[@]}"; do
        [ -n "${result[$phase/$c/$d/$rt]:-}" ] || continue
        read -r n mn md p95 p99 mx rate fails running <<<"${result[$phase/$c/$d/$rt]}"
        printf "$row_format" "$phase" "$c" "$d" "$rt" "$n" "$mn" "$md" "$p95" "$p99" "$mx" "$rate" "$fails"
      done
    done
  done
done
for phase in start teardown; do
  for rt in "${rts[@]}"; do
    for c in "${clients[@]}"; do
      [ -n "${result[$phase/$c/berthd/$rt]:-}" ] && [ -n "${result[$phase/$c/containerd/$rt]:-}" ] || continue
      read -r bn _ bmd _ _ _ brate _ _ <<<"${result[$phase/$c/berthd/$rt]}"
      read -r cn _ cmd _ _ _ crate _ _ <<<"${result[$phase/$c/containerd/$rt]}"
      if [ "$bn" = 0 ] || [ "$cn" = 0 ] || [ "$brate" = - ] || [ "$crate" = - ]; then
        echo "$phase $c/$rt: no ratios (a batch had no successful $phase)"
        continue
      fi
      awk -v bm="$bmd" -v cm="$cmd" -v br="$brate" -v cr="$crate" -v rt="$rt" -v c="$c" -v ph="$phase" 'BEGIN {
        printf "%s %s/%s: containers/s berthd/containerd %.2fx, median latency containerd/berthd %.2fx\n", ph, c, rt, br / cr, cm / bm }'
    done
  done
done
# The REST row has no containerd counterpart: it is compared with berthd's own gRPC load row.
for phase in start teardown; do
  for rt in "${rts[@]}"; do
    [ -n "${result[$phase/rest/berthd/$rt]:-}" ] && [ -n "${result[$phase/load/berthd/$rt]:-}" ] || continue
    read -r rn _ rmd _ _ _ rrate _ _ <<<"${result[$phase/rest/berthd/$rt]}"
    read -r ln _ lmd _ _ _ lrate _ _ <<<"${result[$phase/load/berthd/$rt]}"
    if [ "$rn" = 0 ] || [ "$ln" = 0 ] || [ "$rrate" = - ] || [ "$lrate" = - ]; then
      echo "$phase rest/$rt: no ratios (a batch had no successful $phase)"
      continue
    fi
    awk -v rm="$rmd" -v lm="$lmd" -v rr="$rrate" -v lr="$lrate" -v rt="$rt" -v ph="$phase" 'BEGIN {
      printf "%s rest/%s: berthd containers/s rest/load %.2fx, median latency load/rest %.2fx\n", ph, rt, rr / lr, lm / rm }'
  done
done
# Each daemon's load rate as a percentage of the floor (raw) of the same runtime and phase.
for phase in start teardown; do
  for rt in "${rts[@]}"; do
    [ -n "${result[$phase/raw/none/$rt]:-}" ] || continue
    read -r fn _ _ _ _ _ frate _ _ <<<"${result[$phase/raw/none/$rt]}"
    for d in "${kinds[@]}"; do
      [ -n "${result[$phase/load/$d/$rt]:-}" ] || continue
      read -r ln _ _ _ _ _ lrate _ _ <<<"${result[$phase/load/$d/$rt]}"
      if [ "$fn" = 0 ] || [ "$ln" = 0 ] || [ "$frate" = - ] || [ "$lrate" = - ]; then
        echo "$phase load/$d/$rt: no floor ratio (a batch had no successful $phase)"
        continue
      fi
      awk -v l="$lrate" -v f="$frate" -v rt="$rt" -v d="$d" -v ph="$phase" 'BEGIN {
        printf "%s load/%s/%s: %.0f%% of the raw floor (%.1f of %.1f containers/s)\n", ph, d, rt, 100 * l / f, l, f }'
    done
  done
done
exit "$status"
