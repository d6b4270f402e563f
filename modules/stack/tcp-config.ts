// TCP's settings: what bounds each connection's memory and time, and the defaults.

export interface TcpConfig {
  maxPcbs: number; // connections at once, TIME-WAIT ones not counted
  maxTimeWait: number; // TIME-WAIT pcbs kept; beyond it the oldest is forgotten
  maxListeners: number;
  sndbuf: number; // bytes a connection buffers for sending: unacknowledged plus unsent
  wnd: number; // receive window in bytes; beyond 65535 the window scale option is offered
  maxGaps: number; // separate out-of-order ranges held per connection
  initialRtoMs: number;
  minRtoMs: number; // above the peer's delayed-ACK timer, so a lone segment is not resent early
  maxRtoMs: number;
  maxRetries: number; // consecutive timeouts of the same data, or unanswered zero-window probes, before err("timeout")
  synRetries: number;
  delayedAckMs: number;
  mslMs: number; // TIME-WAIT lasts twice this
  finWait2Ms: number; // how long a closed pcb waits for the peer's FIN
  orphanTimeoutMs: number; // how long a pcb the application closed may take to finish, FIN-WAIT-2 included; then RST
  synRcvdTimeoutMs: number; // a half-open connection from a listener is dropped after this (lwIP's TCP_SYN_RCVD_TIMEOUT)
  synCookies: boolean; // a SYN beyond a listener's backlog gets a SYN cookie rather than nothing
  sack: boolean; // offer and accept SACK (RFC 2018): report out-of-order data, recover from loss by it (RFC 6675)
  keepalive: boolean; // the default for new pcbs
  keepIdleMs: number;
  keepIntervalMs: number;
  keepCount: number;
  challengeAcksPerSecond: number; // per connection (RFC 5961 section 7)
}

/** Sized for an ESP32: four full segments of buffer each way, eight connections. */
export const TCP_DEFAULTS: TcpConfig = {
  maxPcbs: 8,
  maxTimeWait: 8,
  maxListeners: 4,
  sndbuf: 5840,
  wnd: 5840,
  maxGaps: 4,
  initialRtoMs: 1000,
  minRtoMs: 250,
  maxRtoMs: 60_000,
  maxRetries: 12,
  synRetries: 6,
  delayedAckMs: 200,
  mslMs: 30_000,
  finWait2Ms: 60_000,
  orphanTimeoutMs: 60_000,
  synRcvdTimeoutMs: 20_000,
  synCookies: true,
  sack: true,
  keepalive: false,
  keepIdleMs: 7_200_000,
  keepIntervalMs: 75_000,
  keepCount: 9,
  challengeAcksPerSecond: 10,
};
