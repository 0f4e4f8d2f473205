/**
 * The TCP state machine of IPVS as literal tables (net/netfilter/ipvs/ip_vs_proto_tcp.c):
 * three directions (INPUT = client -> director, OUTPUT = replies seen by the director,
 * INPUT-ONLY = entries that never see replies: DR/TUN) times four events, for the normal
 * and the secure_tcp tables. Per-state timeouts live in a table `ipvsadm --set` edits.
 */

export const TCP_S_NONE = 0;
export const TCP_S_ESTABLISHED = 1;
export const TCP_S_SYN_SENT = 2;
export const TCP_S_SYN_RECV = 3;
export const TCP_S_FIN_WAIT = 4;
export const TCP_S_TIME_WAIT = 5;
export const TCP_S_CLOSE = 6;
export const TCP_S_CLOSE_WAIT = 7;
export const TCP_S_LAST_ACK = 8;
export const TCP_S_LISTEN = 9;
export const TCP_S_SYNACK = 10;
export const TCP_S_LAST = 11;

export const TCP_STATE_NAMES: readonly string[] = [
  "NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
  "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK",
];

export function tcpStateName(s: number): string {
  return s < TCP_S_LAST ? TCP_STATE_NAMES[s]! : "ERR!";
}

/** Default timeouts in seconds, by state (tcp_timeouts[]). */
export const TCP_DEFAULT_TIMEOUTS: readonly number[] = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120];

/** Directions as offsets into the tables (tcp_state_off[]). */
export const TCP_DIR_INPUT = 0;
export const TCP_DIR_OUTPUT = 4;
export const TCP_DIR_INPUT_ONLY = 8;

/** Events (tcp_state_idx): rst beats syn beats fin beats ack; none of them → -1. */
export const TCP_EV_SYN = 0;
export const TCP_EV_FIN = 1;
export const TCP_EV_ACK = 2;
export const TCP_EV_RST = 3;

export function tcpEvent(flags: number): number {
  if (flags & 0x04) return TCP_EV_RST;
  if (flags & 0x02) return TCP_EV_SYN;
  if (flags & 0x01) return TCP_EV_FIN;
  if (flags & 0x10) return TCP_EV_ACK;
  return -1;
}

const NO = TCP_S_NONE, ES = TCP_S_ESTABLISHED, SS = TCP_S_SYN_SENT, SR = TCP_S_SYN_RECV,
  FW = TCP_S_FIN_WAIT, TW = TCP_S_TIME_WAIT, CL = TCP_S_CLOSE, CW = TCP_S_CLOSE_WAIT,
  LA = TCP_S_LAST_ACK, LI = TCP_S_LISTEN, SA = TCP_S_SYNACK;
void NO;

/**
 * Rows in direction-offset + event order; columns are the current state
 * (NONE, ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT, TIME_WAIT, CLOSE, CLOSE_WAIT,
 * LAST_ACK, LISTEN, SYNACK); cells the next state.
 */
export const TCP_STATES: readonly (readonly number[])[] = [
  /*        NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA */
  /* INPUT */
  /*syn*/ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
  /*fin*/ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
  /*ack*/ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
  /*rst*/ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
  /* OUTPUT */
  /*syn*/ [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
  /*fin*/ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
  /*ack*/ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
  /*rst*/ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  /* INPUT-ONLY */
  /*syn*/ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
  /*fin*/ [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
  /*ack*/ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
  /*rst*/ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
];

/** The secure_tcp tables (tcp_states_dos[]), used while that defense is active. */
export const TCP_STATES_DOS: readonly (readonly number[])[] = [
  /*        NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA */
  /* INPUT */
  /*syn*/ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA],
  /*fin*/ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA],
  /*ack*/ [ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA],
  /*rst*/ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  /* OUTPUT */
  /*syn*/ [SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA],
  /*fin*/ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
  /*ack*/ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
  /*rst*/ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  /* INPUT-ONLY */
  /*syn*/ [SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA],
  /*fin*/ [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
  /*ack*/ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
  /*rst*/ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
];

/**
 * Whether a state counts in ActiveConn. [current] (Linux >= 4.7, "count pre-established
 * TCP states as active"): ESTABLISHED, SYN_SENT, SYN_RECV, SYNACK; [classic]: ESTABLISHED.
 */
export function tcpActiveStates(classic: boolean): Uint8Array {
  const a = new Uint8Array(TCP_S_LAST);
  a[ES] = 1;
  if (!classic) {
    a[SS] = 1;
    a[SR] = 1;
    a[SA] = 1;
  }
  return a;
}

/**
 * The next state for (table, direction offset, event, state). An event of -1 (no
 * SYN/FIN/ACK/RST) forces CLOSE, as the kernel's tcp_state_out path does.
 */
export function tcpNextState(table: readonly (readonly number[])[], dirOff: number, ev: number, state: number): number {
  if (ev < 0) return CL;
  return table[dirOff + ev]![state]!;
}
