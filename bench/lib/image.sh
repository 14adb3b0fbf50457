# Shared by the bench/ scripts that run containers: a small busybox image (scripts/mkimage) in a
# loopback registry, pulled into a daemon; removing every task; crun's hugetlb hierarchy; stats. Needs the variables of daemons.sh; sets `ref` (the image reference).
# Call bench_image_setup once, then bench_image_pull KIND DIR for each daemon.

bench_image_setup() {
  bash "$repo/scripts/mkimage" --out "$tmp/image" --tag bench --layers 1 >"$tmp/image.digest" ||
    die "scripts/mkimage failed"
  registry_started=1
  bench_registry_addr=$(bash "$repo/scripts/test-registry" start "$tmp/registry" --owner-pid $$) ||
    die "could not start the registry"
  ref=$(bash "$repo/scripts/test-registry" push "$tmp/registry" "$tmp/image" bench bench/busybox:latest 2>"$tmp/push.log") ||
    { cat "$tmp/push.log" >&2; die "could not push the image"; }
}

bench_image_pull() {  # kind dir
  timeout -k 5 300 "$CTR" --address "$(sock_of "$2" "$1")" --namespace bench images pull --plain-http "$ref" \
    </dev/null >"$2/pull.log" 2>&1 || { cat "$2/pull.log" >&2; die "$1: pull of $ref failed"; }
}

# Kills and removes every task and container of a daemon in namespace bench, $parallel at a time
# (default 10). Not timed.
remove_all_tasks() {  # kind dir
  local sock
  sock=$(sock_of "$2" "$1")
  "$CTR" --address "$sock" --namespace bench task ls -q 2>/dev/null |
    xargs -r -P "${parallel:-10}" -I{} timeout -k 5 60 "$CTR" --address "$sock" --namespace bench task rm -f {} >/dev/null 2>&1 || true
  "$CTR" --address "$sock" --namespace bench container ls -q 2>/dev/null |
    xargs -r -P "${parallel:-10}" -I{} timeout -k 5 60 "$CTR" --address "$sock" --namespace bench container rm {} >/dev/null 2>&1 || true
}

# crun refuses a hybrid cgroup host until a v1 hugetlb hierarchy exists (machine-notes.md);
# mounted here when missing and unmounted again on exit.
bench_hugetlb_mounted=0
bench_need_hugetlb() {
  [ -e /sys/fs/cgroup/hugetlb/cgroup.procs ] && return 0
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || die "cannot mount a v1 hugetlb hierarchy for crun"
  bench_hugetlb_mounted=1
}
bench_hugetlb_undo() {
  if [ "$bench_hugetlb_mounted" = 1 ]; then
    umount /sys/fs/cgroup/hugetlb 2>/dev/null && rmdir /sys/fs/cgroup/hugetlb 2>/dev/null
    bench_hugetlb_mounted=0
  fi
  return 0
}

# Statistics of the numbers (nanoseconds) in a file, one per line: "count min median p95 p99 max" in ms.
bench_stats_ms() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "0 - - - - -"; exit }
    printf "%d %.1f %.1f %.1f %.1f %.1f\n", NR, v[1] / 1e6, v[int((NR + 1) / 2)] / 1e6,
      v[int(NR * 0.95 + 0.999)] / 1e6, v[int(NR * 0.99 + 0.999)] / 1e6, v[NR] / 1e6 }'
}
