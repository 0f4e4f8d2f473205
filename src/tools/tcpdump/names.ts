/**
 * Name tables tcpdump 4.99.3 prints from (ethertype_values, ipproto_values, the
 * /etc/protocols names compiled into netdb_protoname, tcp_flag_values, the OUI table)
 * and the hook through which a host supplies host and port names when `-n` is absent.
 */

/** What tcpdump asks when it prints names (no `-n`). Every member may answer undefined. */
export interface TcpdumpNames {
  /** gethostbyaddr: a name for an IPv4 address (host order), or undefined → numeric. */
  host?(ip: number): string | undefined;
  /** getservbyport for tcp. */
  tcpPort?(port: number): string | undefined;
  /** getservbyport for udp. */
  udpPort?(port: number): string | undefined;
}

export const ETHERTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0800, "IPv4"], [0x0806, "ARP"], [0x86dd, "IPv6"], [0x8035, "Reverse ARP"],
  [0x8100, "802.1Q"], [0x88a8, "802.1Q-QinQ"], [0x9100, "802.1Q-9100"], [0x9200, "802.1Q-9200"],
  [0x8847, "MPLS unicast"], [0x8848, "MPLS multicast"], [0x88cc, "LLDP"],
  [0x8863, "PPPoE D"], [0x8864, "PPPoE S"], [0x0200, "PUP"], [0x6558, "TEB"],
  [0x8809, "Slow Protocols"], [0x888e, "EAPOL"], [0x88e5, "MACsec"], [0x8137, "IPX"],
  [0x809b, "Appletalk"], [0x80f3, "Appletalk ARP"], [0x6003, "DNA Phase IV"],
  [0x0842, "Wake-on-LAN"], [0x88f7, "PTP"], [0x8902, "CFM"], [0x8906, "FCoE"],
  [0x8914, "FIP"], [0x894f, "NSH"], [0x9000, "Loopback"], [0x88b5, "Experimental"],
]);

/** tcpdump's ipproto_values (the `-v` header's `proto NAME (N)`). */
export const IPPROTO_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "Options"], [1, "ICMP"], [2, "IGMP"], [4, "IPIP"], [6, "TCP"], [8, "EGP"], [9, "IGRP"],
  [17, "UDP"], [33, "DCCP"], [41, "IPv6"], [43, "Routing"], [44, "Fragment"], [46, "RSVP"],
  [47, "GRE"], [50, "ESP"], [51, "AH"], [54, "NHRP"], [55, "Mobile IP"], [58, "ICMPv6"],
  [59, "NONE"], [60, "Destination options"], [88, "EIGRP"], [89, "OSPF"], [103, "PIM"],
  [108, "Compressed IP"], [112, "VRRP"], [113, "PGM"], [132, "SCTP"], [135, "Mobility"],
  [240, "PFSYNC"], [3, "GGP"], [7, "ST"], [12, "PUP"], [77, "ND"], [63, "Local Net"],
  [38, "IDPR-CMTP"], [131, "CARP"],
]);

/** /etc/protocols (Debian netbase) as netdb_protoname knows it: printed without `-n`. */
export const NETDB_PROTO_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "ip"], [1, "icmp"], [2, "igmp"], [3, "ggp"], [4, "ipencap"], [5, "st"], [6, "tcp"],
  [8, "egp"], [9, "igp"], [12, "pup"], [17, "udp"], [20, "hmp"], [22, "xns-idp"], [27, "rdp"],
  [29, "iso-tp4"], [33, "dccp"], [36, "xtp"], [37, "ddp"], [38, "idpr-cmtp"], [41, "ipv6"],
  [43, "ipv6-route"], [44, "ipv6-frag"], [45, "idrp"], [46, "rsvp"], [47, "gre"], [50, "esp"],
  [51, "ah"], [57, "skip"], [58, "ipv6-icmp"], [59, "ipv6-nonxt"], [60, "ipv6-opts"],
  [73, "rspf"], [81, "vmtp"], [88, "eigrp"], [89, "ospf"], [93, "ax.25"], [94, "ipip"],
  [97, "etherip"], [98, "encap"], [103, "pim"], [108, "ipcomp"], [112, "vrrp"], [115, "l2tp"],
  [124, "isis"], [132, "sctp"], [133, "fc"], [135, "mobility-header"], [136, "udplite"],
  [137, "mpls-in-ip"], [138, "manet"], [139, "hip"], [140, "shim6"], [141, "wesp"],
  [142, "rohc"], [143, "ethernet"],
]);

/** A few entries of tcpdump's oui_values (shown as `(oui NAME)` after MACs without `-n`). */
export const OUI_NAMES: ReadonlyMap<number, string> = new Map([
  [0x000000, "Ethernet"], [0x00000c, "Cisco"], [0x0000f8, "Cisco 802.1Q"],
  [0x0080c2, "Ethernet bridged"], [0x00906b, "Cisco"], [0x00e02b, "Extreme"],
  [0x00a0c5, "Zyxel"], [0x000142, "Cisco"],
]);

/** TCP flag letters in print-tcp.c's tcp_flag_values order. */
export const TCP_FLAG_LETTERS: readonly [number, string][] = [
  [0x01, "F"], [0x02, "S"], [0x04, "R"], [0x08, "P"], [0x10, "."], [0x20, "U"], [0x40, "E"], [0x80, "W"],
];
