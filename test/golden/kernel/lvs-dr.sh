#!/bin/sh
# Golden fixture "lvs-dr": LVS direct routing (ipvsadm -g) on the real Linux 6.1 kernel via
# kernel-oracle, and how it breaks when the real servers answer ARP for the VIP.
# One LAN bridge:
#   client 192.168.1.150/24                                  MAC 00:0c:29:00:01:50
#   dir    eth0 192.168.1.186/24 + VIP 192.168.1.100/32       MAC 00:0c:29:00:01:86
#   rs1    eth0 192.168.1.185/24, VIP 192.168.1.100/32 on lo  MAC 00:0c:29:00:01:85
#   rs2    eth0 192.168.1.190/24, VIP 192.168.1.100/32 on lo  MAC 00:0c:29:00:01:90
# Director: ipvsadm -A -t 192.168.1.100:80 -s rr; -a -r RS -g for rs1 then rs2.
# Variants (neighbour caches of every host flushed and the service re-created before each):
#   (no prefix)       rs: arp_ignore=1, arp_announce=2 on all and lo (the how-tos' realserver script)
#   broken:           rs: arp_ignore=0, arp_announce=0 (the defaults): everyone answers the
#                     client's ARP for the VIP
#   broken-announce:  rs: arp_ignore=1 but arp_announce=0: the real server's ARP request for
#                     the client carries the VIP as sender address
# For each: 4 curls (1 s apart) with the client's neighbour table after each, captures on
# client/dir/rs1/rs2 eth0 (filter: arp or IPv4 to/from the client) printed -nn -e and -nn,
# ipvsadm -L -n, -L -n -c, --stats.
# Pcaps: lvs-dr.<variant>.<host>-eth0.pcap, variant ok, broken or announce (run with an OUTDIR,
# then moved beside this script).
# Caveats of this recording (oracle-lib's capture/stop_captures): stop_captures kills the
# background shell, not tcpdump, so a variant's pcaps keep collecting the later variants'
# frames (the printed -r sections were taken in time), and a tcpdump may start late under
# emulation (it missed the first frames of some captures).
. /oracle-lib.sh
set -u
mkdir -p /share/out
modprobe ip_vs; modprobe ip_vs_rr
for n in sw client dir rs1 rs2; do ip netns add $n; ip -n $n link set lo up; done
ip -n sw link add lan type bridge; ip -n sw link set lan up
_port client eth0 lan; _port dir eth0 lan; _port rs1 eth0 lan; _port rs2 eth0 lan
ip -n client link set eth0 address 00:0c:29:00:01:50
ip -n dir link set eth0 address 00:0c:29:00:01:86
ip -n rs1 link set eth0 address 00:0c:29:00:01:85
ip -n rs2 link set eth0 address 00:0c:29:00:01:90
ip -n client addr add 192.168.1.150/24 dev eth0
ip -n dir addr add 192.168.1.186/24 dev eth0
ip -n dir addr add 192.168.1.100/32 dev eth0
ip -n rs1 addr add 192.168.1.185/24 dev eth0
ip -n rs2 addr add 192.168.1.190/24 dev eth0
for h in rs1 rs2; do ip -n $h addr add 192.168.1.100/32 dev lo; done
mkdir -p /tmp/rs1 /tmp/rs2
echo "1111111111111master" > /tmp/rs1/index.html; echo "2222222222222slave" > /tmp/rs2/index.html
web rs1; web rs2
echo "### sysctl defaults (rs1)"
on rs1 sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter net.ipv4.conf.eth0.rp_filter net.ipv4.conf.lo.rp_filter net.ipv4.ip_forward
echo "### ip addr (dir)"
on dir ip -4 addr show dev eth0
echo "### ip addr (rs1)"
on rs1 ip -4 addr show
echo "### ip route (rs1)"
on rs1 ip route
echo "### ip route show table local (rs1)"
on rs1 ip route show table local

rs_arp() { # rs_arp IGNORE ANNOUNCE
  for h in rs1 rs2; do
    for c in lo all eth0; do
      on $h sysctl -q -w net.ipv4.conf.$c.arp_ignore=$1 net.ipv4.conf.$c.arp_announce=$2
    done
  done
}
F='arp or (ip and host 192.168.1.150)'
variant() { # variant PREFIX TAG
  P=$1; V=$2
  on dir ipvsadm -C
  on dir ipvsadm -A -t 192.168.1.100:80 -s rr
  on dir ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.185:80 -g
  on dir ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.190:80 -g
  for h in client dir rs1 rs2; do on $h ip neigh flush all; done
  echo "### ${P}rs1 arp sysctls"
  on rs1 sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.lo.arp_ignore net.ipv4.conf.lo.arp_announce
  echo "### ${P}ipvsadm -L -n (before)"
  on dir ipvsadm -L -n
  for h in client dir rs1 rs2; do capture $h eth0 /share/out/lvs-dr.$V.$h-eth0.pcap $F; done
  for i in 1 2 3 4; do
    echo "### ${P}curl -sS -m 3 192.168.1.100 #$i"
    on client curl -sS -m 3 192.168.1.100 2>&1; echo "exit=$?"
    echo "### ${P}ip neigh (client) #$i"
    on client ip neigh show dev eth0
    sleep 1
  done
  stop_captures
  echo "### ${P}ipvsadm -L -n"
  on dir ipvsadm -L -n
  echo "### ${P}ipvsadm -L -n -c"
  on dir ipvsadm -L -n -c
  echo "### ${P}ipvsadm -L -n --stats"
  on dir ipvsadm -L -n --stats
  echo "### ${P}ip neigh (dir)"
  on dir ip neigh show dev eth0
  echo "### ${P}ip neigh (rs1)"
  on rs1 ip neigh show dev eth0
  for h in client dir rs1 rs2; do
    echo "### ${P}tcpdump -nn -e -r $h-eth0"
    tcpdump -nn -e -r /share/out/lvs-dr.$V.$h-eth0.pcap 2>&1
  done
  for h in client dir rs1 rs2; do
    echo "### ${P}tcpdump -nn -r $h-eth0"
    tcpdump -nn -r /share/out/lvs-dr.$V.$h-eth0.pcap 2>&1
  done
  echo "### ${P}nginx access rs1"
  cat /tmp/nginx-rs1.access; : > /tmp/nginx-rs1.access
  echo "### ${P}nginx access rs2"
  cat /tmp/nginx-rs2.access; : > /tmp/nginx-rs2.access
}
rs_arp 1 2
variant "" ok
rs_arp 0 0
variant "broken: " broken
rs_arp 1 0
variant "broken-announce: " announce
echo "### end"
