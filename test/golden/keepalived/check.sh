#!/bin/bash
# The golden keepalived.conf files here were written by lvslab and checked by the real
# keepalived's configuration test. Regenerate them, then check them, from the repository root:
#
#   for l in lvs-nat lvs-dr lvs-tun lvs-nat-one-armed lvs-fullnat; do
#     node dist/src/cli/main.js export $l > test/golden/keepalived/$l.conf
#   done
#   sudo test/golden/keepalived/check.sh > test/golden/keepalived/check.out
#
# check.out records what this printed: Debian 12's keepalived 1:2.2.7-1+b2
# ("Keepalived v2.2.7 (01/16,2022)") accepted each file, exit 0 and no message.
# keepalived -t checks that the interfaces a vrrp_instance names exist, so each file is
# tested in a network namespace of its own holding them (veth pairs), and its -t exits 5
# for a warning as well as for an error. (-t does not say "missing file": it exits 0, so
# the loop only passes existing files.)
set -u
cd "$(dirname "$0")"
echo "$(keepalived --version 2>&1 | head -1); dpkg: $(dpkg-query -W -f='${Version}' keepalived 2>/dev/null)"
for f in *.conf; do
  ns="lvsk-golden-$$"
  ip netns add "$ns"
  i=0
  for dev in $(sed 's/#.*//' "$f" | grep -oE '(interface|dev) +[^ ]+' | awk '{print $2}' | sort -u); do
    ip -n "$ns" link add "$dev" type veth peer name "lvskp$i"; i=$((i + 1))
  done
  out=$(ip netns exec "$ns" keepalived -t -f "$PWD/$f" 2>&1); rc=$?
  ip netns del "$ns"
  echo "$f: keepalived -t exit $rc${out:+: $out}"
done
