/**
 * The drop reasons the simulator traces (src/net/host.ts), said in plain words for a
 * student: what rule dropped the packet and why it applied. A reason no rule knows is
 * shown as traced.
 */

export interface DropRule {
  /** A short name of the rule (stable: tools and tests use it). */
  readonly rule: string;
  readonly plain: string;
}

const RULES: { re: RegExp; rule: string; plain: (m: RegExpExecArray) => string }[] = [
  {
    re: /^rp_filter=(\d) on (\S+): source (\S+) fails the reverse path check \((.*)\)$/,
    rule: "rp_filter",
    plain: (m) => {
      const mode = m[1] === "1" ? "strict" : "loose";
      const back = /the route back leaves by (\S+)/.exec(m[4]!);
      if (back) {
        return `rp_filter=${m[1]} (${mode} reverse-path filtering) on ${m[2]} wants the route back to the source ${m[3]} to leave by ${m[2]}, but it leaves by ${back[1]}`;
      }
      return `rp_filter=${m[1]} (${mode} reverse-path filtering) on ${m[2]} found no route back to the source ${m[3]}`;
    },
  },
  {
    re: /^TCP segment from (\S+) to (\S+) matches no socket here; answered with RST$/,
    rule: "no-socket",
    plain: (m) => `no connection or listening socket expects a segment from ${m[1]} to ${m[2]}, so TCP answers it with a RST`,
  },
  {
    re: /^martian source (\S+) on (\S+)(.*)$/,
    rule: "martian",
    plain: (m) => `the source ${m[1]} is impossible on ${m[2]}${m[3] ? " " + m[3].trim() : ""} (a "martian" source)`,
  },
  {
    re: /^not addressed to (\S+) and net\.ipv4\.ip_forward is 0$/,
    rule: "ip_forward",
    plain: (m) => `the packet is not for ${m[1]}, and ${m[1]} does not route other hosts' packets (net.ipv4.ip_forward=0)`,
  },
  { re: /^no route to (\S+)/, rule: "no-route", plain: (m) => `there is no route to ${m[1]}` },
  { re: /^TTL expired in transit$/, rule: "ttl", plain: () => "its TTL ran out" },
  {
    re: /^(\d+)-byte packet with DF does not fit the MTU (\d+) of (\S+): ICMP fragmentation needed \(mtu \d+\) to (\S+)$/,
    rule: "mtu",
    plain: (m) => `the packet (${m[1]} bytes) is larger than ${m[3]}'s MTU of ${m[2]} bytes and says "don't fragment", ` +
      `so it was dropped and ${m[4]} was told "fragmentation needed (mtu ${m[2]})"`,
  },
  {
    re: /^IPVS: (\d+)-byte packet with DF does not fit the tunnel to (\S+) \(route MTU (\d+) − (\d+) bytes of outer (IPIP header|IPv4 and GRE headers|IPv4, UDP and GUE headers) = (\d+)\): ICMP fragmentation needed \(mtu \d+\) to (\S+)$/,
    rule: "ipvs-tunnel-mtu",
    plain: (m) => `the ${m[5] === "IPIP header" ? "IPIP" : m[5]!.includes("GRE") ? "GRE" : "GUE"} tunnel to ${m[2]} adds ${m[5] === "IPIP header" ? `a ${m[4]}-byte header` : `${m[4]} bytes of headers (${m[5]!.replace(/ headers$/, "")})`}, so only ${m[6]} of the route's ${m[3]}-byte MTU are left; ` +
      `the packet (${m[1]} bytes) says "don't fragment", so IPVS dropped it and told ${m[7]} "fragmentation needed (mtu ${m[6]})"`,
  },
  {
    re: /^IPVS: (\d+)-byte packet with DF does not fit the route to real server (\S+) \(MTU (\d+)\): ICMP fragmentation needed \(mtu \d+\) to (\S+)$/,
    rule: "ipvs-mtu",
    plain: (m) => `the packet (${m[1]} bytes) is larger than the MTU ${m[3]} of the route to the real server ${m[2]} and says "don't fragment", ` +
      `so IPVS dropped it and told ${m[4]} "fragmentation needed (mtu ${m[3]})"`,
  },
  {
    re: /^ARP for (\S+) on (\S+) got no answer$/,
    rule: "arp-failed",
    plain: (m) => `nobody answered the ARP request for the next hop ${m[1]} on ${m[2]}`,
  },
  { re: /^dropped by iptables (.*)$/, rule: "iptables", plain: (m) => `the iptables rule ${m[1]} matched it` },
  {
    re: /^IPVS: ipvs-pe-sip-no-call-id$/,
    rule: "ipvs-pe-sip",
    plain: () => "the service keeps calls together by SIP Call-ID (--pe sip), and this datagram has none IPVS can read " +
      "(a Call-ID or i: header after the first line, at most 255 characters, ending its line; TCP never has one), " +
      "so IPVS dropped it without an answer and without counting it",
  },
  { re: /^IPVS: (.*)$/, rule: "ipvs", plain: (m) => `IPVS dropped it: ${m[1]}` },
  {
    re: /^ARP request for (\S+) from (\S+) not answered on (\S+) \(arp_ignore\)$/,
    rule: "arp_ignore",
    plain: (m) => `arp_ignore keeps ${m[3]} from answering ARP for ${m[1]}`,
  },
  { re: /^UDP port (\d+) unreachable$/, rule: "udp-port", plain: (m) => `nothing listens on UDP port ${m[1]}` },
  {
    re: /^IPIP packet but tunl0 is down/,
    rule: "tunl0-down",
    plain: () => "an IPIP packet arrived but tunl0 is down, so no tunnel takes it",
  },
  {
    re: /^(GRE|GUE \(UDP port \d+\)|FOU \(UDP port \d+\)) packet but (\S+) is down/,
    rule: "tunnel-down",
    plain: (m) => `a ${m[1]} packet arrived but ${m[2]} is down, so no tunnel takes it`,
  },
  {
    re: /^GRE checksum is wrong$/,
    rule: "gre-csum",
    plain: () => "the GRE header's checksum is wrong, so gre0 dropped the packet",
  },
  {
    re: /^no handler for IP protocol (\d+)$/,
    rule: "protocol",
    plain: (m) => `nothing here handles IP protocol ${m[1]}${m[1] === "4" ? " (for IPIP: modprobe ipip)" : m[1] === "47" ? " (for GRE: modprobe ip_gre)" : ""}`,
  },
];

export function explainDrop(reason: string): DropRule {
  for (const r of RULES) {
    const m = r.re.exec(reason);
    if (m) return { rule: r.rule, plain: r.plain(m) };
  }
  return { rule: "other", plain: reason };
}
