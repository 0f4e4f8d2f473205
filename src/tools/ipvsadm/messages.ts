/**
 * Fixed texts of ipvsadm 1.31 and libipvs: the version line, the usage page and the
 * kernel-error table of ipvs_strerror() (which depends on the libipvs call that failed).
 */
import type { IpvsErrno } from "../../ipvs/api.js";

export const IPVSADM_VERSION_LINE = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

const SCHEDULERS = "rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh";
const PE_LIST = "sip";

/** usage_exit(): the `-h` page, with argv[0] as the program name. */
export function usageText(program: string): string {
  const p = program;
  return (
    IPVSADM_VERSION_LINE +
    "Usage:\n" +
    `  ${p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n` +
    `  ${p} -D virtual-service\n` +
    `  ${p} -C\n` +
    `  ${p} -R\n` +
    `  ${p} -S [-n]\n` +
    `  ${p} -a|e virtual-service -r server-address [options]\n` +
    `  ${p} -d virtual-service -r server-address\n` +
    `  ${p} -L|l [virtual-service] [options]\n` +
    `  ${p} -Z [virtual-service]\n` +
    `  ${p} --set tcp tcpfin udp\n` +
    `  ${p} --start-daemon {master|backup} [daemon-options]\n` +
    `  ${p} --stop-daemon {master|backup}\n` +
    `  ${p} -h\n\n` +
    "Commands:\n" +
    "Either long or short options are allowed.\n" +
    "  --add-service     -A        add virtual service with options\n" +
    "  --edit-service    -E        edit virtual service with options\n" +
    "  --delete-service  -D        delete virtual service\n" +
    "  --clear           -C        clear the whole table\n" +
    "  --restore         -R        restore rules from stdin\n" +
    "  --save            -S        save rules to stdout\n" +
    "  --add-server      -a        add real server with options\n" +
    "  --edit-server     -e        edit real server with options\n" +
    "  --delete-server   -d        delete real server\n" +
    "  --list            -L|-l     list the table\n" +
    "  --zero            -Z        zero counters in a service or all services\n" +
    "  --set tcp tcpfin udp        set connection timeout values\n" +
    "  --start-daemon              start connection sync daemon\n" +
    "  --stop-daemon               stop connection sync daemon\n" +
    "  --help            -h        display this help message\n\n" +
    "virtual-service:\n" +
    "  --tcp-service|-t  service-address   service-address is host[:port]\n" +
    "  --udp-service|-u  service-address   service-address is host[:port]\n" +
    "  --sctp-service    service-address   service-address is host[:port]\n" +
    "  --fwmark-service|-f fwmark          fwmark is an integer greater than zero\n" +
    "\n" +
    "Options:\n" +
    "  --ipv6         -6                   fwmark entry uses IPv6\n" +
    `  --scheduler    -s scheduler         one of ${SCHEDULERS},\n` +
    "                                      the default scheduler is wlc.\n" +
    `  --pe            engine              alternate persistence engine may be ${PE_LIST},\n` +
    "                                      not set by default.\n" +
    "  --persistent   -p [timeout]         persistent service\n" +
    "  --netmask      -M netmask           persistent granularity mask\n" +
    "  --real-server  -r server-address    server-address is host (and port)\n" +
    "  --gatewaying   -g                   gatewaying (direct routing) (default)\n" +
    "  --ipip         -i                   ipip encapsulation (tunneling)\n" +
    "  --masquerading -m                   masquerading (NAT)\n" +
    "  --tun-type      type                one of ipip|gue|gre,\n" +
    "                                      the default tunnel type is ipip.\n" +
    "  --tun-port      port                tunnel destination port\n" +
    "  --tun-nocsum                        tunnel encapsulation without checksum\n" +
    "  --tun-csum                          tunnel encapsulation with checksum\n" +
    "  --tun-remcsum                       tunnel encapsulation with remote checksum\n" +
    "  --weight       -w weight            capacity of real server\n" +
    "  --u-threshold  -x uthreshold        upper threshold of connections\n" +
    "  --l-threshold  -y lthreshold        lower threshold of connections\n" +
    "  --connection   -c                   output of current IPVS connections\n" +
    "  --timeout                           output of timeout (tcp tcpfin udp)\n" +
    "  --daemon                            output of daemon information\n" +
    "  --stats                             output of statistics information\n" +
    "  --rate                              output of rate information\n" +
    "  --exact                             expand numbers (display exact values)\n" +
    "  --thresholds                        output of thresholds information\n" +
    "  --persistent-conn                   output of persistent connection info\n" +
    "  --tun-info                          output of tunnel information\n" +
    "  --nosort                            disable sorting output of service/server entries\n" +
    "  --sort                              does nothing, for backwards compatibility\n" +
    "  --ops          -o                   one-packet scheduling\n" +
    "  --numeric      -n                   numeric output of addresses and ports\n" +
    "  --sched-flags  -b flags             scheduler flags (comma-separated)\n" +
    "Daemon Options:\n" +
    "  --syncid sid                        syncid for connection sync (default=255)\n" +
    "  --sync-maxlen length                Max sync message length (default=1472)\n" +
    "  --mcast-interface interface         multicast interface for connection sync\n" +
    "  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)\n" +
    "  --mcast-port port                   UDP port (default=8848)\n" +
    "  --mcast-ttl ttl                     Multicast TTL (default=1)\n"
  );
}

export function tryHelpText(program: string): string {
  return `Try \`${program} -h' or '${program} --help' for more information.\n`;
}

/** The libipvs entry point whose failure is being reported (libipvs's ipvs_func). */
export type IpvsFunc =
  | "init"
  | "add_service"
  | "update_service"
  | "del_service"
  | "zero_service"
  | "add_dest"
  | "update_dest"
  | "del_dest"
  | "set_timeout"
  | "start_daemon"
  | "stop_daemon"
  | "get_services"
  | "get_dests"
  | "get_service"
  // lvslab extension (Alibaba LVS / DPVS libipvs)
  | "add_laddr"
  | "del_laddr"
  | "get_laddrs";

export type Errno = IpvsErrno | "ENOPROTOOPT" | "EMSGSIZE";

const IPVS_ERRORS: ReadonlyArray<readonly [IpvsFunc | undefined, Errno, string]> = [
  ["add_service", "EEXIST", "Service already exists"],
  ["add_service", "ENOENT", "Scheduler or persistence engine not found"],
  ["update_service", "ESRCH", "No such service"],
  ["update_service", "ENOENT", "Scheduler or persistence engine not found"],
  ["del_service", "ESRCH", "No such service"],
  ["zero_service", "ESRCH", "No such service"],
  ["add_dest", "ESRCH", "Service not defined"],
  ["add_dest", "EEXIST", "Destination already exists"],
  ["update_dest", "ESRCH", "Service not defined"],
  ["update_dest", "ENOENT", "No such destination"],
  ["del_dest", "ESRCH", "Service not defined"],
  ["del_dest", "ENOENT", "No such destination"],
  ["start_daemon", "EEXIST", "Daemon has already run"],
  ["stop_daemon", "ESRCH", "No daemon is running"],
  ["get_services", "ESRCH", "No such service"],
  ["get_dests", "ESRCH", "No such service"],
  ["get_service", "ESRCH", "No such service"],
  // lvslab extension: Alibaba's and DPVS's libipvs texts, capitals as they have them.
  ["add_laddr", "ESRCH", "Service not defined"],
  ["add_laddr", "EEXIST", "Local address already exists"],
  ["del_laddr", "ESRCH", "Service not defined"],
  ["del_laddr", "ENOENT", "No such Local address"],
  ["get_laddrs", "ESRCH", "Service not defined"],
  [undefined, "EPERM", "Permission denied (you must be root)"],
  [undefined, "EINVAL", "Invalid operation.  Possibly wrong module version, address not unicast, ..."],
  [undefined, "ENOPROTOOPT", "Protocol not available"],
  [undefined, "ENOMEM", "Memory allocation problem"],
  [undefined, "EOPNOTSUPP", "Operation not supported with IPv6"],
  [undefined, "EAFNOSUPPORT", "Operation not supported with specified address family"],
  [undefined, "EMSGSIZE", "Module is wrong version"],
];

/** glibc strerror() for the errnos the control plane returns. */
const STRERROR: Record<Errno, string> = {
  EEXIST: "File exists",
  ENOENT: "No such file or directory",
  ESRCH: "No such process",
  EINVAL: "Invalid argument",
  ERANGE: "Numerical result out of range",
  EPERM: "Operation not permitted",
  ENOMEM: "Cannot allocate memory",
  EOPNOTSUPP: "Operation not supported",
  EAFNOSUPPORT: "Address family not supported by protocol",
  ENOPROTOOPT: "Protocol not available",
  EMSGSIZE: "Message too long",
};

/** ipvs_strerror(errno) after a failure of `func`. */
export function ipvsStrerror(func: IpvsFunc, err: Errno): string {
  for (const [f, e, msg] of IPVS_ERRORS) if ((f === undefined || f === func) && e === err) return msg;
  return STRERROR[err] ?? `Unknown error ${err}`;
}
