#!/bin/sh
# Golden fixture "ipvsadm-names": ipvsadm 1.31 on real Linux 6.1 (kernel-oracle) for what
# ipvsadm-errors does not cover: names without -n (addresses from /etc/hosts, ports from
# /etc/services; the seed lab's hosts are added to /etc/hosts as the lab names them),
# --pe sip, -o (one-packet scheduling), the sync daemons' listing with options, and a
# save/restore round trip (-S without and with -n, fed back to -R after -C).
. /oracle-lib.sh
set -u
seed_lab
cat >> /etc/hosts <<'HOSTS'
192.168.75.131 vip
192.168.1.185 real_server1
192.168.1.190 real_server2
HOSTS
t() { echo "### ipvsadm $*"; on vip ipvsadm "$@" 2>&1; echo "exit=$?"; }
V=192.168.75.131
t -A -t $V:80 -s rr
t -a -t $V:80 -r 192.168.1.185:80 -m
t -a -t $V:80 -r 192.168.1.190:80 -m -w 2
t -A -t $V:22 -s wlc -p 60
t -a -t $V:22 -r 192.168.1.185:22 -m
t -A -u $V:53 -s rr -o
t -a -u $V:53 -r 192.168.1.190:53 -m
t -A -u $V:5060 -s rr -p 120 --pe sip
t -a -u $V:5060 -r 192.168.1.185:5060 -m
t -A -t $V:8080 -s sh -b sh-port
t -a -t $V:8080 -r 192.168.1.190:8080 -g
t -A -t $V:443 -s wrr -p 300 -M 255.255.255.0
t -a -t $V:443 -r 10.9.8.7:443 -i
t -A -f 7 -s lc
t -a -f 7 -r 192.168.1.185 -m
t -L
t -L -n
t -l --persistent-conn
t -L -t vip:http
t -L -t vip:ssh --stats
t -L -u $V:domain
t -L -u $V:sip
t -S
t -S -n
on vip ipvsadm -S > /tmp/saved
on vip ipvsadm -S -n > /tmp/saved-n
t -C
echo "### ipvsadm -R < (ipvsadm -S)"
on vip ipvsadm -R < /tmp/saved 2>&1; echo "exit=$?"
t -S -n
echo "### diff with the first -S -n"
on vip ipvsadm -S -n | diff /tmp/saved-n - && echo same
t --start-daemon master --mcast-interface eth0 --syncid 5
t --start-daemon backup --mcast-interface eth1 --syncid 7 --sync-maxlen 1000 --mcast-group 224.0.0.99 --mcast-port 8999 --mcast-ttl 3
t -L --daemon
t --stop-daemon backup
t -L --daemon
t --stop-daemon master
t -L --daemon
echo "### end"
