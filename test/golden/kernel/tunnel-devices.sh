#!/bin/sh
# Golden fixture "tunnel-devices": what a real server's tunnel setup prints on the real Linux
# 6.1 kernel via kernel-oracle: `ip fou` before and after `modprobe fou` (show, add twice,
# del twice, bad arguments, ports in octal and hex, protocols by name), the devices `modprobe ip_gre` and `modprobe ipip` create in a
# fresh namespace, and `ip link`/`ip addr` of gre0 and tunl0 once up with an address.
set -u
ip netns add rs; ns() { ip netns exec rs "$@"; }
ns ip link set lo up
echo "### lsmod before"; lsmod | grep -E "^(fou|ip_gre|gre|ipip|tunnel4|ip_tunnel) " | sort
echo "### ip fou show (no module)"; ns ip fou show; echo "exit=$?"
echo "### ip fou add port 6080 gue (no module)"; ns ip fou add port 6080 gue; echo "exit=$?"
modprobe fou
echo "### lsmod fou"; lsmod | grep -E "^(fou|ip_tunnel|udp_tunnel|ip6_udp_tunnel) " | sort
echo "### ip fou show (empty)"; ns ip fou show; echo "exit=$?"
echo "### ip fou add port 6080 gue"; ns ip fou add port 6080 gue; echo "exit=$?"
echo "### ip fou add port 6080 gue (again)"; ns ip fou add port 6080 gue; echo "exit=$?"
echo "### ip fou add port 5555 ipproto 4"; ns ip fou add port 5555 ipproto 4; echo "exit=$?"
echo "### ip fou show"; ns ip fou show; echo "exit=$?"
echo "### ip fou del port 5555"; ns ip fou del port 5555; echo "exit=$?"
echo "### ip fou del port 5555 (again)"; ns ip fou del port 5555; echo "exit=$?"
echo "### ip fou add port 6080"; ns ip fou add port 6080; echo "exit=$?"
echo "### ip fou add gue"; ns ip fou add gue; echo "exit=$?"
echo "### ip fou add port 99999 gue"; ns ip fou add port 99999 gue; echo "exit=$?"
echo "### ip fou bogus"; ns ip fou bogus; echo "exit=$?"
echo "### ip fou add port 0 gue"; ns ip fou add port 0 gue; echo "exit=$?"
echo "### ip fou add port 010 ipproto ipip"; ns ip fou add port 010 ipproto ipip; echo "exit=$?"
echo "### ip fou add port 0x10 ipproto IPIP"; ns ip fou add port 0x10 ipproto IPIP; echo "exit=$?"
echo "### ip fou add port 17 ipproto Ipip"; ns ip fou add port 17 ipproto Ipip; echo "exit=$?"
echo "### ip fou add port 18 ipproto gre -6"; ns ip fou add port 18 ipproto gre -6; echo "exit=$?"
echo "### ip fou add port 19 gue local 10.9.9.9"; ns ip fou add port 19 gue local 10.9.9.9; echo "exit=$?"
echo "### ip fou show (more)"; ns ip fou show; echo "exit=$?"
echo "### ip fou del port 8"; ns ip fou del port 8; echo "exit=$?"
echo "### ip fou del port 16"; ns ip fou del port 16; echo "exit=$?"
echo "### ip fou del port 19"; ns ip fou del port 19; echo "exit=$?"
echo "### ip fou show (end)"; ns ip fou show; echo "exit=$?"
echo "### ss -uan (fou sockets)"; ns ss -uan
modprobe ip_gre
echo "### ip link (after modprobe ip_gre)"; ns ip link show
modprobe ipip
echo "### ip link (after modprobe ipip)"; ns ip link show
ns ip link set gre0 up; ns ip addr add 192.168.1.101/32 dev gre0
ns ip link set tunl0 up; ns ip addr add 192.168.1.102/32 dev tunl0
echo "### ip addr show gre0"; ns ip addr show gre0
echo "### ip -d link show gre0"; ns ip -d link show gre0
echo "### ip addr show tunl0"; ns ip addr show tunl0
echo "### ip -4 addr show"; ns ip -4 addr show
echo "### sysctl gre0"; ns sysctl net.ipv4.conf.gre0.rp_filter net.ipv4.conf.gre0.arp_ignore
