/**
 * Helpers for the real-mode tests: they run the real `lvslab` command as root against
 * Linux network namespaces. Each test process keeps its labs' state in its own directory
 * (LVSLAB_STATE_DIR), so its namespace names differ from a user's labs of the same name
 * and from the simulator's `lvslab exec` in other test files.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { repoPath } from "./helpers.js";
import { labId } from "../src/real/netns.js";

export const MAIN = repoPath("dist", "src", "cli", "main.js");
export const STATE_DIR = `/run/lvslab-test-${process.pid}`;
export const ENV = { ...process.env, LVSLAB_STATE_DIR: STATE_DIR };

function has(prog: string): boolean {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"].some((d) => existsSync(join(d, prog)));
}

/** Why the real-mode tests cannot run here (one line), or undefined. */
export function realSkipReason(needs: string[] = ["ip", "nginx", "curl"]): string | undefined {
  if (process.platform !== "linux") return "real mode needs Linux";
  if (process.getuid?.() !== 0) return "real mode needs root (network namespaces)";
  for (const p of needs) if (!has(p)) return `real mode tests need ${p} (not installed)`;
  return undefined;
}

export interface Run {
  code: number;
  out: string;
  err: string;
}

export function lvslab(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: repoPath(), encoding: "utf8", timeout: opts.timeoutMs ?? 60_000, env: opts.env ?? ENV });
  return { code: r.status ?? -1, out: r.stdout ?? "", err: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

export function sh(cmd: string, args: string[], timeoutMs = 20_000): Run {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
  return { code: r.status ?? -1, out: r.stdout ?? "", err: r.stderr ?? "" };
}

export function namespaces(): string[] {
  return sh("ip", ["netns", "list"]).out.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n !== "");
}

/** The namespace prefix (`lvs-<id>`) a lab that is up uses, from its journal. */
export function labPrefix(lab: string): string {
  const j = readFileSync(join(STATE_DIR, lab, "journal"), "utf8").split("\n")[0]!;
  return `lvs-${(JSON.parse(j) as { id: string }).id}`;
}

/**
 * Interfaces of the namespace the tests run in that `up` could have made: named as its
 * bridge ports and bridges (h0-eth0, h1n0, br0) or as a lab's NICs (eth0, eth1). Other
 * tests running at the same time make interfaces of their own; these names are not theirs.
 */
export function rootLinks(): string[] {
  return sh("ip", ["-o", "link", "show"]).out.split("\n").map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
    .filter((n) => /^(h\d+-|h\d+n\d+$|br\d+$|eth\d+$)/.test(n)).sort();
}

/** The namespace prefix of `lab` in this test process's state directory (as `up` derives it). */
export function expectedPrefix(lab: string): string {
  return `lvs-${labId(`${STATE_DIR}/${lab}`)}`;
}

/** Live (non-zombie) processes whose network namespace is one of `nsInodes`. */
export function processesIn(nsInodes: Set<string>): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const link = readlinkSync(`/proc/${d}/ns/net`);
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (nsInodes.has(link) && stat[stat.lastIndexOf(")") + 2] !== "Z") out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** `net:[inode]` of each named namespace (while it exists). */
export function nsInodes(names: string[]): Set<string> {
  const s = new Set<string>();
  for (const n of names) {
    const r = sh("ip", ["netns", "exec", n, "readlink", "/proc/self/ns/net"]);
    if (r.code === 0) s.add(r.out.trim());
  }
  return s;
}

/** Take every lab of this test process down (cleanup that runs even when a test failed). */
export function downAll(): void {
  if (!existsSync(STATE_DIR)) return;
  for (const lab of readdirSync(STATE_DIR)) lvslab(["down", lab]);
  sh("rm", ["-rf", STATE_DIR]);
}

/** Malformed frames `malformedFrames` can send, each named by what is wrong with it. */
export type MalformedFrame = "ipv4-truncated" | "ihl-3" | "ihl-6-no-options" | "version-6" | "bad-checksum" | "total-length-beyond-frame" | "tcp-truncated" | "arp-truncated";

/**
 * python3 (standard library only): sends raw frames from argv[1] to the MAC argv[2], argv[3]
 * rounds of the frames named in argv[4] (comma-separated, in that order), IPv4 ones from
 * 192.168.75.150 to 192.168.75.131; prints how many it sent.
 */
const MALFORMED_PY = String.raw`
import socket, struct, sys
iface, mac, rounds, kinds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
dst = bytes.fromhex(mac.replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
src = s.getsockname()[4]
eth = dst + src + b"\x08\x00"
def ip(tot, csum=None, proto=6, ihl=5, version=4, body=b""):
    h = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0, tot, 1, 0, 64, proto, 0, socket.inet_aton("192.168.75.150"), socket.inet_aton("192.168.75.131"))
    if csum is None:
        sm = sum(struct.unpack("!10H", h)); sm = (sm & 0xffff) + (sm >> 16); sm = (sm & 0xffff) + (sm >> 16)
        csum = ~sm & 0xffff
    return h[:10] + struct.pack("!H", csum) + h[12:] + body
frames = {
    "ipv4-truncated": eth + bytes([0x45, 0, 0]),
    "ihl-3": eth + ip(40, ihl=3, body=b"\0" * 20),
    "ihl-6-no-options": eth + ip(40, ihl=6),
    "version-6": eth + ip(40, version=6, body=b"\0" * 20),
    "bad-checksum": eth + ip(40, csum=0x1234, body=b"\0" * 20),
    "total-length-beyond-frame": eth + ip(400, body=b"\0" * 20),
    "tcp-truncated": eth + ip(24, body=b"\0" * 4),
    "arp-truncated": dst + src + b"\x08\x06" + b"\x00\x01\x08\x00",
}
for _ in range(rounds):
    for k in kinds:
        s.send(frames[k])
print(rounds * len(kinds))
`;

/** The command that sends `rounds` rounds of `kinds` from `iface` to `dstMac` (run it in a namespace). */
export function malformedFrames(iface: string, dstMac: string, rounds: number, kinds: MalformedFrame[]): string[] {
  return ["python3", "-c", MALFORMED_PY, iface, dstMac, String(rounds), kinds.join(",")];
}
