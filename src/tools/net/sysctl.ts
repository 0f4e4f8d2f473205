/**
 * `sysctl` (procps-ng 4.0.2, Debian 12) over the host's sysctl table: read, write with or
 * without -w, -a, -n, -N, -e, -q, -b and -p [FILE] (parsed completely first, then applied,
 * as procps 4 does). Names take dots or slashes.
 */
import type { Host } from "../../net/host.js";
import { bytesText } from "../../net/vfs.js";
import type { Tool } from "../types.js";
import { hostOf } from "./common.js";

const USAGE = `
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
`;

interface Flags {
  all: boolean;
  values: boolean;
  names: boolean;
  ignore: boolean;
  quiet: boolean;
  write: boolean;
  binary: boolean;
  load: string[] | undefined;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "No such file or directory",
  EINVAL: "Invalid argument",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ERANGE: "Numerical result out of range",
};

export const sysctl: Tool = async (ctx) => {
  const host = hostOf(ctx);
  const f: Flags = { all: false, values: false, names: false, ignore: false, quiet: false, write: false, binary: false, load: undefined };
  const operands: string[] = [];
  const argv = ctx.argv.slice(1);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      const [name, val] = a.slice(2).split("=", 2) as [string, string | undefined];
      if (name === "all") f.all = true;
      else if (name === "values") f.values = true;
      else if (name === "names") f.names = true;
      else if (name === "ignore") f.ignore = true;
      else if (name === "quiet") f.quiet = true;
      else if (name === "write") f.write = true;
      else if (name === "binary") f.binary = true;
      else if (name === "load") (f.load ??= []).push(val ?? "");
      else if (name === "help") {
        ctx.io.stdout(USAGE);
        return 0;
      } else if (name === "version") {
        ctx.io.stdout("sysctl from procps-ng 4.0.2\n");
        return 0;
      } else {
        ctx.io.stderr(`sysctl: unrecognized option '${a}'\n`);
        ctx.io.stdout(USAGE);
        return 0;
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (c === "a" || c === "A" || c === "X") f.all = true;
        else if (c === "n") f.values = true;
        else if (c === "N") f.names = true;
        else if (c === "e") f.ignore = true;
        else if (c === "q") f.quiet = true;
        else if (c === "w") f.write = true;
        else if (c === "b") f.binary = true;
        else if (c === "o" || c === "x") continue;
        else if (c === "p" || c === "f") {
          // -p takes an optional argument only when attached (-p/etc/x); a following operand is a file too.
          const rest = a.slice(j + 1);
          (f.load ??= []).push(rest);
          break;
        } else if (c === "h" || c === "d") {
          ctx.io.stdout(USAGE);
          return 0;
        } else if (c === "V") {
          ctx.io.stdout("sysctl from procps-ng 4.0.2\n");
          return 0;
        } else {
          ctx.io.stderr(`sysctl: invalid option -- '${c}'\n`);
          ctx.io.stdout(USAGE);
          return 0;
        }
      }
      continue;
    }
    operands.push(a);
  }
  const out = (s: string) => ctx.io.stdout(s);
  const err = (s: string) => ctx.io.stderr(`sysctl: ${s}\n`);
  const show = (name: string, value: string) => {
    if (f.names) out(name + "\n");
    else if (f.values) out(f.binary ? value : value + "\n");
    else out(f.binary ? `${name} = ${value}` : `${name} = ${value}\n`);
  };

  if (f.load !== undefined) {
    const files = f.load.filter((x) => x !== "");
    files.push(...operands);
    if (files.length === 0) files.push("/etc/sysctl.conf");
    let rc = 0;
    for (const file of files) rc |= loadFile(host, file, f, out, err);
    return rc;
  }
  if (f.all) {
    for (const n of host.sysctl.names()) show(n, host.sysctl.get(n) ?? "");
    return 0;
  }
  if (operands.length === 0) {
    ctx.io.stderr(USAGE);
    return 1;
  }
  let rc = 0;
  for (const op of operands) {
    const eq = op.indexOf("=");
    if (eq < 0) {
      if (f.write) {
        err("command line(0): invalid syntax, continuing...");
        rc = 1;
        continue;
      }
      rc |= readOne(host, normalize(op), f, show, err);
    } else {
      const name = normalize(op.slice(0, eq).trim());
      const value = op.slice(eq + 1).trim();
      rc |= writeOne(host, name, value, f, out, err);
    }
  }
  return rc;
};

function normalize(name: string): string {
  // procps: a name containing '/' is a path; slashes become dots.
  return name.replace(/^\/proc\/sys\//, "").split("/").filter(Boolean).join(".");
}

function path(name: string): string {
  return "/proc/sys/" + name.split(".").join("/");
}

function readOne(host: Host, name: string, f: Flags, show: (n: string, v: string) => void, err: (s: string) => void): number {
  const v = host.sysctl.get(name);
  if (v !== undefined) {
    show(name, v);
    return 0;
  }
  const under = host.sysctl.names().filter((n) => n.startsWith(name + "."));
  if (under.length > 0) {
    for (const n of under) show(n, host.sysctl.get(n) ?? "");
    return 0;
  }
  if (f.ignore) return 0;
  err(`cannot stat ${path(name)}: No such file or directory`);
  return 1;
}

function writeOne(host: Host, name: string, value: string, f: Flags, out: (s: string) => void, err: (s: string) => void): number {
  if (host.sysctl.get(name) === undefined) {
    if (f.ignore) return 0;
    err(`cannot stat ${path(name)}: No such file or directory`);
    return 1;
  }
  const e = host.sysctl.set(name, value);
  if (e === "ENOENT") {
    err(`cannot stat ${path(name)}: No such file or directory`);
    return 1;
  }
  if (e) {
    err(`setting key "${name}": ${ERRNO_TEXT[e] ?? e}`);
    return 1;
  }
  if (!f.quiet) {
    if (f.values) out(value + "\n");
    else out(`${name} = ${value}\n`);
  }
  return 0;
}

function loadFile(host: Host, file: string, f: Flags, out: (s: string) => void, err: (s: string) => void): number {
  const data = host.fs.read(file);
  if (typeof data === "string") {
    err(`cannot open "${file}": ${ERRNO_TEXT[data] ?? data}`);
    return 1;
  }
  let rc = 0;
  const settings: Array<{ name: string; value: string; ignoreFail: boolean }> = [];
  bytesText(data).split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const eq = line.indexOf("=");
    if (eq < 0) {
      err(`${file}(${i + 1}): invalid syntax, continuing...`);
      rc = 1;
      return;
    }
    let name = line.slice(0, eq).trim();
    const ignoreFail = name.startsWith("-");
    if (ignoreFail) name = name.slice(1);
    settings.push({ name: normalize(name), value: line.slice(eq + 1).trim(), ignoreFail });
  });
  for (const s of settings) rc |= writeOne(host, s.name, s.value, f, out, err);
  return rc;
}
