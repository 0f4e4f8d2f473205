#!/bin/sh
# Golden fixture "thresholds": upper/lower connection thresholds (-x/-y) and the OVERLOAD
# flag on real Linux 6.1 (kernel-oracle), seed LVS-NAT lab. UDP services on 192.168.75.131,
# NAT to port 9 of rs1 (192.168.1.185) and rs2 (192.168.1.190), where nothing listens: every
# datagram the client sends (bash's /dev/udp, a new source port each time) is a new IPVS
# connection entry (UDP entries count as inactive), whatever the real server answers.
# A datagram that finds no destination creates no entry, so the counts show what the
# scheduler did. "c PORT" prints each dest's ActiveConn/InActConn of that service.
#   sched   every 6.1 scheduler, rs1 -x 1 (added first) and rs2 -x 2 (added second),
#           weight 1: 4 datagrams
#   edit    thresholds edited with connections in place (-e -x ...), a datagram after each
#   persist a persistent service: a template's dest is used even when OVERLOAD
#   hyst    udp timeout 10 s: entries expire one by one; overloaded at -x 4, cleared below
#           the lower threshold (0 => 3/4 of the upper)
#   list    --thresholds, -L -n and -S with thresholds
. /oracle-lib.sh
set -u
seed_lab
on vip sysctl -q -w net.ipv4.ip_forward=1
V=192.168.75.131
R1=192.168.1.185:9
R2=192.168.1.190:9
up() { cut -d' ' -f1 /proc/uptime; }
u() { on client bash -c "echo x >/dev/udp/$V/$1"; }
c() { on vip ipvsadm -L -n -u $V:$1 | awk -v p="$1" '$1 == "->" && $2 != "RemoteAddress:Port" { printf " %s=%s/%s", $2, $5, $6 } END { print "" }'; }
port=100
echo "### sched"
for s in rr wrr lc wlc sed nq fo ovf sh dh mh lblc lblcr; do
  port=$((port + 1))
  on vip ipvsadm -A -u $V:$port -s $s
  on vip ipvsadm -a -u $V:$port -r $R1 -m -x 1
  on vip ipvsadm -a -u $V:$port -r $R2 -m -x 2
  printf '%s:' $s
  for i in 1 2 3 4; do u $port; printf ' %d:' $i; c $port | tr -d '\n'; done
  echo
done
echo "### sched-thresholds-listing"
on vip ipvsadm -L -n --thresholds -u $V:101
echo "### edit"
on vip ipvsadm -A -u $V:201 -s rr
on vip ipvsadm -a -u $V:201 -r $R1 -m
for i in 1 2 3; do u 201; done
echo "3 sent:$(c 201)"
on vip ipvsadm -e -u $V:201 -r $R1 -m -x 2
u 201; echo "-x 2, 1 sent:$(c 201)"
on vip ipvsadm -e -u $V:201 -r $R1 -m -x 10
u 201; echo "-x 10, 1 sent:$(c 201)"
on vip ipvsadm -A -u $V:202 -s rr
on vip ipvsadm -a -u $V:202 -r $R1 -m -x 4
for i in 1 2 3 4 5; do u 202; done
echo "-x 4, 5 sent:$(c 202)"
on vip ipvsadm -e -u $V:202 -r $R1 -m -x 5
u 202; echo "-x 5, 1 sent:$(c 202)"
on vip ipvsadm -e -u $V:202 -r $R1 -m -x 6 -y 2
u 202; echo "-x 6 -y 2, 1 sent:$(c 202)"
on vip ipvsadm -e -u $V:202 -r $R1 -m -x 0
u 202; echo "-x 0, 1 sent:$(c 202)"
on vip ipvsadm -e -u $V:202 -r $R1 -m -x 3 -y 1
u 202; echo "-x 3 -y 1, 1 sent:$(c 202)"
echo "### persist"
on vip ipvsadm -A -u $V:203 -s rr -p 60
on vip ipvsadm -a -u $V:203 -r $R1 -m -x 2
on vip ipvsadm -a -u $V:203 -r $R2 -m -x 2
for i in 1 2 3 4; do u 203; done
echo "4 sent:$(c 203)"
on vip ipvsadm -L -n --persistent-conn -u $V:203
echo "### hyst"
on vip ipvsadm --set 0 0 10
on vip ipvsadm -A -u $V:204 -s rr
on vip ipvsadm -a -u $V:204 -r $R1 -m -x 4
t0=$(up)
el() { echo "$(up) $t0" | awk '{ printf "%.2f", $1 - $2 }'; }
at() { # at SECONDS: wait until t0 + SECONDS
  while [ "$(echo "$(up) $t0 $1" | awk '{ print ($1 < $2 + $3) }')" = 1 ]; do sleep 0.1; done
}
at 0; u 204; echo "t+0 1 sent:$(c 204) [$(el)]"
at 3; u 204; echo "t+3 1 sent:$(c 204) [$(el)]"
at 5; u 204; u 204; echo "t+5 2 sent:$(c 204) [$(el)]"
at 6; u 204; echo "t+6 1 sent:$(c 204) [$(el)]"
at 11; echo "t+11:$(c 204) [$(el)]"
u 204; echo "t+11 1 sent:$(c 204) [$(el)]"
at 14; echo "t+14:$(c 204) [$(el)]"
u 204; echo "t+14 1 sent:$(c 204) [$(el)]"
u 204; echo "t+14 1 sent:$(c 204) [$(el)]"
echo "ended at $(el)"
echo "### list"
on vip ipvsadm -L -n --thresholds
on vip ipvsadm -L -n -u $V:202
on vip ipvsadm -S -n
