#!/bin/sh
# with-ethtool.sh SCRIPT > RUN.sh: SCRIPT with this machine's ethtool (and its libmnl.so.0)
# unpacked into /tmp/ethtool/ of the kernel-oracle VM first, which has no ethtool of its own.
# The VM runs Debian bookworm: use it on a bookworm host (glibc 2.36). For scripts that turn
# veth offloads off (lvs-tun-mtu.sh):
#   sh test/golden/kernel/with-ethtool.sh test/golden/kernel/lvs-tun-mtu.sh > /tmp/run.sh
#   flock /tmp/kernel-oracle.lock ../shared/tools/kernel-oracle/run /tmp/run.sh OUTDIR
set -eu
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: with-ethtool.sh SCRIPT" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp "$(command -v ethtool)" "$tmp/ethtool"
cp "$(readlink -f /lib/x86_64-linux-gnu/libmnl.so.0)" "$tmp/libmnl.so.0"
echo '#!/bin/sh'
echo 'mkdir -p /tmp/ethtool; base64 -d > /tmp/ethtool.tgz <<"B64"'
tar czf - -C "$tmp" ethtool libmnl.so.0 | base64
echo 'B64'
echo 'tar xzf /tmp/ethtool.tgz -C /tmp/ethtool'
tail -n +2 "$1"
