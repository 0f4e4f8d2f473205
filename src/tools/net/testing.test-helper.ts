/** Test helpers: small hosts and a runner that drives the event queue until a tool ends. */
import { Host } from "../../net/host.js";
import { World } from "../../net/world.js";
import { parseIp4, parseMac } from "../../wire/index.js";
import type { Tool } from "../types.js";

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

export function ip4(s: string): number {
  const a = parseIp4(s);
  if (a === undefined) throw new Error(`bad address ${s}`);
  return a;
}

export function mac(s: string): number {
  const m = parseMac(s);
  if (m === undefined) throw new Error(`bad mac ${s}`);
  return m;
}

/** Run `tool` with `argv` on `host`, stepping the world's queue until the promise settles. */
export async function run(host: Host, tool: Tool, argv: string[], opts: { stdin?: string; interrupt?: Promise<"SIGINT" | "SIGTERM"> } = {}): Promise<RunResult> {
  let out = "";
  let err = "";
  const ctx = host.makeContext(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), stdin: opts.stdin }, { interrupt: opts.interrupt });
  let done = false;
  let code = -1;
  const p = tool(ctx).then((c) => {
    done = true;
    code = c;
  });
  const world = host.world;
  while (!done) {
    if (!world.queue.step()) await new Promise(setImmediate);
    else if (world.wakePending) {
      world.wakePending = false;
      await new Promise(setImmediate);
    }
  }
  await p;
  return { code, out, err };
}

/**
 * The seed's director-like host: eth0 192.168.1.186/24 (lan), eth1 192.168.75.131/24,
 * default via 192.168.75.2.
 */
export function director(world = new World()): Host {
  const h = new Host(world, "vip");
  h.addNic("eth0", mac("00:0c:29:d1:a5:01"));
  h.addNic("eth1", mac("00:0c:29:d1:a5:0b"));
  h.addAddress("eth0", ip4("192.168.1.186"), 24);
  h.addAddress("eth1", ip4("192.168.75.131"), 24);
  h.routes.add({ dst: 0, plen: 0, gateway: ip4("192.168.75.2"), dev: "eth1", metric: 0, proto: "boot", scope: "global" });
  const lan = world.addSegment("lan", "switch", 50);
  const wan = world.addSegment("wan", "switch", 50);
  for (const [n, s] of [["eth0", lan], ["eth1", wan]] as const) {
    const nic = h.nics.get(n)!;
    s.attach(nic);
    nic.segment = s;
  }
  return h;
}
