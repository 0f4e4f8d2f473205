#!/bin/sh
# Golden fixture "director-export": the seed's lab (labs/lvs-nat.yaml) rebuilt on the real
# Linux 6.1 kernel via kernel-oracle from lvslab's two exports, run verbatim: the director's
# script (`lvslab export labs/lvs-nat.yaml --format director`) in the vip namespace and the
# real servers' script (`--format real-servers`) in rs1 and rs2. The namespaces start as
# oracle-lib's seed lab without the real servers' gateway (NO_GATEWAY=1) and without any
# IPVS rule or sysctl. Then six curls from the client (the seed's wrr order), ipvsadm -L -n,
# the director's sysctls, and both scripts run a second time.
. /oracle-lib.sh
set -u
NO_GATEWAY=1 seed_lab
web rs1; web rs2
cat > /tmp/director.sh <<'DIRECTOR_EOF'
#!/bin/sh
# Director setup for lab lvs-nat, exported by lvslab from vip after all the lab's steps: 1
# IPVS service, the addresses clients reach them at, and the kernel settings LVS relies on,
# for a Linux host with the ip_vs module and ipvsadm, without keepalived. Interface names
# are the lab's (eth0, eth1): change them to yours. Run it as root; it can run again.
set -e
modprobe ip_vs

# The addresses the services and FullNAT connections use, on the NICs the lab had them on.
# 192.168.75.131 is eth1's own address in the lab (192.168.75.131/24).

# The director routes: NAT replies pass through it on their way back to the clients.
sysctl -q -w net.ipv4.ip_forward=1
# No ICMP redirects, as in the lab: a real server on a client's network must keep sending
# its replies through the director (one-armed NAT).
sysctl -q -w net.ipv4.conf.all.send_redirects=0
sysctl -q -w net.ipv4.conf.default.send_redirects=0
sysctl -q -w net.ipv4.conf.eth0.send_redirects=0
sysctl -q -w net.ipv4.conf.eth1.send_redirects=0

# The IPVS table, as ipvsadm -S -n printed it on the lab's director.
ipvsadm -C
ipvsadm-restore <<'IPVS_RULES'
-A -t 192.168.75.131:80 -s wrr
-a -t 192.168.75.131:80 -r 192.168.1.185:80 -m -w 1
-a -t 192.168.75.131:80 -r 192.168.1.190:80 -m -w 2
IPVS_RULES
DIRECTOR_EOF
cat > /tmp/rs.sh <<'RS_EOF'
#!/bin/sh
# Real-server setup for lab lvs-nat, exported by lvslab from the IPVS table of
# vip after all the lab's steps: 2 real servers.
# Run it as root on every real server: it finds which one it runs on by its addresses and
# sets that one up. It replaces rather than adds, so it can run again. Nothing here
# survives a reboot: put it where your system runs such scripts at boot.
set -e

has_addr() {
    ip -4 addr show | grep -q "inet $1/"
}

# real_server1 (192.168.1.185)
# real_server2 (192.168.1.190)
setup_real_server1_and_real_server2() {
    # NAT for TCP 192.168.75.131:80: the director rewrites the client's packets to this server
    # and must see the replies to rewrite them back, so they leave through it.
    ip route replace default via 192.168.1.186
}

if has_addr 192.168.1.185 || has_addr 192.168.1.190; then
    setup_real_server1_and_real_server2
else
    echo "$0: this host has none of the real servers' addresses (192.168.1.185, 192.168.1.190)" >&2
    exit 1
fi
RS_EOF
echo "### vip"; on vip sh /tmp/director.sh 2>&1; echo "exit=$?"
echo "### rs1"; on rs1 sh /tmp/rs.sh 2>&1; echo "exit=$?"
echo "### rs2"; on rs2 sh /tmp/rs.sh 2>&1; echo "exit=$?"
echo "### curls"
for i in 1 2 3 4 5 6; do on client curl -sS -m 3 192.168.75.131 2>&1; done
echo "### ipvsadm -L -n"; on vip ipvsadm -L -n
echo "### sysctls"; on vip sysctl net.ipv4.ip_forward net.ipv4.conf.all.send_redirects net.ipv4.conf.eth0.send_redirects
echo "### again"; on vip sh /tmp/director.sh 2>&1; echo "exit=$?"; on rs1 sh /tmp/rs.sh 2>&1; echo "exit=$?"
on vip ipvsadm -S -n
