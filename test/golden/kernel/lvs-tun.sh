#!/bin/sh
# Golden fixture "lvs-tun": LVS IP tunnelling (ipvsadm -i, IPIP) on the real Linux 6.1 kernel
# via kernel-oracle, and how it breaks when the real servers filter by reverse path.
# The same LAN as lvs-dr.sh:
#   client 192.168.1.150/24                                    MAC 00:0c:29:00:01:50
#   dir    eth0 192.168.1.186/24 + VIP 192.168.1.100/32         MAC 00:0c:29:00:01:86
#   rs1    eth0 192.168.1.185/24, VIP 192.168.1.100/32 on tunl0 MAC 00:0c:29:00:01:85
#   rs2    eth0 192.168.1.190/24, VIP 192.168.1.100/32 on tunl0 MAC 00:0c:29:00:01:90
# Real servers: modprobe ipip; ip link set tunl0 up; arp_ignore=1, arp_announce=2 (all, lo,
# tunl0); rp_filter=0 on all and tunl0. Director: ipvsadm -A -t VIP:80 -s rr; -a -r RS -i.
# Variants (neighbour caches flushed, service re-created before each):
#   (no prefix)  rp_filter 0 (all, tunl0)
#   broken:      rp_filter 1 on all and tunl0 on the real servers: the decapsulated packet
#                arrives on tunl0 but the route back to the client leaves by eth0
# For each: 3 curls, captures on client/dir/rs1/rs2 eth0 (-nn -e and -nn, -v for dir) and
# rs2 tunl0, ipvsadm -L -n, -L -n -c, --stats, rs2 counters.
# Pcaps: lvs-tun.<variant>.<host>-<if>.pcap, variant ok or broken (run with an OUTDIR, then
# moved beside this script).
# Caveats of this recording (oracle-lib's capture/stop_captures): stop_captures kills the
# background shell, not tcpdump, so a variant's pcaps keep collecting the later variants'
# frames (the printed -r sections were taken in time), and a tcpdump may start late under
# emulation (it missed the first frames of some captures).
# In this run the printed output lost lines in the capture sections; the tests read
# lvs-tun.<variant>.<host>-eth0.txt instead: tcpdump 4.99.3 -nn -e -r of the pcaps.
. /oracle-lib.sh
set -u
mkdir -p /share/out
modprobe ip_vs; modprobe ip_vs_rr; modprobe ipip
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
for h in rs1 rs2; do
  on $h ip link set tunl0 up
  ip -n $h addr add 192.168.1.100/32 dev tunl0
  for c in lo all tunl0; do on $h sysctl -q -w net.ipv4.conf.$c.arp_ignore=1 net.ipv4.conf.$c.arp_announce=2; done
done
mkdir -p /tmp/rs1 /tmp/rs2
echo "1111111111111master" > /tmp/rs1/index.html; echo "2222222222222slave" > /tmp/rs2/index.html
web rs1; web rs2
echo "### ip addr (rs1)"
on rs1 ip addr show
echo "### ip -d link show tunl0 (rs1)"
on rs1 ip -d link show tunl0
echo "### ip route (rs1)"
on rs1 ip route
echo "### rs1 sysctls"
on rs1 sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.tunl0.rp_filter net.ipv4.conf.eth0.rp_filter net.ipv4.conf.default.rp_filter
rs_rpf() { for h in rs1 rs2; do on $h sysctl -q -w net.ipv4.conf.all.rp_filter=$1 net.ipv4.conf.tunl0.rp_filter=$1; done; }
F='arp or ip proto 4 or (ip and host 192.168.1.150)'
variant() { # variant PREFIX TAG
  P=$1; V=$2
  on dir ipvsadm -C
  on dir ipvsadm -A -t 192.168.1.100:80 -s rr
  on dir ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.185:80 -i
  on dir ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.190:80 -i
  for h in client dir rs1 rs2; do on $h ip neigh flush all; done
  for h in rs1 rs2; do NSTAT_HISTORY=/tmp/nstat.$V.$h on $h nstat -n; done
  echo "### ${P}rs1 rp_filter"
  on rs1 sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.tunl0.rp_filter
  echo "### ${P}ipvsadm -L -n (before)"
  on dir ipvsadm -L -n
  for h in client dir rs1 rs2; do capture $h eth0 /share/out/lvs-tun.$V.$h-eth0.pcap $F; done
  capture rs2 tunl0 /share/out/lvs-tun.$V.rs2-tunl0.pcap
  for i in 1 2 3; do
    echo "### ${P}curl -sS -m 3 192.168.1.100 #$i"
    on client curl -sS -m 3 192.168.1.100 2>&1; echo "exit=$?"
    sleep 1
  done
  stop_captures
  echo "### ${P}ipvsadm -L -n"
  on dir ipvsadm -L -n
  echo "### ${P}ipvsadm -L -n -c"
  on dir ipvsadm -L -n -c
  echo "### ${P}ipvsadm -L -n --stats"
  on dir ipvsadm -L -n --stats
  for h in rs1 rs2; do
    echo "### ${P}$h nstat (nonzero, since the variant began)"
    NSTAT_HISTORY=/tmp/nstat.$V.$h on $h nstat 2>&1 | grep -E 'IpInReceives|IpInDelivers|IpInAddrErrors|IpInDiscards|IPReversePathFilter|TcpInSegs|TcpOutSegs|TcpPassiveOpens'
    echo "### ${P}$h ip -s link show tunl0"
    on $h ip -s link show tunl0
  done
  for h in client dir rs1 rs2; do
    echo "### ${P}tcpdump -nn -e -r $h-eth0"
    tcpdump -nn -e -r /share/out/lvs-tun.$V.$h-eth0.pcap 2>&1
  done
  for h in client dir rs1 rs2; do
    echo "### ${P}tcpdump -nn -r $h-eth0"
    tcpdump -nn -r /share/out/lvs-tun.$V.$h-eth0.pcap 2>&1
  done
  echo "### ${P}tcpdump -nn -v -r dir-eth0"
  tcpdump -nn -v -r /share/out/lvs-tun.$V.dir-eth0.pcap 2>&1
  echo "### ${P}tcpdump -nn -r rs2-tunl0"
  tcpdump -nn -r /share/out/lvs-tun.$V.rs2-tunl0.pcap 2>&1
}
rs_rpf 0
variant "" ok
rs_rpf 1
variant "broken: " broken
echo "### end"
