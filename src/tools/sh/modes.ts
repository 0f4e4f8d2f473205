/**
 * File mode bits, kept beside a host's Vfs (which stores only contents). Files the lab put
 * on a host count as 0755 — the seed's lab runs /usr/local/sbin/lvs_nat.sh by path — and
 * files the shell creates (`>`, `touch`) as 0644, as with umask 022, so a script written
 * by hand needs `chmod +x` before it runs by path, like on a real host.
 */
import type { Vfs } from "../types.js";

const modes = new WeakMap<Vfs, Map<string, number>>();

function table(fs: Vfs): Map<string, number> {
  let t = modes.get(fs);
  if (!t) modes.set(fs, (t = new Map()));
  return t;
}

export function getMode(fs: Vfs, path: string): number {
  return table(fs).get(path) ?? 0o755;
}

export function setMode(fs: Vfs, path: string, mode: number): void {
  table(fs).set(path, mode & 0o7777);
}

/** Records a file the shell or a tool just created. */
export function markCreated(fs: Vfs, path: string): void {
  table(fs).set(path, 0o644);
}

export function forgetMode(fs: Vfs, path: string): void {
  table(fs).delete(path);
}

export function isExecutable(fs: Vfs, path: string): boolean {
  return (getMode(fs, path) & 0o111) !== 0;
}

/** `ls -l`'s mode column. */
export function modeString(fs: Vfs, path: string): string {
  const m = getMode(fs, path);
  const bits = "rwxrwxrwx";
  let s = fs.isDir(path) ? "d" : "-";
  for (let i = 0; i < 9; i++) s += m & (0o400 >> i) ? bits[i] : "-";
  return s;
}
