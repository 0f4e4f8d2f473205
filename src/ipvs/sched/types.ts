/**
 * The scheduler contract (net/netfilter/ipvs/ip_vs_sched.c): a scheduler is registered
 * by name and bound to one service; it picks a dest for a new connection and may keep
 * per-service state that dest add/delete/edit callbacks maintain.
 */
import type { Micros } from "../../sim/clock.js";
import type { Dest, Service } from "../service.js";

/** What a scheduler may know about the packet being scheduled. */
export interface SchedPacket {
  proto: number;
  saddr: number;
  daddr: number;
  sport: number;
  dport: number;
}

/** What a scheduler may know about the engine. */
export interface SchedEnv {
  /** [classic] kernel behaviour (sh/dh hashing, lblc/lblcr table bounds). */
  readonly classic: boolean;
  /**
   * Overhead without totalconns: 256*active + inactive (Linux 6.1 as recorded in the
   * real-kernel goldens); false: 256*active + total ("ipvs: add totalconns for dest").
   */
  readonly classicOverhead: boolean;
  now(): Micros;
  random(): number;
  /** Integer sysctl value (e.g. lblc_expiration). */
  sysctl(name: string): number;
}

/**
 * Result of schedule(): the dest, or the failure message for the kernel log
 * ("no destination available"; "" = fail without logging).
 */
export type SchedResult = Dest | string;

export interface Scheduler {
  schedule(svc: Service, p: SchedPacket): SchedResult;
  /** After the dest was put at the head of svc.dests. */
  addDest?(svc: Service, dest: Dest): void;
  /** After the dest was removed; `index` is where it was in svc.dests. */
  delDest?(svc: Service, dest: Dest, index: number): void;
  /** After an edit (-e) of the dest. */
  updDest?(svc: Service, dest: Dest): void;
  /** Periodic work (lblc/lblcr garbage collection); returns when it next wants to run. */
  poll?(now: Micros): Micros | undefined;
}

export interface SchedulerType {
  readonly name: string;
  init(svc: Service, env: SchedEnv): Scheduler;
}

export const NO_DEST = "no destination available";

/**
 * ip_vs_dest_conn_overhead: [classic] activeconns*256 + inactconns; [current]
 * activeconns*256 + totalconns.
 */
export function overhead(d: Dest, classic: boolean): number {
  return d.activeConns * 256 + (classic ? d.inactConns : d.activeConns + d.inactConns);
}
