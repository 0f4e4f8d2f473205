#!/bin/sh
# Golden fixture "nat-one-armed": LVS-NAT with the client, the director and the real
# servers all on one LAN (one Linux bridge). Real Linux 6.1 via kernel-oracle.
#   client 192.168.1.150/24 (no default route)
#   dir    eth0 192.168.1.186/24, plus the VIP 192.168.1.100/24 as a second address on eth0
#   rs1    192.168.1.185/24, rs2 192.168.1.190/24, default via 192.168.1.186
# ipvsadm -A -t 192.168.1.100:80 -s rr, both real servers -m; ip_forward=1.
# Phase A: send_redirects left at its default; phase B: send_redirects=0 (all, default,
# eth0) as the seed's lvs_nat.sh does. Each phase: neighbour caches flushed, the IPVS
# service re-created (rr starts again), tcpdump -nn on client eth0 and dir eth0 with the
# filter 'icmp or port 80', curl -sS -m 5 twice (rr: rs2 first, the kernel keeps destinations newest first), ipvsadm -L -n -c,
# the director's nonzero IcmpOut counters (nstat -a: absolute, zeros hidden, so an empty
# section means it never sent any ICMP), the captures read back with tcpdump -nn.
# Pcaps: nat-one-armed.<A|B>.<host>-eth0.pcap
. /oracle-lib.sh
set -u
mkdir -p /share/out
modprobe ip_vs; modprobe ip_vs_rr
for n in sw client dir rs1 rs2; do ip netns add $n; ip -n $n link set lo up; done
ip -n sw link add lan type bridge; ip -n sw link set lan up
for h in client dir rs1 rs2; do _port $h eth0 lan; done
ip -n client addr add 192.168.1.150/24 dev eth0
ip -n dir addr add 192.168.1.186/24 dev eth0
ip -n rs1 addr add 192.168.1.185/24 dev eth0; ip -n rs2 addr add 192.168.1.190/24 dev eth0
ip -n rs1 route add default via 192.168.1.186; ip -n rs2 route add default via 192.168.1.186
mkdir -p /tmp/rs1 /tmp/rs2
echo "1111111111111master" > /tmp/rs1/index.html; echo "2222222222222slave" > /tmp/rs2/index.html
web rs1; web rs2
echo "### ip addr add 192.168.1.100/24 dev eth0 (on dir)"
on dir ip addr add 192.168.1.100/24 dev eth0 2>&1; echo "exit=$?"
echo "### ip -4 addr show dev eth0 (on dir)"
on dir ip -4 addr show dev eth0
echo "### ip route (on dir)"
on dir ip route
echo "### ip route (on rs1)"
on rs1 ip route
on dir sysctl -q -w net.ipv4.ip_forward=1
echo "### send_redirects default (all default eth0)"
on dir cat /proc/sys/net/ipv4/conf/all/send_redirects /proc/sys/net/ipv4/conf/default/send_redirects /proc/sys/net/ipv4/conf/eth0/send_redirects
F='icmp or port 80'
phase() { # phase NAME DESCRIPTION
  V=$1
  echo "### phase $V: $2"
  echo "### $V: send_redirects (all default eth0)"
  on dir cat /proc/sys/net/ipv4/conf/all/send_redirects /proc/sys/net/ipv4/conf/default/send_redirects /proc/sys/net/ipv4/conf/eth0/send_redirects
  on dir ipvsadm -C
  on dir ipvsadm -A -t 192.168.1.100:80 -s rr
  on dir ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.185:80 -m
  on dir ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.190:80 -m
  for h in client dir rs1 rs2; do on $h ip neigh flush all; done
  NSTAT_HISTORY=/tmp/nstat.$V on dir nstat -n
  capture client eth0 /share/out/nat-one-armed.$V.client-eth0.pcap $F
  capture dir eth0 /share/out/nat-one-armed.$V.dir-eth0.pcap $F
  for i in 1 2; do
    echo "### $V: curl -sS -m 5 192.168.1.100 #$i"
    on client curl -sS -m 5 192.168.1.100 2>&1; echo "exit=$?"
  done
  echo "### $V: ipvsadm -L -n"
  on dir ipvsadm -L -n
  echo "### $V: ipvsadm -L -n -c"
  on dir ipvsadm -L -n -c
  stop_captures
  echo "### $V: dir nstat Icmp (since phase start)"
  NSTAT_HISTORY=/tmp/nstat.$V on dir nstat -a 2>&1 | grep -E 'IcmpOut|IcmpMsgOut' 
  for p in client-eth0 dir-eth0; do
    echo "### $V: tcpdump -nn -r $p"
    tcpdump -nn -r /share/out/nat-one-armed.$V.$p.pcap 2>&1
  done
  echo "### $V: ip route get 192.168.1.150 (on rs1)"
  on rs1 ip route get 192.168.1.150
}
phase A "send_redirects at the default"
on dir sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
phase B "send_redirects=0 (all, default, eth0)"
echo "### end"
