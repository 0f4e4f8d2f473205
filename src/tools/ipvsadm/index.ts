/**
 * `ipvsadm` (ipvsadm 1.31, popt build) and its wrappers `ipvsadm-save` / `ipvsadm-restore`.
 *
 * The tool speaks to the IPVS control plane (`IpvsControl`, src/ipvs/api.ts) as ipvsadm
 * speaks generic netlink, and prints exactly what the real program prints: same listings
 * (trailing spaces included), same messages, same exit statuses (0 ok, 2 local validation,
 * 255 kernel errors and option errors, 1 failed listings). A command that fails validation
 * never reaches the control plane.
 *
 * Wiring on a host:
 * ```ts
 * const ipvsadm = makeIpvsadm((ctx) => hostOf(ctx).ipvs);   // undefined: no ip_vs module
 * tools.set("ipvsadm", ipvsadm);
 * tools.set("ipvsadm-save", makeIpvsadmSave((ctx) => hostOf(ctx).ipvs));
 * tools.set("ipvsadm-restore", makeIpvsadmRestore((ctx) => hostOf(ctx).ipvs));
 * ```
 * Names (without `-n`) come from the host's /etc/hosts and /etc/services when its file
 * system has them, else from built-in defaults (localhost, Debian's /etc/services); pass a
 * `NameResolver` (or a function of the context returning one) to override.
 *
 * Not implemented: IPv6 services and real servers (the control API is IPv4-only): they are
 * parsed and validated like ipvsadm does, then refused with the kernel's EAFNOSUPPORT
 * ("Operation not supported with specified address family") or reported as not found.
 */
import type { IpvsControl } from "../../ipvs/api.js";
import type { Tool, ToolContext } from "../types.js";
import { Ipvsadm } from "./ipvsadm.js";
import { defaultResolver, vfsResolver, type NameResolver } from "./resolver.js";

export type { NameResolver, ServiceProto } from "./resolver.js";
export { defaultResolver, resolverFromFiles, vfsResolver } from "./resolver.js";
export * as ipvsadmFormat from "./format.js";

/** Finds the IPVS control plane of the host a command runs on; undefined = no ip_vs. */
export type IpvsControlSource = (ctx: ToolContext) => IpvsControl | undefined;
export type ResolverSource = NameResolver | ((ctx: ToolContext) => NameResolver);

const NO_IPVS =
  "Can't initialize ipvs: Protocol not available\n" +
  "Are you sure that IP Virtual Server is built in the kernel or as module?\n";

function resolverFor(ctx: ToolContext, src: ResolverSource | undefined): NameResolver {
  if (typeof src === "function") return src(ctx);
  if (src) return src;
  const fs = ctx.host?.fs;
  return fs && typeof fs.exists === "function" ? vfsResolver(fs) : defaultResolver();
}

function run(ctx: ToolContext, argv: readonly string[], getControl: IpvsControlSource, resolver?: ResolverSource): number {
  const ctl = getControl(ctx);
  if (!ctl) {
    ctx.io.stderr(NO_IPVS);
    return 2;
  }
  return new Ipvsadm({ io: ctx.io, ctl, resolver: resolverFor(ctx, resolver) }).main(argv);
}

/** The `ipvsadm` command. */
export function makeIpvsadm(getControl: IpvsControlSource, resolver?: ResolverSource): Tool {
  return async (ctx) => run(ctx, ctx.argv, getControl, resolver);
}

/** `ipvsadm-save [-n]`: the packaged wrapper script runs `ipvsadm -S "$@"`. */
export function makeIpvsadmSave(getControl: IpvsControlSource, resolver?: ResolverSource): Tool {
  return async (ctx) => run(ctx, ["ipvsadm", "-S", ...ctx.argv.slice(1)], getControl, resolver);
}

/** `ipvsadm-restore`: the packaged wrapper script runs `ipvsadm -R "$@"`. */
export function makeIpvsadmRestore(getControl: IpvsControlSource, resolver?: ResolverSource): Tool {
  return async (ctx) => run(ctx, ["ipvsadm", "-R", ...ctx.argv.slice(1)], getControl, resolver);
}
