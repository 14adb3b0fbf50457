# The first lines of every bench/ script, after `set -euo pipefail` (which also ends the script's
# usage text), `prog=NAME` and `here=` (the bench/ dir): a fixed locale, loopback traffic never
# through a proxy, the repository root, and die/usage/isint.
export LC_ALL=C
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy

repo=$(cd -- "$here/.." && pwd -P)
die() { echo "$prog: $*" >&2; exit 1; }
# Prints the script's header comment (line 2 up to `set -euo`) as its usage.
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
isint() { [[ "$1" =~ ^[0-9]+$ ]]; }
