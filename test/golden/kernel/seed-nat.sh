#!/bin/sh
# Golden fixture "seed-nat": the seed document's LVS-NAT lab (000_c03a33b35e79ed8f) on the
# real Linux 6.1 kernel (Debian bookworm) via kernel-oracle.
# Records: tool versions; the seed's lvs_nat.sh run verbatim on the director "vip";
# ipvsadm -L -n before/after; six client curls (wrr weights 1/2 => rs sequence);
# tcpdump traces on vip eth1 (outside), vip eth0 (inside), rs1 eth0 with the seed's filter
# (plain, -e, -v, and -X of the data segments = exact request/response bytes); every
# ipvsadm listing variant; /proc/net/ip_vs*; nginx access logs; curl -v / -sI / -s -D -.
# Pcaps: seed-nat.vip-eth1.pcap, seed-nat.vip-eth0.pcap, seed-nat.rs1-eth0.pcap
. /oracle-lib.sh
set -u
mkdir -p /share/out
echo "### versions"
uname -r; ipvsadm -v; curl --version | head -1; nginx -v 2>&1; tcpdump --version 2>&1 | head -2
seed_lab; web rs1; web rs2
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
echo "### sh lvs_nat.sh (on vip)"
on vip sh /tmp/lvs_nat.sh 2>&1; echo "exit=$?"
echo "### ipvsadm -L -n (before)"
on vip ipvsadm -L -n
F='host 192.168.75.150 and ! port 22'
capture vip eth1 /share/out/seed-nat.vip-eth1.pcap $F
capture vip eth0 /share/out/seed-nat.vip-eth0.pcap $F
capture rs1 eth0 /share/out/seed-nat.rs1-eth0.pcap $F
for i in 1 2 3 4 5 6; do
  echo "### curl -s 192.168.75.131 #$i"
  on client curl -s 192.168.75.131; echo "exit=$?"
  sleep 1
done
stop_captures
for p in vip-eth1 vip-eth0 rs1-eth0; do
  echo "### tcpdump -nn -r $p"
  tcpdump -nn -r /share/out/seed-nat.$p.pcap 2>&1
done
echo "### tcpdump -nn -e -r vip-eth1"
tcpdump -nn -e -r /share/out/seed-nat.vip-eth1.pcap 2>&1
echo "### tcpdump -nn -v -r vip-eth1"
tcpdump -nn -v -r /share/out/seed-nat.vip-eth1.pcap 2>&1
echo "### tcpdump -nn -X -r vip-eth1 (data segments)"
tcpdump -nn -X -r /share/out/seed-nat.vip-eth1.pcap 'tcp[tcpflags] & tcp-push != 0' 2>&1
echo "### tcpdump -nn -X -r vip-eth0 (data segments, first connection)"
tcpdump -nn -X -c 2 -r /share/out/seed-nat.vip-eth0.pcap 'tcp[tcpflags] & tcp-push != 0' 2>&1
echo "### ipvsadm -L -n (after)"
on vip ipvsadm -L -n
echo "### ipvsadm -L -n -c"
on vip ipvsadm -L -n -c
echo "### ipvsadm -L -n --stats"
on vip ipvsadm -L -n --stats
echo "### ipvsadm -L -n --rate"
on vip ipvsadm -L -n --rate
echo "### ipvsadm -L --timeout"
on vip ipvsadm -L --timeout
echo "### cat /proc/net/ip_vs"
on vip cat /proc/net/ip_vs
echo "### cat /proc/net/ip_vs_conn"
on vip cat /proc/net/ip_vs_conn
echo "### cat /proc/net/ip_vs_stats"
on vip cat /proc/net/ip_vs_stats
echo "### nginx access rs1"
cat /tmp/nginx-rs1.access
echo "### nginx access rs2"
cat /tmp/nginx-rs2.access
echo "### curl -v 192.168.75.131 2>&1"
on client curl -v 192.168.75.131 2>&1; echo "exit=$?"
echo "### curl -sI 192.168.75.131"
on client curl -sI 192.168.75.131; echo "exit=$?"
echo "### curl -s -D - 192.168.75.131 | od -c"
on client curl -s -D - 192.168.75.131 | od -c
echo "### curl -s -D - 192.168.75.131"
on client curl -s -D - 192.168.75.131
echo "### ipvsadm -L -n (end)"
on vip ipvsadm -L -n
echo "### ipvsadm -L -n -c (end)"
on vip ipvsadm -L -n -c
echo "### ip -n vip neigh / rs1 route"
on vip ip neigh; on rs1 ip route; on vip ip route
echo "### end"
