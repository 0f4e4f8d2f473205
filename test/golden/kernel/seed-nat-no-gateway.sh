#!/bin/sh
# Golden fixture "seed-nat-no-gateway": the seed LVS-NAT lab when the real servers do NOT
# route replies back through the director. Real Linux 6.1 via kernel-oracle.
# An extra router namespace "gw" (lan 192.168.1.1, wan 192.168.75.2 = the seed's VMware
# NAT gateway) exists, ip_forward=1; the client's default route is via 192.168.75.2.
# Variants (the director config is the seed's lvs_nat.sh, re-run before each variant, so
# wrr sends the first connection to rs2 192.168.1.190):
#   A  rs1/rs2 have no default route at all (NO_GATEWAY=1 seed_lab)
#   B  rs default gateway = the LAN's own router 192.168.1.1 (routes straight to the wan)
#   C  rs default gateway = 192.168.1.254, an address nobody owns (ARP fails)
# For each: curl -sS -m 5 from the client with exit code, tcpdump of client eth0, vip eth0,
# rs1 eth0, rs2 eth0 (filter: client traffic, arp, icmp), ipvsadm -L -n and -L -n -c,
# rs2's TCP/IP counters. Pcaps: seed-nat-no-gateway.<A|B|C>.<host>-<if>.pcap
. /oracle-lib.sh
set -u
mkdir -p /share/out
NO_GATEWAY=1 seed_lab; web rs1; web rs2
ip netns add gw; ip -n gw link set lo up
_port gw eth0 lan; _port gw eth1 wan
ip -n gw addr add 192.168.1.1/24 dev eth0; ip -n gw addr add 192.168.75.2/24 dev eth1
on gw sysctl -q -w net.ipv4.ip_forward=1
ip -n client route add default via 192.168.75.2
cat > /tmp/lvs_nat.sh <<'LVS'
#! /bin/bash
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects
echo 0 > /proc/sys/net/ipv4/conf/default/send_redirects
echo 0 > /proc/sys/net/ipv4/conf/eth0/send_redirects
echo 0 > /proc/sys/net/ipv4/conf/eth1/send_redirects
iptables -F
iptables -t nat -F
iptables -t nat -X
ipvsadm -C
ipvsadm -A -t 192.168.75.131:80 -s wrr
ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.185:80 -m -w 1
ipvsadm -a -t 192.168.75.131:80 -r 192.168.1.190:80 -m -w 2
LVS
F='(host 192.168.75.150 and ! port 22) or arp or icmp'
variant() { # variant NAME DESCRIPTION
  V=$1
  echo "### variant $V: $2"
  echo "### $V: rs routes"
  on rs1 ip route; on rs2 ip route
  on vip sh /tmp/lvs_nat.sh 2>&1
  for h in rs1 rs2 client vip; do on $h ip neigh flush all; done
  for h in rs2 client; do NSTAT_HISTORY=/tmp/nstat.$V.$h on $h nstat -n; done
  capture client eth0 /share/out/seed-nat-no-gateway.$V.client-eth0.pcap $F
  capture vip eth0 /share/out/seed-nat-no-gateway.$V.vip-eth0.pcap $F
  capture rs1 eth0 /share/out/seed-nat-no-gateway.$V.rs1-eth0.pcap $F
  capture rs2 eth0 /share/out/seed-nat-no-gateway.$V.rs2-eth0.pcap $F
  echo "### $V: curl -sS -m 5 192.168.75.131"
  on client curl -sS -m 5 192.168.75.131 2>&1; echo "exit=$?"
  echo "### $V: ipvsadm -L -n"
  on vip ipvsadm -L -n
  echo "### $V: ipvsadm -L -n -c"
  on vip ipvsadm -L -n -c
  stop_captures
  for p in client-eth0 vip-eth0 rs1-eth0 rs2-eth0; do
    echo "### $V: tcpdump -nn -r $p"
    tcpdump -nn -r /share/out/seed-nat-no-gateway.$V.$p.pcap 2>&1
  done
  echo "### $V: rs2 nstat (nonzero, since curl)"
  NSTAT_HISTORY=/tmp/nstat.$V.rs2 on rs2 nstat 2>&1 | grep -E 'NoRoute|ListenDrop|ListenOverflow|AttemptFails|OutRsts|InErrs|PassiveOpens|RetransSegs|SynRetrans|InSegs|OutSegs|EstabResets' 
  echo "### $V: client nstat (nonzero, since curl)"
  NSTAT_HISTORY=/tmp/nstat.$V.client on client nstat 2>&1 | grep -E 'NoRoute|OutRsts|AttemptFails|RetransSegs|InSegs|OutSegs|SynRetrans'
}
variant A "rs without default route (NO_GATEWAY=1)"
on rs1 ip route add default via 192.168.1.1; on rs2 ip route add default via 192.168.1.1
variant B "rs default gateway = LAN router 192.168.1.1 (not the director)"
on rs1 ip route replace default via 192.168.1.254; on rs2 ip route replace default via 192.168.1.254
variant C "rs default gateway = 192.168.1.254 (no such host)"
echo "### ipvsadm -L -n -c (all variants, end)"
on vip ipvsadm -L -n -c
echo "### end"
