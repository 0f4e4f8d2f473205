#!/bin/sh
# Golden fixture "lvs-tun-mtu": LVS-TUN and the MTU on the real Linux 6.1 kernel via
# kernel-oracle. The director encapsulates each packet in a second IPv4 header (20 bytes):
# a full-size client segment (1500 bytes, DF) no longer fits eth0's MTU 1500, so
# ip_vs_tunnel_xmit drops it and answers "fragmentation needed" with the inner MTU 1480
# (ensure_mtu_is_adequate); the client lowers its route's PMTU and resends smaller segments.
# The same LAN as lvs-tun.sh:
#   client 192.168.1.150/24                                    MAC 00:0c:29:00:01:50
#   dir    eth0 192.168.1.186/24 + VIP 192.168.1.100/32         MAC 00:0c:29:00:01:86
#   rs1    eth0 192.168.1.185/24, VIP 192.168.1.100/32 on tunl0 MAC 00:0c:29:00:01:85
#   rs2    eth0 192.168.1.190/24, VIP 192.168.1.100/32 on tunl0 MAC 00:0c:29:00:01:90
# The request: curl -H @/tmp/pad.txt (an "X-Pad:" header of 1362 bytes) makes the GET
# exactly 1448 bytes, one full-size segment (mss 1460 - 12 bytes of timestamps).
# Variants (neighbour caches and the client's route cache flushed, service re-created):
#   ok:        two such curls: the first meets the ICMP and recovers, the second starts
#              with the cached PMTU (SYN mss 1440)
#   blackhole: the director's firewall drops outgoing ICMP (iptables -A OUTPUT -p icmp -j
#              DROP): the client never learns the PMTU and its retransmissions stall
# Offloads: veth does TSO/GSO, so after tcp_sync_mss the client hands the wire one
# 2-segment super-packet (1428+20) that tcpdump shows as a single 1448-byte segment and that
# IPVS lets through unchecked (skb_is_gso); a real NIC sends two packets. So every veth end
# has tso/gso/gro off (ethtool -K, as lvslab's real mode does; the VM has no ethtool of its
# own: run this script through with-ethtool.sh, which unpacks one into /tmp/ethtool/) and
# gso_max_segs 1. A first recording with offloads on showed exactly that artefact.
# Captures: tcpdump -U -w on client/dir/rs1/rs2 eth0, each tcpdump killed by its own pid;
# pcaps lvs-tun-mtu.<variant>.<host>-eth0.pcap, printed with -nn -e and (client) -nn -v.
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
ETHTOOL="env LD_LIBRARY_PATH=/tmp/ethtool /tmp/ethtool/ethtool"
for h in client dir rs1 rs2; do
  on $h $ETHTOOL -K eth0 tso off gso off gro off 2>&1
  ip -n sw link set dev $h-eth0 gso_max_segs 1; ip -n $h link set dev eth0 gso_max_segs 1
  ip netns exec sw $ETHTOOL -K $h-eth0 tso off gso off gro off 2>&1
done
echo "### ethtool -k eth0 (client)"
on client $ETHTOOL -k eth0 | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):'
echo "### ip -d link show eth0 (client) gso_max_segs"
on client ip -d link show eth0 | grep -o 'gso_max_segs [0-9]*'
ip -n client addr add 192.168.1.150/24 dev eth0
ip -n dir addr add 192.168.1.186/24 dev eth0
ip -n dir addr add 192.168.1.100/32 dev eth0
ip -n rs1 addr add 192.168.1.185/24 dev eth0
ip -n rs2 addr add 192.168.1.190/24 dev eth0
for h in rs1 rs2; do
  on $h ip link set tunl0 up
  ip -n $h addr add 192.168.1.100/32 dev tunl0
  for c in lo all tunl0; do on $h sysctl -q -w net.ipv4.conf.$c.arp_ignore=1 net.ipv4.conf.$c.arp_announce=2; done
  on $h sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0
done
mkdir -p /tmp/rs1 /tmp/rs2
echo "1111111111111master" > /tmp/rs1/index.html; echo "2222222222222slave" > /tmp/rs2/index.html
web rs1; web rs2
printf 'X-Pad: %s\n' "$(head -c 1362 /dev/zero | tr '\0' x)" > /tmp/pad.txt
echo "### wc -c /tmp/pad.txt"
wc -c < /tmp/pad.txt
echo "### ip link show eth0 (dir)"
on dir ip link show eth0
echo "### ip link show tunl0 (rs1)"
on rs1 ip link show tunl0
echo "### sysctls (client)"
on client sysctl net.ipv4.ip_no_pmtu_disc net.ipv4.route.mtu_expires net.ipv4.route.min_pmtu net.ipv4.tcp_mtu_probing net.ipv4.ip_forward_use_pmtu
F='arp or icmp or ip proto 4 or (ip and host 192.168.1.150)'
PIDS=""
cap() { ip netns exec $1 tcpdump -nn -U -i eth0 -w /share/out/lvs-tun-mtu.$V.$1-eth0.pcap "$F" 2>/dev/null & PIDS="$PIDS $!"; }
stopcap() { sleep 1; for p in $PIDS; do kill $p; done; sleep 1; PIDS=""; }
curlpad() {
  echo "### ${P}curl -sS -m $1 -H @/tmp/pad.txt 192.168.1.100 #$2"
  on client curl -sS -m $1 -H @/tmp/pad.txt 192.168.1.100 2>&1; echo "exit=$?"
}
begin() {
  on dir ipvsadm -C
  on dir ipvsadm -A -t 192.168.1.100:80 -s rr
  on dir ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.185:80 -i
  on dir ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.190:80 -i
  for h in client dir rs1 rs2; do on $h ip neigh flush all; done
  on client ip route flush cache
  for h in client dir; do NSTAT_HISTORY=/tmp/nstat.$V.$h on $h nstat -n; done
  echo "### ${P}ip route get 192.168.1.100 (client, before)"
  on client ip route get 192.168.1.100
  for h in client dir rs1 rs2; do cap $h; done
  sleep 3
}
finish() {
  stopcap
  echo "### ${P}ip route get 192.168.1.100 (client, after)"
  on client ip route get 192.168.1.100
  echo "### ${P}ip route show cache (client)"
  on client ip route show cache
  echo "### ${P}ip -s link show eth0 (dir)"
  on dir ip -s link show eth0
  echo "### ${P}ipvsadm -L -n"
  on dir ipvsadm -L -n
  echo "### ${P}ipvsadm -L -n -c"
  on dir ipvsadm -L -n -c
  echo "### ${P}ipvsadm -L -n --stats"
  on dir ipvsadm -L -n --stats
  for h in client dir; do
    echo "### ${P}$h nstat (since the variant began)"
    NSTAT_HISTORY=/tmp/nstat.$V.$h on $h nstat -a 2>&1 | grep -E '^(Ip|Icmp|IcmpMsg|Tcp)[A-Z]|TcpExtTCPLostRetransmit|TcpExtTCPTimeouts|TcpExtTCPRetransFail|PMTU|Frag'
  done
  for h in client dir rs1 rs2; do
    echo "### ${P}tcpdump -nn -e -r $h-eth0"
    tcpdump -nn -e -r /share/out/lvs-tun-mtu.$V.$h-eth0.pcap 2>&1
  done
  echo "### ${P}tcpdump -nn -v -r client-eth0"
  tcpdump -nn -v -r /share/out/lvs-tun-mtu.$V.client-eth0.pcap 2>&1
}
V=ok; P=""
begin
curlpad 3 1
sleep 2
echo "### ip route get 192.168.1.100 (client, between)"
on client ip route get 192.168.1.100
curlpad 3 2
sleep 2
finish
V=blackhole; P="blackhole: "
on dir iptables -A OUTPUT -p icmp -j DROP
begin
curlpad 5 1
sleep 1
finish
echo "### blackhole: iptables -L OUTPUT -v -n (dir)"
on dir iptables -L OUTPUT -v -n
echo "### end"
