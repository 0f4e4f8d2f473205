/** Path and errno helpers shared by the shell and its tools. */
import type { ErrnoName } from "../types.js";

/** An absolute, normalised path for `p` seen from `cwd`. */
export function resolvePath(cwd: string, p: string): string {
  const abs = p.startsWith("/") ? p : `${cwd}/${p}`;
  const out: string[] = [];
  for (const part of abs.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

export function dirname(p: string): string {
  const i = p.replace(/\/+$/, "").lastIndexOf("/");
  return i <= 0 ? (p.startsWith("/") ? "/" : ".") : p.slice(0, i);
}

export function basename(p: string): string {
  const t = p.replace(/\/+$/, "");
  return t === "" ? "/" : t.slice(t.lastIndexOf("/") + 1);
}

/** strerror(3) texts (glibc). */
const STRERROR: Record<ErrnoName, string> = {
  ENOENT: "No such file or directory",
  EEXIST: "File exists",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EINVAL: "Invalid argument",
  ESRCH: "No such process",
  ERANGE: "Numerical result out of range",
  ENODEV: "No such device",
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  ECONNREFUSED: "Connection refused",
  ETIMEDOUT: "Connection timed out",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ECONNRESET: "Connection reset by peer",
  ENOPROTOOPT: "Protocol not available",
  EOPNOTSUPP: "Operation not supported",
  EAFNOSUPPORT: "Address family not supported by protocol",
  ENOMEM: "Cannot allocate memory",
  EMSGSIZE: "Message too long",
  EPIPE: "Broken pipe",
  EAGAIN: "Resource temporarily unavailable",
  ENOTCONN: "Transport endpoint is not connected",
};

export function strerror(e: ErrnoName): string {
  return STRERROR[e] ?? e;
}

export function isErrno(x: unknown): x is ErrnoName {
  return typeof x === "string" && x in STRERROR;
}

/** Errors that `open(2)` reports (as opposed to `write(2)` on an opened file). */
export function isOpenError(e: ErrnoName): boolean {
  return e === "ENOENT" || e === "EISDIR" || e === "ENOTDIR" || e === "EACCES" || e === "EPERM" || e === "ENODEV";
}
