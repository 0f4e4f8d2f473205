#!/bin/sh
# Golden fixture "real-servers-export": the scripts `lvslab export` wrote for
# test/labs/export-real-servers.yaml, run on the real Linux 6.1 kernel via kernel-oracle.
# The director's table comes from `lvslab export LAB --format ipvsadm` (ipvsadm -R), the real
# servers' setup from `lvslab export LAB --format real-servers`, both verbatim below; the
# real servers start as the lab leaves them (an address on eth0, nginx, nothing else).
#   client 192.168.75.150/24 (wan), route to 192.168.1.0/24 via the director: NAT's client
#   client2 192.168.1.150/24 (lan): DR's and TUN's client (their replies go straight to it)
#   dir    eth1 192.168.75.131/24 (wan); eth0 192.168.1.186/24 + VIPs .100 .101 .102 /32 (lan)
#   rs1    eth0 192.168.1.185/24      rs2    eth0 192.168.1.190/24
# Services: NAT 192.168.75.131:80, DR 192.168.1.100:80, TUN 192.168.1.101:80 (rs1 IPIP,
# rs2 GRE), TUN 192.168.1.102:80 (GUE, UDP port 6080), all rr over rs1 and rs2.
# Printed: each script's exit status, the real servers' state after it, two curls of each
# VIP, the director's GRE and GUE packets (tcpdump -v, and -x of one of each), the script
# run again on rs1 and once on the client, and ipvsadm -L -n --stats.
. /oracle-lib.sh
set -u
modprobe ip_vs; modprobe ip_vs_rr
for n in sw client client2 dir rs1 rs2; do ip netns add $n; ip -n $n link set lo up; done
for b in lan wan; do ip -n sw link add $b type bridge; ip -n sw link set $b up; done
_port client eth0 wan; _port client2 eth0 lan; _port dir eth1 wan; _port dir eth0 lan; _port rs1 eth0 lan; _port rs2 eth0 lan
ip -n client addr add 192.168.75.150/24 dev eth0
ip -n client route add 192.168.1.0/24 via 192.168.75.131
ip -n client2 addr add 192.168.1.150/24 dev eth0
ip -n dir addr add 192.168.75.131/24 dev eth1
for a in 192.168.1.186/24 192.168.1.100/32 192.168.1.101/32 192.168.1.102/32; do ip -n dir addr add $a dev eth0; done
on dir sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
ip -n rs1 addr add 192.168.1.185/24 dev eth0
ip -n rs2 addr add 192.168.1.190/24 dev eth0
mkdir -p /tmp/rs1 /tmp/rs2
echo "1111111111111master" > /tmp/rs1/index.html; echo "2222222222222slave" > /tmp/rs2/index.html
web rs1; web rs2
cat > /tmp/rules <<'IPVS_EOF'
-A -t 192.168.1.100:80 -s rr
-a -t 192.168.1.100:80 -r 192.168.1.185:80 -g -w 1
-a -t 192.168.1.100:80 -r 192.168.1.190:80 -g -w 1
-A -t 192.168.1.101:80 -s rr
-a -t 192.168.1.101:80 -r 192.168.1.185:80 -i -w 1 --tun-type ipip
-a -t 192.168.1.101:80 -r 192.168.1.190:80 -i -w 1 --tun-type gre --tun-nocsum
-A -t 192.168.1.102:80 -s rr
-a -t 192.168.1.102:80 -r 192.168.1.185:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a -t 192.168.1.102:80 -r 192.168.1.190:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-A -t 192.168.75.131:80 -s rr
-a -t 192.168.75.131:80 -r 192.168.1.185:80 -m -w 1
-a -t 192.168.75.131:80 -r 192.168.1.190:80 -m -w 1
IPVS_EOF
cat > /tmp/rs.sh <<'RS_EOF'
#!/bin/sh
# Real-server setup for lab export-real-servers, exported by lvslab from the IPVS table of
# director after all the lab's steps: 2 real servers.
# Run it as root on every real server: it finds which one it runs on by its addresses and
# sets that one up. It replaces rather than adds, so it can run again. Nothing here
# survives a reboot: put it where your system runs such scripts at boot.
set -e

has_addr() {
    ip -4 addr show | grep -q "inet $1/"
}

# real_server1 (192.168.1.185)
setup_real_server1() {
    # NAT for TCP 192.168.75.131:80: the director rewrites the client's packets to this server
    # and must see the replies to rewrite them back, so they leave through it.
    ip route replace default via 192.168.1.186

    # DR for TCP 192.168.1.100:80: the director hands on the client's frame unchanged but for
    # its MAC, so this server must hold the VIP, on lo where it is never announced on the LAN.
    ip addr replace 192.168.1.100/32 dev lo

    # TUN (IPIP) for TCP 192.168.1.101:80: the director wraps the client's packet in a second
    # IPv4 header to this server; tunl0 takes it off, and with the VIP on tunl0 the inner packet
    # is for this host, which answers the client straight from the VIP.
    modprobe ipip
    ip link set tunl0 up
    ip addr replace 192.168.1.101/32 dev tunl0

    # TUN (GUE on UDP port 6080) for TCP 192.168.1.102:80: the director wraps the client's
    # packet in a second IPv4 header to this server; tunl0 takes it off, and with the VIP on
    # tunl0 the inner packet is for this host, which answers the client straight from the VIP.
    modprobe fou
    ip fou del port 6080 2>/dev/null || true
    ip fou add port 6080 gue
    ip addr replace 192.168.1.102/32 dev tunl0

    # arp_ignore=1: answer ARP only for the addresses of the interface asked (never the VIP);
    # arp_announce=2: ARP requests carry the interface's own address, never the VIP. Otherwise
    # the LAN's ARP for the VIP may reach this server instead of the director.
    sysctl -q -w net.ipv4.conf.all.arp_ignore=1
    sysctl -q -w net.ipv4.conf.all.arp_announce=2

    # The client's packets come in by tunl0 and the route back leaves by the LAN: strict
    # reverse-path filtering drops them (the kernel takes the larger of all and the device).
    sysctl -q -w net.ipv4.conf.all.rp_filter=0
    sysctl -q -w net.ipv4.conf.tunl0.rp_filter=0
}

# real_server2 (192.168.1.190)
setup_real_server2() {
    # NAT for TCP 192.168.75.131:80: the director rewrites the client's packets to this server
    # and must see the replies to rewrite them back, so they leave through it.
    ip route replace default via 192.168.1.186

    # DR for TCP 192.168.1.100:80: the director hands on the client's frame unchanged but for
    # its MAC, so this server must hold the VIP, on lo where it is never announced on the LAN.
    ip addr replace 192.168.1.100/32 dev lo

    # TUN (GRE) for TCP 192.168.1.101:80: the director wraps the client's packet in a second
    # IPv4 header to this server; gre0 takes it off, and with the VIP on gre0 the inner packet
    # is for this host, which answers the client straight from the VIP.
    modprobe ip_gre
    ip link set gre0 up
    ip addr replace 192.168.1.101/32 dev gre0

    # TUN (GUE on UDP port 6080) for TCP 192.168.1.102:80: the director wraps the client's
    # packet in a second IPv4 header to this server; tunl0 takes it off, and with the VIP on
    # tunl0 the inner packet is for this host, which answers the client straight from the VIP.
    modprobe fou
    ip fou del port 6080 2>/dev/null || true
    ip fou add port 6080 gue
    modprobe ipip
    ip link set tunl0 up
    ip addr replace 192.168.1.102/32 dev tunl0

    # arp_ignore=1: answer ARP only for the addresses of the interface asked (never the VIP);
    # arp_announce=2: ARP requests carry the interface's own address, never the VIP. Otherwise
    # the LAN's ARP for the VIP may reach this server instead of the director.
    sysctl -q -w net.ipv4.conf.all.arp_ignore=1
    sysctl -q -w net.ipv4.conf.all.arp_announce=2

    # The client's packets come in by gre0 and tunl0 and the route back leaves by the LAN:
    # strict reverse-path filtering drops them (the kernel takes the larger of all and the
    # device).
    sysctl -q -w net.ipv4.conf.all.rp_filter=0
    sysctl -q -w net.ipv4.conf.gre0.rp_filter=0
    sysctl -q -w net.ipv4.conf.tunl0.rp_filter=0
}

if has_addr 192.168.1.185; then
    setup_real_server1
elif has_addr 192.168.1.190; then
    setup_real_server2
else
    echo "$0: this host has none of the real servers' addresses (192.168.1.185, 192.168.1.190)" >&2
    exit 1
fi
RS_EOF
echo "### ipvsadm -R"
on dir ipvsadm -R < /tmp/rules; echo "exit=$?"
on dir ipvsadm -S -n
for h in rs1 rs2; do
  echo "### $h"
  on $h sh /tmp/rs.sh; echo "exit=$?"
  on $h ip -4 addr show
  on $h ip route
  on $h ip fou show
  on $h sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.all.rp_filter
done
on dir tcpdump -nn -U -i eth0 -w /tmp/tun.pcap 'ip proto 47 or udp port 6080' 2>/dev/null & TD=$!
sleep 2
for vip in 192.168.75.131 192.168.1.100 192.168.1.101 192.168.1.102; do
  c=client2; [ $vip = 192.168.75.131 ] && c=client
  echo "### curl $vip"
  for i in 1 2; do on $c curl -sS -m 3 $vip 2>&1; echo "exit=$?"; done
done
sleep 1; kill $TD; sleep 1
echo "### tcpdump -nn -v -r (director eth0: GRE and GUE)"
tcpdump -nn -v -r /tmp/tun.pcap 2>/dev/null
echo "### tcpdump -nn -x -r (the first GRE and the first GUE packet)"
tcpdump -nn -x -c 1 -r /tmp/tun.pcap 'ip proto 47' 2>/dev/null
tcpdump -nn -x -c 1 -r /tmp/tun.pcap 'udp port 6080' 2>/dev/null
echo "### again rs1"
on rs1 sh /tmp/rs.sh; echo "exit=$?"
echo "### client"
on client sh /tmp/rs.sh 2>&1; echo "exit=$?"
echo "### ipvsadm -L -n --stats"
on dir ipvsadm -L -n --stats
