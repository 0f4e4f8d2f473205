/**
 * The real keepalived's configuration test (`keepalived -t -f FILE`) on an exported
 * keepalived.conf. keepalived checks that the interfaces a vrrp_instance and its
 * virtual_ipaddress name exist, so the test runs in a network namespace of its own that has
 * them (veth pairs: the kernel here has no dummy links). keepalived 2.2.7's -t exits 0 only
 * when the parser reported nothing at all: a warning counts as an error (exit 5).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function sh(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
  return { code: r.status ?? -1, out: (r.stdout ?? "") + (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

const KEEPALIVED = ["/usr/sbin/keepalived", "/usr/bin/keepalived", "/usr/local/sbin/keepalived"].find((p) => existsSync(p));

/** Why keepalived -t cannot run here (one line), or undefined. */
export function keepalivedSkipReason(): string | undefined {
  if (process.platform !== "linux") return "keepalived -t runs on Linux";
  if (process.getuid?.() !== 0) return "keepalived -t needs root (a network namespace with the config's interfaces)";
  if (!KEEPALIVED) return "keepalived is not installed (.ci/run installs it)";
  if (sh("ip", ["-V"]).code !== 0) return "iproute2 (ip) is not installed";
  return undefined;
}

/** `keepalived --version`'s first line, e.g. "Keepalived v2.2.7 (01/16,2022)". */
export function keepalivedVersion(): string {
  return sh(KEEPALIVED!, ["--version"]).out.split("\n")[0]!.trim();
}

/** The interfaces a config names (`interface X`, `dev X`, lvs_sync_daemon's). */
export function configInterfaces(conf: string): string[] {
  const names = new Set<string>();
  for (const line of conf.split("\n")) {
    const l = line.replace(/#.*/, "");
    for (const m of l.matchAll(/\b(?:interface|dev)\s+(\S+)/g)) names.add(m[1]!);
    const sync = /^\s*lvs_sync_daemon\s+(\S+)/.exec(l);
    if (sync) names.add(sync[1]!);
  }
  return [...names].sort();
}

/** Run `keepalived -t -f FILE` on `conf` in a fresh namespace; code 0 and no output = accepted. */
export function keepalivedTest(conf: string, tag: string): { code: number; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "lvslab-keepalived-"));
  const ns = `lvsk-${process.pid}-${tag}`.slice(0, 40);
  const file = join(dir, "keepalived.conf");
  writeFileSync(file, conf);
  try {
    const made = sh("ip", ["netns", "add", ns]);
    if (made.code !== 0) return { code: -1, out: `ip netns add ${ns}: ${made.out}` };
    configInterfaces(conf).forEach((name, i) => {
      const r = sh("ip", ["-n", ns, "link", "add", name, "type", "veth", "peer", "name", `lvskp${i}`]);
      if (r.code !== 0) throw new Error(`cannot create ${name} in ${ns}: ${r.out}`);
    });
    return sh("ip", ["netns", "exec", ns, KEEPALIVED!, "-t", "-f", file]);
  } finally {
    sh("ip", ["netns", "del", ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}
