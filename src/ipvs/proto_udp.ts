/**
 * UDP in IPVS (net/netfilter/ipvs/ip_vs_proto_udp.c): a single state "UDP" (0), one
 * timeout (300 s by default), every packet may create a connection, and a reply seen on
 * the out-path marks the controlling template ASSURED.
 */
export const UDP_S_NORMAL = 0;
export const UDP_STATE_NAME = "UDP";
export const UDP_DEFAULT_TIMEOUT = 300;
