#!/usr/bin/env bash
# Pull benchmark: `berth pull` (berth's own registry client, parallel downloads, into berthd)
# against `ctr images pull` into containerd 1.6, of the same ~200 MB multi-layer image from the
# same loopback registry, in one run; `ctr images pull` into berthd as a third row, so the
# client's share and the daemon's share of the difference can be told apart. Each pull fetches
# and unpacks; the rootfs is verified byte for byte after the first run of each.
#
# Usage:
#   bench/pull.sh [BUILD_DIR] [options]      (make bench-pull builds and passes build/release)
#
# The options are bench/unpack.sh's (--runs, --big-mb, --big-layers, --layers, --compression,
# --snapshotter, --between, --pull-timeout, --tmp, --keep), and --daemons, here by default
# berth,containerd,berthd. Prints per row the median wall time and MB/s and the ratios
# containerd_time / berth_time ("speedup") and containerd_time / berthd_time.
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2 ;; esac
# A later --daemons on the command line wins over this default.
exec bash "$here/unpack.sh" --daemons berth,containerd,berthd "$@"
