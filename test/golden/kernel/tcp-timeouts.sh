#!/bin/sh
# Golden fixture "tcp-timeouts": IPVS connection-entry states and expire countdowns on real
# Linux 6.1 (kernel-oracle), seed LVS-NAT lab (lvs_nat.sh config, wrr 1/2).
# Cases: vs sysctls and --timeout defaults; short curl (TIME_WAIT countdown); idle held
# connection (busybox nc; ESTABLISHED 15:00); client closes first while rs FINs are
# dropped (rs iptables) -> intermediate state; server closes first (busybox nc -l on rs1
# port 82) while the client's FIN is dropped (IPVS names: client FIN first => CLOSE_WAIT,
# server FIN first => FIN_WAIT); RST from rs (port 83, no listener);
# SYN to a service with no dests (port 84) and with only a weight-0 dest (port 85):
# ICMP seen on the client, curl error text + exit; --set 30 10 20 then new entries.
# Idle connections are busybox nc processes (stdin = a fifo held open); a side "closes"
# when its nc is killed. Each "-c" listing is preceded by "### ... t+Ns" telling when it was taken.
# Pcap: tcp-timeouts.client-eth0.pcap (cases 6-7).
. /oracle-lib.sh
set -u
mkdir -p /share/out
seed_lab; web rs1; web rs2
cat > /tmp/lvs_nat.sh <<'LVS'
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
on vip sh /tmp/lvs_nat.sh
V=192.168.75.131
L() { echo "### $1"; on vip ipvsadm -L -n -c; }
echo "### [case 1] vs sysctls (vip netns)"
on vip sysctl -a 2>/dev/null | grep '^net.ipv4.vs\.'
echo "### ipvsadm -L --timeout"
on vip ipvsadm -L --timeout
echo "### [case 2] short curl"
on client curl -s $V
L "-c after curl t+0s"
on vip cat /proc/net/ip_vs_conn
sleep 5
L "-c after curl t+5s"
echo "### [case 3] idle held connection (busybox nc, no data)"
mkfifo /tmp/f1
(exec ip netns exec client busybox nc $V 80 </tmp/f1 >/dev/null 2>&1) &
NC1=$!; exec 3>/tmp/f1; sleep 2
L "-c held t+2s"
on vip ipvsadm -L -n
sleep 3
L "-c held t+5s"
echo "### [case 4] client closes first; rs drop their own FINs"
for h in rs1 rs2; do on $h iptables -A OUTPUT -p tcp --sport 80 --tcp-flags FIN FIN -j DROP; done
kill $NC1; exec 3>&-; sleep 1
L "-c client FIN sent, server FIN dropped t+1s"
on vip ipvsadm -L -n
sleep 3
L "-c client FIN sent, server FIN dropped t+4s"
for h in rs1 rs2; do on $h iptables -F OUTPUT; done
sleep 4
L "-c after rs FIN allowed again t+4s"
echo "### [case 5] server closes first (rs1 busybox nc -l -p 82); client FIN dropped"
on vip ipvsadm -A -t $V:82 -s rr
on vip ipvsadm -a -t $V:82 -r 192.168.1.185:82 -m
mkfifo /tmp/s1
(exec ip netns exec rs1 busybox nc -l -p 82 </tmp/s1 >/dev/null 2>&1) &
SRV=$!; exec 6>/tmp/s1; sleep 1
on client iptables -A OUTPUT -p tcp --dport 82 --tcp-flags FIN FIN -j DROP
mkfifo /tmp/f2
(exec ip netns exec client busybox nc $V 82 </tmp/f2 >/dev/null 2>&1) &
NC2=$!; exec 4>/tmp/f2; sleep 2
L "-c port 82 established t+2s"
kill $SRV 2>/dev/null; exec 6>&-; sleep 1
L "-c port 82 server FIN sent, client FIN dropped t+1s"
sleep 3
L "-c port 82 t+4s"
on client iptables -F OUTPUT; exec 4>&-; kill $NC2 2>/dev/null
sleep 4
L "-c port 82 after client FIN allowed t+4s"
capture client eth0 /share/out/tcp-timeouts.client-eth0.pcap 'icmp or tcp portrange 83-85'
echo "### [case 6] RST from rs (port 83 -> rs1:83, nothing listens)"
on vip ipvsadm -A -t $V:83 -s rr
on vip ipvsadm -a -t $V:83 -r 192.168.1.185:83 -m
on client curl -sS -m 5 $V:83 2>&1; echo "exit=$?"
L "-c port 83 after RST t+0s"
echo "### [case 7] service without destinations (port 84)"
on vip ipvsadm -A -t $V:84 -s wrr
on client curl -sS -m 5 $V:84 2>&1; echo "exit=$?"
L "-c after port 84"
echo "### [case 7b] service whose only destination has weight 0 (port 85)"
on vip ipvsadm -A -t $V:85 -s rr
on vip ipvsadm -a -t $V:85 -r 192.168.1.185:80 -m -w 0
on client curl -sS -m 5 $V:85 2>&1; echo "exit=$?"
stop_captures
echo "### tcpdump -nn -v -r client-eth0 (cases 6-7)"
tcpdump -nn -v -r /share/out/tcp-timeouts.client-eth0.pcap 2>&1
echo "### [case 8] --set 30 10 20"
on vip ipvsadm --set 30 10 20
on vip ipvsadm -L --timeout
mkfifo /tmp/f3
(exec ip netns exec client busybox nc $V 80 </tmp/f3 >/dev/null 2>&1) &
NC3=$!; exec 5>/tmp/f3; sleep 2
on client curl -s $V
L "-c after --set: held + short curl t+0s"
for h in rs1 rs2; do on $h iptables -A OUTPUT -p tcp --sport 80 --tcp-flags FIN FIN -j DROP; done
kill $NC3; exec 5>&-; sleep 1
L "-c after --set: held conn closed by client, server FIN dropped t+1s"
for h in rs1 rs2; do on $h iptables -F OUTPUT; done
echo "### [case 8b] after --set: server closes first (port 82), client FIN dropped"
mkfifo /tmp/s2 /tmp/f4
(exec ip netns exec rs1 busybox nc -l -p 82 </tmp/s2 >/dev/null 2>&1) &
SRV2=$!; exec 7>/tmp/s2; sleep 1
on client iptables -A OUTPUT -p tcp --dport 82 --tcp-flags FIN FIN -j DROP
(exec ip netns exec client busybox nc $V 82 </tmp/f4 >/dev/null 2>&1) &
NC4=$!; exec 8>/tmp/f4; sleep 2
kill $SRV2 2>/dev/null; exec 7>&-; sleep 1
L "-c after --set: port 82 server FIN sent, client FIN dropped t+1s"
on client iptables -F OUTPUT; exec 8>&-; kill $NC4 2>/dev/null
echo "### ipvsadm -L -n (end)"
on vip ipvsadm -L -n
echo "### ipvsadm -L -n --stats (end)"
on vip ipvsadm -L -n --stats
echo "### dmesg | grep IPVS"
dmesg | grep IPVS
echo "### end"
