#!/bin/sh
# Golden fixture "pe-sip": the sip persistence engine (ip_vs_pe_sip) on real Linux 6.1
# (kernel-oracle): a UDP service on 192.168.75.131:5060, rr, -p 60 --pe sip, NAT to both
# real servers. The client sends SIP-like datagrams, each from a new source port: the same
# Call-ID must reach the same real server; a new Call-ID is scheduled anew; a datagram with
# no Call-ID (or not followed by a line end) is dropped. Prints /proc/net/ip_vs_conn,
# ipvsadm -L -n -c and --stats, and what each real server received (by Call-ID).
. /oracle-lib.sh
seed_lab
on vip sysctl -qw net.ipv4.ip_forward=1
modprobe ip_vs_pe_sip
on vip ipvsadm -A -u 192.168.75.131:5060 -s rr -p 60 --pe sip
on vip ipvsadm -a -u 192.168.75.131:5060 -r 192.168.1.185:5060 -m
on vip ipvsadm -a -u 192.168.75.131:5060 -r 192.168.1.190:5060 -m
for h in rs1 rs2; do on $h tcpdump -nn -i eth0 -A -l udp port 5060 > /tmp/$h.tcpdump 2>/dev/null & done
sleep 2
send() { # send TAG TEXT: the text (printf escapes) as one datagram from a new source port
  echo "send $1"
  on client perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(PeerAddr => "192.168.75.131:5060", Proto => "udp") or die; my $m = $ARGV[0]; $m =~ s/\\r/\r/g; $m =~ s/\\n/\n/g; $s->send($m) or die' "$2"
  sleep 0.3
}
send 1-A-invite 'INVITE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.75.150:5060\r\nCall-ID: call-A@client\r\nCSeq: 1 INVITE\r\n\r\n'
send 2-B-invite 'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.75.150:5060\r\nCall-ID: call-B@client\r\nCSeq: 1 INVITE\r\n\r\n'
send 3-A-ack 'ACK sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.75.150:5060\r\nCall-ID: call-A@client\r\nCSeq: 1 ACK\r\n\r\n'
send 4-B-compact 'BYE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.75.150:5060\r\ni: call-B@client\r\nCSeq: 2 BYE\r\n\r\n'
send 5-C-lower 'OPTIONS sip:carol@example.com SIP/2.0\r\ncall-id:   call-C@client\r\n\r\n'
send 6-none 'OPTIONS sip:carol@example.com SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n'
send 7-no-eol 'OPTIONS sip:dave@example.com SIP/2.0\r\nCall-ID: call-D@client'
send 8-short-first-line 'X sip:a SIP/2.0\r\nCall-ID: call-E@client\r\n\r\n'
send 9-A-upper 'MESSAGE sip:alice@example.com SIP/2.0\r\nCALL-ID:call-A@client\r\n\r\n'
send 10-F-semicolon 'INFO sip:frank@example.com SIP/2.0\r\nCall-ID: call-F@client;x\r\n\r\n'
sleep 2
echo "### /proc/net/ip_vs_conn"; on vip cat /proc/net/ip_vs_conn | sort
echo "### ipvsadm -L -n -c"; on vip ipvsadm -L -n -c | sort
echo "### ipvsadm -L -n -c --persistent-conn"; on vip ipvsadm -L -n -c --persistent-conn | sort
echo "### ipvsadm -L -n --persistent-conn"; on vip ipvsadm -L -n --persistent-conn
sleep 2
echo "### ipvsadm -L -n --stats"; on vip ipvsadm -L -n --stats
pkill tcpdump; sleep 1
for h in rs1 rs2; do echo "### $h received (Call-ID lines)"; grep -a -o -E "(INVITE|ACK|BYE|OPTIONS|MESSAGE|INFO|X) sip:[a-z@.]*" /tmp/$h.tcpdump; done
echo "### dmesg"; dmesg | grep -i -E "IPVS|sip" | sed 's/^\[[ 0-9.]*\] //'
