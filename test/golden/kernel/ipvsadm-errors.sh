#!/bin/sh
# Golden fixture "ipvsadm-errors": ipvsadm 1.31 on real Linux 6.1 (kernel-oracle).
# Every case prints:   ### ipvsadm ARGS   / --- stdout / ... / --- stderr / ... / exit=N
# Covers: usage/version, popt errors, command/option legality, kernel errors (EEXIST,
# ESRCH, ENOENT, ERANGE, EINVAL), weights/thresholds, port 0, -p forms, -M, -b, -o,
# address/port parsing, --set and --timeout, all listing variants on a populated table,
# -S, -R, -Z, sync daemon, -C; kernel log lines (dmesg | grep IPVS) at the end.
# /etc/hosts gets "10.0.0.1 web1" so non-numeric listings show one resolved name.
modprobe ip_vs
for m in rr wrr lc wlc sh dh mh; do modprobe ip_vs_$m; done
echo "10.0.0.1 web1" >> /etc/hosts
t() {
  echo "### ipvsadm $*"
  timeout 30 ipvsadm "$@" >/tmp/o 2>/tmp/e; rc=$?
  echo "--- stdout"; cat /tmp/o; echo "--- stderr"; cat /tmp/e; echo "exit=$rc"
}
tin() { # tin INPUT ARGS: with stdin
  i=$1; shift
  echo "### ipvsadm $* <<< $(printf '%s' "$i" | tr '\n' '|')"
  printf '%s' "$i" | timeout 30 ipvsadm "$@" >/tmp/o 2>/tmp/e; rc=$?
  echo "--- stdout"; cat /tmp/o; echo "--- stderr"; cat /tmp/e; echo "exit=$rc"
}
echo "### [section] usage and parse errors"
t
t -h
t --help
t -v
t --version
t --foo
t -Q
t -n -L
t -L --foo
t -A -t 1.2.3.4:80 --foo
t -A -L
t -L -n -n
t -L foo
t -A
t -A -t
t -L -c --stats
t -L -n -c -t 1.2.3.4:80
t -L --timeout --persistent-conn
t -A -t 1.2.3.4:80 -r 10.0.0.1:80
t -a -t 1.2.3.4:80
t -D -t 1.2.3.4:80 -s rr
echo "### [section] services and kernel errors"
t -A -t 1.2.3.4:80 -s nosuch
t -A -t 1.2.3.4:80 -s twos
t -A -t 1.2.3.4:80 -s abcdefghijklmnopq
t -A -t 1.2.3.4:80 -s rr
t -A -t 1.2.3.4:80 -s rr
t -A -t 1.2.3.4:80 -s wlc
t -E -t 9.9.9.9:80 -s rr
t -D -t 9.9.9.9:80
t -L -t 9.9.9.9:80
t -L -n -t 9.9.9.9:80
t -Z -t 9.9.9.9:80
t -a -t 9.9.9.9:80 -r 10.0.0.1:80 -m
t -e -t 9.9.9.9:80 -r 10.0.0.1:80 -m
t -d -t 9.9.9.9:80 -r 10.0.0.1:80
echo "### [section] destinations"
t -a -t 1.2.3.4:80 -r 10.0.0.1:80 -m
t -a -t 1.2.3.4:80 -r 10.0.0.1:80 -m
t -a -t 1.2.3.4:80 -r 10.0.0.1:80 -m -w 3
t -e -t 1.2.3.4:80 -r 10.0.0.9:80 -m
t -d -t 1.2.3.4:80 -r 10.0.0.9:80
t -a -t 1.2.3.4:80 -r 10.0.0.2:80 -m -w 70000
t -a -t 1.2.3.4:80 -r 10.0.0.2:80 -m -w 65535
t -a -t 1.2.3.4:80 -r 10.0.0.3:80 -m -w -1
t -a -t 1.2.3.4:80 -r 10.0.0.3:80 -m -w abc
t -a -t 1.2.3.4:80 -r 10.0.0.3:80 -m -w 0
t -a -t 1.2.3.4:80 -r 10.0.0.4:80 -m -x 5 -y 10
t -a -t 1.2.3.4:80 -r 10.0.0.4:80 -m -y 10
t -a -t 1.2.3.4:80 -r 10.0.0.4:80 -m -x 10 -y 5
t -a -t 1.2.3.4:80 -r 10.0.0.5 -m
t -a -t 1.2.3.4:80 -r 10.0.0.6:8080 -g
t -a -t 1.2.3.4:80 -r 10.0.0.7:8080 -m
t -a -t 1.2.3.4:80 -r 10.0.0.8:8080 -i
t -a -t 1.2.3.4:80 -r 10.0.0.9 -i --tun-type gue
t -a -t 1.2.3.4:80 -r 10.0.0.9 -i --tun-type gue --tun-port 6080 --tun-csum
t -a -t 1.2.3.4:80 -r 10.0.0.10 -i --tun-type gre --tun-nocsum
t -a -t 1.2.3.4:80 -r 10.0.0.11 -m --tun-type ipip
t -a -t 1.2.3.4:80 -r 224.0.0.1:80 -m
t -a -t 1.2.3.4:80 -r 300.1.1.1:80 -m
t -a -t 1.2.3.4:80 -r 10.0.0.12:99999 -m
t -L -n
t -e -t 1.2.3.4:80 -r 10.0.0.1:80 -w 5
t -L -n -t 1.2.3.4:80
echo "### [section] address, port, flags"
t -A -t 1.2.3.4:0 -s rr
t -A -t 1.2.3.4 -s rr
t -A -t 300.1.1.1:80
t -A -t 1.2.3.4:99999
t -A -t 1.2.3.4:http -s rr
t -A -t 1234 -s rr
t -A -t 1.2.3.20:80 -s wrr -b sh-port
t -A -t 1.2.3.20:80 -s sh -b nosuch
t -A -t 1.2.3.20:80 -s sh -b sh-port,sh-fallback
t -A -t 1.2.3.21:80 -s mh -b mh-port
t -A -t 1.2.3.22:80 -o
t -A -u 1.2.3.22:53 -s rr -o
t -A -f 0 -s rr
t -A -f 1 -s rr
t -A -6 -f 2 -s rr
t -A -f 3 -6 -s rr
t -A -t [2001:db8::1]:80 -s rr
t -A -t 1.2.3.23:80 -M 255.255.255.0
echo "### [section] persistence forms"
t -A -t 1.2.3.5:80 -p
t -A -t 1.2.3.6:80 -p 600
t -A -t 1.2.3.7:80 -p600
t -A -t 1.2.3.8:80 --persistent=600
t -A -t 1.2.3.9:0 -p
t -A -t 1.2.3.10:80 -p 600 -M 255.255.255.0
t -A -t 1.2.3.11:80 -p 0
t -A -t 1.2.3.11:80 -p 2678401
t -A -t 1.2.3.11:80 -p -s rr
t -A -t 1.2.3.12:80 -s rr -p 100 -M 255.255.0.0
t -S -n
t -L -n
t -E -t 1.2.3.12:80 -s rr
t -L -n -t 1.2.3.12:80
echo "### [section] timeouts"
t -L --timeout
t --set 0 0 0
t -L --timeout
t --set 10 20
t --set 100 20 30
t -L --timeout
t --set 0 0 0
t -L --timeout
t --set 100 20 abc
t --set 100 20 2678401
echo "### [section] listings on a populated table"
t
t -L
t -l
t -Ln
t -L -n --stats
t -L -n --stats --exact
t -L -n --rate
t -L -n --rate --exact
t -L -n --thresholds
t -L -n --persistent-conn
t -L -n --tun-info
t -L -n --nosort
t -L -n --sort
t -L -n -c
t -Lnc
t -L -n -c --persistent-conn
t -L --daemon
t -S
t -S -n
t --save -n
echo "### [section] restore"
tin "-A -t 5.5.5.5:80 -s rr
ipvsadm -a -t 5.5.5.5:80 -r 10.0.1.1:80 -m

-a -t 5.5.5.5:80 -r 10.0.1.1:80 -m
-a -t 5.5.5.5:80 -r 10.0.1.2:80 -m -w 2
" -R
t -L -n -t 5.5.5.5:80
tin "-A -t 5.5.5.6:80 -s rr
# comment
-A -t 5.5.5.7:80 -s rr
" -R
tin "-A -t 5.5.5.8:80 -s rr -w 3
-A -t 5.5.5.9:80 -s rr
" -R
t -L -n
echo "### [section] sync daemon"
ip link add d0 type dummy; ip link set d0 multicast on up; ip addr add 10.9.9.9/24 dev d0
t --start-daemon master --mcast-interface d0
t --start-daemon master --mcast-interface d0
t -L --daemon
t --stop-daemon master
t --stop-daemon master
t --start-daemon foo
echo "### [section] zero and clear"
t -Z -t 1.2.3.4:80
t -Z
t -C
t -L -n
t -C
echo "### dmesg | grep IPVS"
dmesg | grep -i ipvs
echo "### end"
