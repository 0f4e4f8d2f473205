#!/bin/bash
# keepalived-export: configs written by `lvslab export` (lvs-nat, lvs-dr, lvs-tun and
# test/labs/export-features.yaml), loaded by the real keepalived — Debian 12's 2.2.7, the
# package's binary — into the real Linux 6.1 IPVS. What ipvsadm then shows is compared with
# what lvslab's ipvsadm shows after the same labs (test/keepalived-kernel.test.ts).
#
# The oracle VM has no keepalived: keepalived-export.record packs the host's binary, the
# libraries the VM image lacks and the exported configs, appends them below __PAYLOAD__ in a
# copy of this script and runs that copy in the VM.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. /oracle-lib.sh
SELF=${KA_SCRIPT:-/share/script.sh}
mkdir -p /tmp/ka && sed '1,/^__PAYLOAD__$/d' "$SELF" | base64 -d | tar -xz -C /tmp/ka || { echo "no payload"; exit 1; }
export LD_LIBRARY_PATH=/tmp/ka/lib
KA=/tmp/ka/keepalived
echo "### version"
$KA --version 2>&1 | head -1
seed_lab
modprobe ip_vs_pe_sip 2>/dev/null
web rs1; web rs2
# The exported configs say it: keepalived removes its VIPs at startup, so an address that is
# also a NIC's own would leave the NIC without one (VRRP: "entering FAULT state (no IPv4
# address for interface)") and the director without its route to the real servers. So each
# director NIC gets an address of its own here; VRRP adds 192.168.75.131 and 192.168.1.186.
ip -n vip addr del 192.168.75.131/24 dev eth1; ip -n vip addr add 192.168.75.132/24 dev eth1
ip -n vip addr del 192.168.1.186/24 dev eth0; ip -n vip addr add 192.168.1.187/24 dev eth0

start_ka() { # NS CONF
  on "$1" $KA -f "/tmp/ka/$2" -n -l -D -p "/tmp/ka-$1.pid" -r "/tmp/ka-vrrp-$1.pid" -c "/tmp/ka-chk-$1.pid" > "/tmp/ka-$1.log" 2>&1 &
  echo $! > "/tmp/ka-$1.main"
}
stop_ka() { kill "$(cat /tmp/ka-$1.main)" 2>/dev/null; sleep 2; }
wait_services() { # NS COUNT DESTS: until keepalived has made COUNT services with DESTS real servers (at most 30 s)
  for _ in $(seq 1 120); do
    t=$(on "$1" ipvsadm -S -n)
    [ "$(echo "$t" | grep -c '^-A')" -ge "$2" ] && [ "$(echo "$t" | grep -c '^-a')" -ge "$3" ] && return 0
    sleep 0.25
  done
  echo "keepalived in $1 made no $2 services with $3 real servers; its log:"; cat "/tmp/ka-$1.log"
}
wait_gone() { # NS PATTERN: until ipvsadm -L -n no longer shows PATTERN (at most 60 s)
  for _ in $(seq 1 120); do on "$1" ipvsadm -L -n | grep -q "$2" || return 0; sleep 0.5; done
  echo "still there after 60 s: $2"
}

# lvs-nat on the seed lab itself: the real servers run nginx, so HTTP_GET / passes.
start_ka vip lvs-nat.conf
wait_services vip 1 2
echo "### lvs-nat ipvsadm -S -n"
on vip ipvsadm -S -n
sleep 15
echo "### lvs-nat after 15 s of health checks: ipvsadm -L -n"
on vip ipvsadm -L -n
on rs1 sh -c 'kill $(cat /tmp/nginx-rs1.pid)'
wait_gone vip 192.168.1.185
echo "### lvs-nat after nginx on rs1 stopped: ipvsadm -L -n"
on vip ipvsadm -L -n
stop_ka vip

# The other configs on a director of their own with no real servers, right after keepalived
# loaded them: its health checks fail there, after ARP for the real servers (or the default
# gateway) went unanswered for a few seconds, and then keepalived takes them out.
one() { # NS CONF COUNT DESTS ADDRS...
  ns=$1; conf=$2; count=$3; dests=$4; shift 4
  ip netns add "$ns"; ip -n "$ns" link set lo up
  ip -n "$ns" link add eth0 type veth peer name peer0; ip -n "$ns" link add eth1 type veth peer name peer1
  for i in eth0 eth1 peer0 peer1; do ip -n "$ns" link set "$i" up; done
  for a in "$@"; do ip -n "$ns" addr add "${a%@*}" dev "${a#*@}"; done
  ip -n "$ns" route add default via 192.168.1.1
  start_ka "$ns" "$conf"
  wait_services "$ns" "$count" "$dests"
  echo "### ${conf%.conf} ipvsadm -S -n"
  on "$ns" ipvsadm -S -n
}
one dr lvs-dr.conf 1 2 192.168.1.187/24@eth0
stop_ka dr
one tun lvs-tun.conf 1 2 192.168.1.187/24@eth0
stop_ka tun
one fx export-features.conf 6 10 192.168.1.187/24@eth0 10.0.0.1/24@eth1
echo "### export-features ipvsadm -L -n --thresholds"
on fx ipvsadm -L -n --thresholds
echo "### export-features ipvsadm -L --timeout"
on fx ipvsadm -L --timeout
stop_ka fx
exit 0
