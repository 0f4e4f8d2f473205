/**
 * A host's file system: a flat map of absolute paths to bytes, plus "mounts" — path
 * prefixes served by live providers (/proc/sys is the host's sysctl table, /proc/net/ip_vs
 * is rendered from the IPVS engine on each read), as procfs does.
 */
import type { ErrnoName, Vfs } from "../tools/types.js";

export interface VfsProvider {
  read(rel: string): Uint8Array | ErrnoName;
  write?(rel: string, data: Uint8Array, append: boolean): true | ErrnoName;
  list?(rel: string): string[] | ErrnoName;
  isDir?(rel: string): boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function normalizePath(path: string, cwd = "/"): string {
  const abs = path.startsWith("/") ? path : `${cwd.replace(/\/$/, "")}/${path}`;
  const out: string[] = [];
  for (const part of abs.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

export class MemVfs implements Vfs {
  private files = new Map<string, Uint8Array>();
  private dirs = new Set<string>(["/"]);
  private mounts: Array<{ prefix: string; provider: VfsProvider }> = [];
  /** Modification times (virtual µs since epoch) for nginx's Last-Modified/ETag. */
  readonly mtimes = new Map<string, number>();
  /** Mode bits recorded by chmod (files created by labs are 0755 by default). */
  readonly modes = new Map<string, number>();
  clock: () => number = () => 0;

  mount(prefix: string, provider: VfsProvider): void {
    this.mounts.push({ prefix: normalizePath(prefix), provider });
    this.mounts.sort((a, b) => b.prefix.length - a.prefix.length);
    this.mkdirp(prefix);
  }

  private mounted(path: string): { provider: VfsProvider; rel: string } | undefined {
    for (const m of this.mounts) {
      if (path === m.prefix) return { provider: m.provider, rel: "" };
      if (path.startsWith(m.prefix + "/")) return { provider: m.provider, rel: path.slice(m.prefix.length + 1) };
    }
    return undefined;
  }

  read(path: string): Uint8Array | ErrnoName {
    const p = normalizePath(path);
    const m = this.mounted(p);
    if (m) {
      if (m.provider.isDir?.(m.rel) ?? m.rel === "") return "EISDIR";
      return m.provider.read(m.rel);
    }
    const f = this.files.get(p);
    if (f) return f;
    return this.dirs.has(p) ? "EISDIR" : "ENOENT";
  }

  readText(path: string): string | ErrnoName {
    const r = this.read(path);
    return typeof r === "string" ? r : dec.decode(r);
  }

  write(path: string, data: Uint8Array | string, opts?: { append?: boolean }): true | ErrnoName {
    const p = normalizePath(path);
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    const m = this.mounted(p);
    if (m) {
      if (!m.provider.write) return "EACCES";
      return m.provider.write(m.rel, bytes, opts?.append ?? false);
    }
    if (this.dirs.has(p)) return "EISDIR";
    const parent = p.slice(0, p.lastIndexOf("/")) || "/";
    if (!this.dirs.has(parent)) return this.files.has(parent) ? "ENOTDIR" : "ENOENT";
    const old = this.files.get(p);
    if (opts?.append && old) {
      const joined = new Uint8Array(old.length + bytes.length);
      joined.set(old, 0);
      joined.set(bytes, old.length);
      this.files.set(p, joined);
    } else {
      this.files.set(p, bytes.slice());
    }
    this.mtimes.set(p, this.clock());
    return true;
  }

  exists(path: string): boolean {
    const p = normalizePath(path);
    const m = this.mounted(p);
    if (m) {
      if (m.rel === "" || m.provider.isDir?.(m.rel)) return true;
      return typeof m.provider.read(m.rel) !== "string";
    }
    return this.files.has(p) || this.dirs.has(p);
  }

  isDir(path: string): boolean {
    const p = normalizePath(path);
    const m = this.mounted(p);
    if (m) return m.rel === "" || (m.provider.isDir?.(m.rel) ?? false);
    return this.dirs.has(p);
  }

  list(path: string): string[] | ErrnoName {
    const p = normalizePath(path);
    const m = this.mounted(p);
    if (m) {
      if (!m.provider.list) return "ENOTDIR";
      return m.provider.list(m.rel);
    }
    if (!this.dirs.has(p)) return this.files.has(p) ? "ENOTDIR" : "ENOENT";
    const prefix = p === "/" ? "/" : p + "/";
    const names = new Set<string>();
    for (const k of [...this.files.keys(), ...this.dirs]) {
      if (k !== p && k.startsWith(prefix)) names.add(k.slice(prefix.length).split("/")[0]!);
    }
    for (const mt of this.mounts) {
      if (mt.prefix.startsWith(prefix)) names.add(mt.prefix.slice(prefix.length).split("/")[0]!);
    }
    return [...names].sort();
  }

  mkdirp(path: string): void {
    const p = normalizePath(path);
    let cur = "";
    for (const part of p.split("/").filter(Boolean)) {
      cur += "/" + part;
      this.dirs.add(cur);
    }
  }

  remove(path: string): true | ErrnoName {
    const p = normalizePath(path);
    if (this.mounted(p)) return "EACCES";
    if (this.files.delete(p)) return true;
    if (this.dirs.has(p)) {
      const prefix = p + "/";
      for (const k of this.files.keys()) if (k.startsWith(prefix)) return "EEXIST";
      this.dirs.delete(p);
      return true;
    }
    return "ENOENT";
  }

  /** Every regular file path, sorted (for tests and listings). */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }
}

export function textBytes(s: string): Uint8Array {
  return enc.encode(s);
}
export function bytesText(b: Uint8Array): string {
  return dec.decode(b);
}
