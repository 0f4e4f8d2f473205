#!/bin/sh
# Golden fixture "rate": the IPVS statistics and rate estimator of real Linux 6.1
# (kernel-oracle), seed LVS-NAT lab, -t 192.168.75.131:80 -s rr with rs1 then rs2 (-m).
# The counters shown by `ipvsadm --stats` and /proc/net/ip_vs_stats are the ones the
# estimator summed at its last 2 s tick, so every listing between two ticks shows one tick's
# state. "watch N" polls /proc/net/ip_vs_stats for N seconds and, each time it changes (a
# tick), prints "### tick T" (T = /proc/uptime), the totals, `--stats --exact` and
# `--rate --exact`; "(torn)" follows when a tick came during those listings (then the
# listings mix two ticks). Sections:
#   load   a client loop of curl requests (HTTP GETs of index.html, new connection each)
#   decay  no traffic: the averages fall by 1/4 each tick
#   lag    one request right after a tick: the listing before the next tick still shows the old counters
#   zero   -Z between two ticks, then the next tick
#   noest  run_estimation=0: counters and rates freeze; back to 1
#   plain  the listings without --exact
. /oracle-lib.sh
set -u
seed_lab; web rs1; web rs2
on vip sysctl -q -w net.ipv4.ip_forward=1
V=192.168.75.131
on vip ipvsadm -A -t $V:80 -s rr
on vip ipvsadm -a -t $V:80 -r 192.168.1.185:80 -m
on vip ipvsadm -a -t $V:80 -r 192.168.1.190:80 -m
up() { cut -d' ' -f1 /proc/uptime; }
tot() { on vip cat /proc/net/ip_vs_stats; }
lists() { on vip ipvsadm -L -n --stats --exact; on vip ipvsadm -L -n --rate --exact; }
watch() { # watch SECONDS
  end=$(( $(up | cut -d. -f1) + $1 )); prev=$(tot)
  while [ "$(up | cut -d. -f1)" -lt "$end" ]; do
    cur=$(tot)
    if [ "$cur" != "$prev" ]; then
      echo "### tick $(up)"; echo "$cur"; lists
      prev=$(tot); [ "$prev" = "$cur" ] || echo "(torn)"
    fi
    sleep 0.1
  done
}
wait_tick() { prev=$(tot); while [ "$(tot)" = "$prev" ]; do sleep 0.05; done; }
echo "### start $(up)"
tot; lists
echo "### load"
( for i in $(seq 60); do on client curl -s -o /dev/null $V/; sleep 0.2; done ) &
LOAD=$!
watch 24
kill $LOAD 2>/dev/null; wait $LOAD 2>/dev/null
echo "### decay"
watch 22
echo "### lag"
wait_tick
echo "tick at $(up)"
on client curl -s -o /dev/null $V/
echo "request done at $(up)"
lists
wait_tick
echo "next tick at $(up)"
lists
echo "### zero"
wait_tick
echo "tick at $(up)"
on client curl -s -o /dev/null $V/
on vip ipvsadm -Z
echo "zeroed at $(up)"
tot; lists
wait_tick
echo "next tick at $(up)"
tot; lists
wait_tick
echo "tick after at $(up)"
tot; lists
echo "### noest"
on vip sysctl -w net.ipv4.vs.run_estimation=0
s0=$(up)
on client curl -s -o /dev/null $V/
sleep 5
echo "5 s later: $(up) (from $s0)"
tot; lists
on vip sysctl -w net.ipv4.vs.run_estimation=1
wait_tick
echo "first tick after re-enabling at $(up)"
tot; lists
echo "### plain"
on vip ipvsadm -L -n --stats
on vip ipvsadm -L -n --rate
on vip ipvsadm -L --stats
echo "### end $(up)"
