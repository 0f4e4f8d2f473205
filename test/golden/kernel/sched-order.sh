#!/bin/sh
# Golden fixture "sched-order": which real server each of N sequential client requests
# reaches, per IPVS scheduler, on real Linux 6.1 (kernel-oracle), LVS-NAT.
# Topology: seed_lab + a third real server rs3 192.168.1.191 (lan, gw 192.168.1.186).
# Each rs serves /id = "rs1" / "rs2" / "rs3". Each case uses its own service port on the
# VIP 192.168.75.131 (fresh service, no reused dests), dests added in the order listed in
# the case header (the kernel keeps them newest-first: see the -L -n listing per case).
# Sequential curls => earlier connections are in TIME_WAIT (inactive), none active.
# sh/mh cases use 8 client addresses 192.168.75.150-157 (curl --interface).
# Last case "wlc-overhead-probe" tells the classic (256*act+inact) from the newer
# (256*act+act+inact) overhead: rs2 w1 added, rs1 w256 added; 1st conn held open (busybox
# nc) -> rs1 active; 2nd curl -> rs2 (inactive 1); 3rd curl: classic => rs1, newer => rs2.
. /oracle-lib.sh
set -u
seed_lab
ip netns add rs3; ip -n rs3 link set lo up; _port rs3 eth0 lan
ip -n rs3 addr add 192.168.1.191/24 dev eth0; ip -n rs3 route add default via 192.168.1.186
mkdir -p /tmp/rs3; echo "3333333333333rs3" > /tmp/rs3/index.html
for h in rs1 rs2 rs3; do echo $h > /tmp/$h/id; web $h; done
on vip sysctl -q -w net.ipv4.ip_forward=1
for i in 1 2 3 4 5 6 7; do ip -n client addr add 192.168.75.15$i/24 dev eth0; done
V=192.168.75.131
P=9000
# case NAME SCHED "DESTSPEC..." N [extra -A args]; DESTSPEC = host:weight in add order
case_() {
  name=$1; sched=$2; dests=$3; n=$4; shift 4
  P=$((P+1))
  echo "### case $name: -s $sched $* ; add order (host:weight) $dests ; port $P"
  on vip ipvsadm -A -t $V:$P -s $sched "$@"
  for d in $dests; do
    h=${d%%:*}; w=${d##*:}
    case $h in rs1) a=192.168.1.185;; rs2) a=192.168.1.190;; rs3) a=192.168.1.191;; esac
    on vip ipvsadm -a -t $V:$P -r $a:80 -m -w $w
  done
  on vip ipvsadm -L -n -t $V:$P
  echo "--- sequence"
  on client sh -c "for i in \$(seq $n); do curl -s -m 3 $V:$P/id || echo FAIL; done" | tr '\n' ' '; echo
}
# bysrc NAME SCHED "DESTSPEC" [extra]: one request from each of 192.168.75.150..157, twice
bysrc() {
  name=$1; sched=$2; dests=$3; shift 3
  case_ "$name" "$sched" "$dests" 0 "$@"
  for r in 1 2; do
    for i in 0 1 2 3 4 5 6 7; do
      printf '192.168.75.15%s=%s ' $i "$(on client curl -s -m 3 --interface 192.168.75.15$i $V:$P/id)"
    done; echo
  done
}
case_ rr rr "rs1:1 rs2:1 rs3:1" 9
case_ rr-weight0 rr "rs1:1 rs2:0 rs3:1" 6
case_ wrr-432 wrr "rs1:2 rs2:3 rs3:4" 18
case_ wrr-seed wrr "rs1:1 rs2:2" 6
case_ wrr-246 wrr "rs1:6 rs2:4 rs3:2" 12
case_ lc lc "rs1:1 rs2:1 rs3:1" 9
case_ wlc wlc "rs1:1 rs2:2 rs3:3" 12
case_ sed sed "rs1:1 rs2:2 rs3:3" 6
case_ nq nq "rs1:1 rs2:2 rs3:3" 6
case_ fo fo "rs1:1 rs2:3 rs3:2" 4
case_ ovf ovf "rs1:1 rs2:3 rs3:2" 4
case_ dh dh "rs1:1 rs2:1 rs3:1" 4
case_ lblc lblc "rs1:1 rs2:1 rs3:1" 4
case_ lblcr lblcr "rs1:1 rs2:1 rs3:1" 4
case_ sh-port sh "rs1:1 rs2:1 rs3:1" 9 -b sh-port
bysrc sh sh "rs1:1 rs2:1 rs3:1"
bysrc sh-weighted sh "rs1:1 rs2:2 rs3:3"
bysrc mh mh "rs1:1 rs2:1 rs3:1"
bysrc mh-weighted mh "rs1:1 rs2:2 rs3:3"
echo "### case fo-after-weight0: fo case with rs2 set to weight 0"
on vip ipvsadm -e -t $V:9010 -r 192.168.1.190:80 -m -w 0
on client sh -c "for i in 1 2 3; do curl -s -m 3 $V:9010/id; done" | tr '\n' ' '; echo
echo "### case wlc-overhead-probe: -s wlc ; add order rs2:1 rs1:256"
P=9100
on vip ipvsadm -A -t $V:$P -s wlc
on vip ipvsadm -a -t $V:$P -r 192.168.1.190:80 -m -w 1
on vip ipvsadm -a -t $V:$P -r 192.168.1.185:80 -m -w 256
(sleep 30 | on client busybox nc $V $P >/dev/null 2>&1 &) ; sleep 2
on vip ipvsadm -L -n -t $V:$P
echo "--- 2nd request"; on client curl -s -m 3 $V:$P/id
on vip ipvsadm -L -n -t $V:$P
echo "--- 3rd request"; on client curl -s -m 3 $V:$P/id
on vip ipvsadm -L -n -t $V:$P
on vip ipvsadm -L -n -c | grep ":$P "
echo "### ipvsadm -L -n (all)"
on vip ipvsadm -L -n
echo "### end"
