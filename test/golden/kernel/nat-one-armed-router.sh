#!/bin/sh
# Golden fixture "nat-one-armed-router": one-armed LVS-NAT where the client is NOT on the
# LAN but behind the LAN's router, so the real servers' replies come back to the director
# and leave by the interface they came in on. Real Linux 6.1 via kernel-oracle.
#   lan bridge: dir eth0 192.168.1.186/24 + VIP 192.168.1.100/24 (second address), default
#               via 192.168.1.1; rs1 192.168.1.185, rs2 192.168.1.190, default via .186;
#               gw eth0 192.168.1.1
#   wan bridge: gw eth1 10.0.0.1/24 (ip_forward=1); client 10.0.0.150/24, default via 10.0.0.1
# ipvsadm -A -t 192.168.1.100:80 -s rr, both real servers -m; dir ip_forward=1.
# Phase A: send_redirects at the default; phase B: send_redirects=0 (all, default, eth0).
# Each phase: neighbour caches and the real servers' route caches flushed, the service
# re-created, tcpdump -nn 'icmp or port 80' on client eth0, dir eth0 and rs2 eth0, two
# curl -sS -m 5 (rr: rs2 first), ipvsadm -L -n -c, dir's nonzero IcmpOut counters (nstat -a:
# absolute), rs2's route to the client, the captures read back.
# Pcaps: nat-one-armed-router.<A|B>.<host>-eth0.pcap
. /oracle-lib.sh
set -u
mkdir -p /share/out
modprobe ip_vs; modprobe ip_vs_rr
for n in sw client dir rs1 rs2 gw; do ip netns add $n; ip -n $n link set lo up; done
for b in lan wan; do ip -n sw link add $b type bridge; ip -n sw link set $b up; done
for h in dir rs1 rs2 gw; do _port $h eth0 lan; done
_port gw eth1 wan; _port client eth0 wan
ip -n client addr add 10.0.0.150/24 dev eth0; ip -n client route add default via 10.0.0.1
ip -n gw addr add 192.168.1.1/24 dev eth0; ip -n gw addr add 10.0.0.1/24 dev eth1
on gw sysctl -q -w net.ipv4.ip_forward=1
ip -n dir addr add 192.168.1.186/24 dev eth0; ip -n dir addr add 192.168.1.100/24 dev eth0
ip -n dir route add default via 192.168.1.1
on dir sysctl -q -w net.ipv4.ip_forward=1
ip -n rs1 addr add 192.168.1.185/24 dev eth0; ip -n rs2 addr add 192.168.1.190/24 dev eth0
ip -n rs1 route add default via 192.168.1.186; ip -n rs2 route add default via 192.168.1.186
mkdir -p /tmp/rs1 /tmp/rs2
echo "1111111111111master" > /tmp/rs1/index.html; echo "2222222222222slave" > /tmp/rs2/index.html
web rs1; web rs2
echo "### ip route (on dir)"
on dir ip route
echo "### rs accept_redirects secure_redirects shared_media (all eth0)"
on rs2 cat /proc/sys/net/ipv4/conf/all/accept_redirects /proc/sys/net/ipv4/conf/eth0/accept_redirects /proc/sys/net/ipv4/conf/all/secure_redirects /proc/sys/net/ipv4/conf/eth0/secure_redirects /proc/sys/net/ipv4/conf/all/shared_media /proc/sys/net/ipv4/conf/eth0/shared_media
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
  for h in client dir rs1 rs2 gw; do on $h ip neigh flush all; done
  for h in rs1 rs2; do on $h ip route flush cache; done
  capture client eth0 /share/out/nat-one-armed-router.$V.client-eth0.pcap $F
  capture dir eth0 /share/out/nat-one-armed-router.$V.dir-eth0.pcap $F
  capture rs2 eth0 /share/out/nat-one-armed-router.$V.rs2-eth0.pcap $F
  for i in 1 2; do
    echo "### $V: curl -sS -m 5 192.168.1.100 #$i"
    on client curl -sS -m 5 192.168.1.100 2>&1; echo "exit=$?"
  done
  echo "### $V: ipvsadm -L -n"
  on dir ipvsadm -L -n
  echo "### $V: ipvsadm -L -n -c"
  on dir ipvsadm -L -n -c
  echo "### $V: ip route get 10.0.0.150 (on rs2)"
  on rs2 ip route get 10.0.0.150
  stop_captures
  echo "### $V: dir nstat -a IcmpOut"
  NSTAT_HISTORY=/tmp/nstat.$V on dir nstat -a 2>&1 | grep -E 'IcmpOut|IcmpMsgOut'
  for p in client-eth0 dir-eth0 rs2-eth0; do
    echo "### $V: tcpdump -nn -r $p"
    tcpdump -nn -r /share/out/nat-one-armed-router.$V.$p.pcap 2>&1
  done
}
phase A "send_redirects at the default"
on dir sysctl -q -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
phase B "send_redirects=0 (all, default, eth0)"
echo "### end"
