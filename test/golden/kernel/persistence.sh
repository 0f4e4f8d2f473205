#!/bin/sh
# Golden fixture "persistence": IPVS persistent services on real Linux 6.1 (kernel-oracle),
# LVS-NAT over seed_lab (rs1 192.168.1.185, rs2 192.168.1.190, each serving /id).
# The client has 192.168.75.150-157/24 and 192.168.76.150/24 on eth0 (curl --interface);
# the director has 192.168.76.131/24 (the way back to 192.168.76.0/24) and the extra VIPs
# 192.168.75.132 (port-0 service) and 192.168.75.133 (fwmark service) on eth1.
# Every service is -s rr with rs1 added first, rs2 second (list order rs2, rs1: the first
# new template goes to rs2). Templates: `ipvsadm -L -n -c`, countdowns in mm:ss.
. /oracle-lib.sh
set -u
seed_lab
for h in rs1 rs2; do echo $h > /tmp/$h/id; web $h; done
on vip sysctl -q -w net.ipv4.ip_forward=1
for i in 1 2 3 4 5 6 7; do ip -n client addr add 192.168.75.15$i/24 dev eth0; done
ip -n client addr add 192.168.76.150/24 dev eth0
ip -n vip addr add 192.168.76.131/24 dev eth1
ip -n vip addr add 192.168.75.132/24 dev eth1
ip -n vip addr add 192.168.75.133/24 dev eth1
V=192.168.75.131
svc() { # svc VIP:PORT ARGS... ; rs1 then rs2 as NAT dests on port 80
  on vip ipvsadm -A -t "$@"
  on vip ipvsadm -a -t $1 -r 192.168.1.185:80 -m
  on vip ipvsadm -a -t $1 -r 192.168.1.190:80 -m
}
req() { # req SRC VIP:PORT -> "SRC=rsN" (FAIL when curl fails)
  printf '%s=%s ' $1 "$(on client curl -s -m 3 --interface $1 $2/id || echo FAIL)"
}
conns() { on vip ipvsadm -L -n -c | grep -E "$1" | sort; }

echo "### p-default: -p (no value)"
svc $V:80 -s rr -p
on vip ipvsadm -L -n -t $V:80
req 192.168.75.150 $V:80; req 192.168.75.150 $V:80; req 192.168.75.151 $V:80
req 192.168.75.151 $V:80; req 192.168.75.150 $V:80; echo
conns "$V:80 "

echo "### p-30: -p 30"
svc $V:81 -s rr -p 30
on vip ipvsadm -L -n -t $V:81
for i in 2 3 4 2 3 4; do req 192.168.75.15$i $V:81; done; echo
conns "$V:81 "

echo "### netmask: -p 30 -M 255.255.255.0"
svc $V:82 -s rr -p 30 -M 255.255.255.0
on vip ipvsadm -L -n -t $V:82
req 192.168.75.150 $V:82; req 192.168.75.157 $V:82; req 192.168.76.150 $V:82
req 192.168.75.155 $V:82; req 192.168.76.150 $V:82; echo
conns "$V:82 "

echo "### persistent-conn"
on vip ipvsadm -L -n --persistent-conn

echo "### rearm: -p 3, a connection held open from 192.168.75.150"
svc $V:83 -s rr -p 3
(sleep 25 | on client busybox nc $V 83 >/dev/null 2>&1 &)
sleep 1
echo "--- after 1 s"
conns "$V:83 "
sleep 4
echo "--- after 5 s (template fired at 3 s with a controlled connection)"
conns "$V:83 "
req 192.168.75.150 $V:83; req 192.168.75.151 $V:83; echo
echo "--- after a new connection through the re-armed template"
conns "$V:83 "

echo "### port0: -t 192.168.75.132:0 -p 30, dests without a port"
on vip ipvsadm -A -t 192.168.75.132:0 -s rr -p 30
on vip ipvsadm -a -t 192.168.75.132:0 -r 192.168.1.185 -m
on vip ipvsadm -a -t 192.168.75.132:0 -r 192.168.1.190 -m
on vip ipvsadm -L -n -t 192.168.75.132:0
req 192.168.75.150 192.168.75.132:80; req 192.168.75.151 192.168.75.132:80
req 192.168.75.151 192.168.75.132:8080; req 192.168.75.150 192.168.75.132:80; echo
req 192.168.75.152 192.168.75.132:8080; echo
conns "192.168.75.132:"

echo "### fwmark: iptables MARK 1 for 192.168.75.133:80, -A -f 1 -s rr -p"
on vip iptables -t mangle -A PREROUTING -d 192.168.75.133 -p tcp --dport 80 -j MARK --set-mark 1
on vip ipvsadm -A -f 1 -s rr -p
on vip ipvsadm -a -f 1 -r 192.168.1.185 -m
on vip ipvsadm -a -f 1 -r 192.168.1.190 -m
on vip ipvsadm -L -n -f 1
req 192.168.75.150 192.168.75.133; req 192.168.75.150 192.168.75.133; req 192.168.75.151 192.168.75.133; echo
conns "192.168.75.133:|0.0.0.1:"

echo "### quiescent: -p 30; the template's dest set to weight 0"
svc $V:85 -s rr -p 30
req 192.168.75.156 $V:85; echo
on vip ipvsadm -e -t $V:85 -r 192.168.1.190:80 -m -w 0
echo "--- expire_quiescent_template=$(on vip sysctl -n net.ipv4.vs.expire_quiescent_template)"
req 192.168.75.156 $V:85; req 192.168.75.157 $V:85; echo
on vip sysctl -q -w net.ipv4.vs.expire_quiescent_template=1
echo "--- expire_quiescent_template=1"
req 192.168.75.156 $V:85; req 192.168.75.156 $V:85; echo
conns "$V:85 "
on vip ipvsadm -L -n -t $V:85

echo "### ipvsadm -L -n (all)"
on vip ipvsadm -L -n
echo "### ipvsadm -L -n --persistent-conn (all)"
on vip ipvsadm -L -n --persistent-conn
echo "### end"
