/**
 * FullNAT local addresses (an lvslab extension, as Alibaba's LVS-FullNAT and DPVS have it;
 * mainline IPVS has no FullNAT).
 *
 * Each virtual service owns a list of local addresses (`ipvsadm --add-laddr`), oldest first
 * (list_add_tail in Alibaba's ip_vs_add_laddr). A new FullNAT connection takes the next one
 * round-robin (ip_vs_get_laddr: the entry after svc->curr_laddr) and a local port from that
 * address's counter: port = lport_min + (++counter % (lport_max - lport_min + 1)), tried up
 * to lport_tries times until (rip, rport, laddr, lport) is free (ip_vs_hbind_laddr). Every
 * taken port counts a conflict; when all tries collide, the connection is not created
 * ("bind local address: no port available").
 *
 * The out-side index (Alibaba hashes every entry a second time by raddr/rport/laddr/lport)
 * is a map keyed by laddr:lport whose buckets hold connection rows; it is consulted only for
 * packets addressed to one of the director's own local addresses.
 */
import type { Ip4 } from "./api.js";
import type { ConnTable } from "./conn.js";

export class Laddr {
  /** atomic64 port counter (starts at 0, so the first port is lport_min + 1). */
  port = 0;
  /** Ports found taken while allocating (the CONFLICTS column). */
  portConflict = 0;
  /** Connections bound to this address (the CONNS column). */
  connCounts = 0;
  constructor(readonly addr: Ip4) {}
}

/** Per-connection FullNAT state (struct ip_vs_conn's laddr/lport and fnat_seq). */
export interface FnatConn {
  readonly laddr: Laddr;
  readonly lport: number;
  /** The director's ISN towards the real server (0 until the client's SYN is seen). */
  initSeq: number;
  /** seq(director -> rs) = seq(client) + delta (mod 2^32). */
  delta: number;
  /** The real server's ISN + 1, from its SYN-ACK (0 before). */
  fdataSeq: number;
  /** PROXY protocol version to insert before the first data (DPVS), 0 for none (TOA instead). */
  pp: 0 | 1 | 2;
}

export interface LaddrPool {
  list: Laddr[];
  /** Index of svc->curr_laddr (-1: the list head). */
  curr: number;
}

export interface PortRange {
  min: number;
  max: number;
  tries: number;
}

const key = (addr: Ip4, port: number): number => (addr >>> 0) * 65536 + port;

export class FnatTable {
  private readonly byRow = new Map<number, FnatConn>();
  private readonly out = new Map<number, number[]>();
  get size(): number {
    return this.byRow.size;
  }

  get(row: number): FnatConn | undefined {
    return this.byRow.get(row);
  }

  /** ip_vs_get_laddr: round robin from the entry after the current one. */
  static next(pool: LaddrPool): Laddr | undefined {
    const n = pool.list.length;
    if (n === 0) return undefined;
    pool.curr = (pool.curr + 1) % n;
    return pool.list[pool.curr];
  }

  /**
   * ip_vs_hbind_laddr for one FullNAT connection row: a free local port on `la` towards
   * (rip, rport), or undefined when lport_tries candidates were all taken.
   */
  bind(tab: ConnTable, row: number, la: Laddr, r: PortRange): FnatConn | undefined {
    const remaining = r.max - r.min + 1;
    const proto = tab.proto[row]!, daddr = tab.daddr[row]!, dport = tab.dport[row]!;
    for (let i = 0; i < r.tries; i++) {
      la.port++;
      const lport = r.min + (la.port % remaining);
      const k = key(la.addr, lport);
      const bucket = this.out.get(k);
      let hit = false;
      if (bucket) {
        for (const j of bucket) {
          if (tab.daddr[j] === daddr && tab.dport[j] === dport && tab.proto[j] === proto) {
            hit = true;
            break;
          }
        }
      }
      if (hit) {
        la.portConflict++;
        continue;
      }
      const fc: FnatConn = { laddr: la, lport, initSeq: 0, delta: 0, fdataSeq: 0, pp: 0 };
      this.byRow.set(row, fc);
      if (bucket) bucket.push(row);
      else this.out.set(k, [row]);
      la.connCounts++;
      return fc;
    }
    return undefined;
  }

  /** ip_vs_unbind_laddr (and the out-side unhash). */
  release(row: number): void {
    const fc = this.byRow.get(row);
    if (fc === undefined) return;
    this.byRow.delete(row);
    fc.laddr.connCounts--;
    const k = key(fc.laddr.addr, fc.lport);
    const bucket = this.out.get(k);
    if (bucket) {
      const i = bucket.indexOf(row);
      if (i >= 0) bucket.splice(i, 1);
      if (bucket.length === 0) this.out.delete(k);
    }
  }

  /** The out-side lookup: a reply rip:rport -> laddr:lport. */
  outLookup(tab: ConnTable, proto: number, saddr: Ip4, sport: number, daddr: Ip4, dport: number): number {
    const bucket = this.out.get(key(daddr, dport));
    if (bucket === undefined) return -1;
    for (const j of bucket) if (tab.daddr[j] === saddr && tab.dport[j] === sport && tab.proto[j] === proto) return j;
    return -1;
  }
}
