// Congestion control behind a small interface, in the manner of smoltcp's Controller, so
// another algorithm can take NewReno's place. The sender tells it about ACKs, duplicate
// ACKs and timeouts; it answers with the window and with when to resend the first hole.
// Loss recovery is NewReno's, or RFC 6675's when the peer's SACK blocks say what arrived:
// then the sender picks what to resend and counts what is in flight (tcp-sack.ts), and the
// window stays at ssthresh until the recovery ends.

import { seqDiff } from "./tcp-seq.ts";

/** What a new ACK asks of the sender, besides the window. */
export const ACK_NORMAL = 0; // restart the retransmission timer
export const ACK_RESEND = 1; // partial ACK in recovery: resend the first hole, restart the timer
export const ACK_RESEND_KEEP_TIMER = 2; // as ACK_RESEND, but leave the timer running
const DUP_THRESH = 3;

export interface CongestionController {
  /** Bytes that may be in flight. */
  readonly window: number;
  /** In RFC 6675 loss recovery: the sender sends by its SACK scoreboard. */
  readonly sackRecovery: boolean;
  /** The handshake is done: `mss` is the segment size, `nxt` the first sequence of data; `synLost` if a SYN or SYN-ACK was. */
  start(mss: number, nxt: number, synLost: boolean): void;
  /** `acked` new bytes were acknowledged; `una` and `max` are the send sequences after it; `cap` bounds the window. */
  onAck(acked: number, una: number, max: number, cap: number): number;
  /**
   * A duplicate ACK; true when it asks for a fast retransmit of the first hole. `sack` when
   * the scoreboard holds SACKed data to recover by; `lost` when it says the first hole is lost.
   */
  onDupAck(una: number, max: number, sack: boolean, lost: boolean): boolean;
  /** The retransmission timer expired with `una`..`max` in flight. */
  onTimeout(una: number, max: number): void;
}

/** NewReno: RFC 5681 slow start and congestion avoidance, RFC 6582 fast recovery; in bytes. */
export class NewReno implements CongestionController {
  private cwnd = 0;
  private ssthresh = 0x3fffffff;
  private mss = 0;
  private caAcked = 0; // bytes acknowledged toward the next congestion-avoidance increase
  private dupAcks = 0;
  private recover = 0; // the highest sequence sent when loss recovery began
  private recovering = false;
  private bySack = false; // this recovery follows RFC 6675
  private partialAcked = false; // RFC 6582's "impatient" timer: restarted on the first partial ACK only

  get window(): number {
    return this.cwnd;
  }

  get sackRecovery(): boolean {
    return this.recovering && this.bySack;
  }

  start(mss: number, nxt: number, synLost: boolean): void {
    this.mss = mss;
    this.recover = nxt;
    // RFC 5681 3.1's initial window: 2 to 4 segments, depending on their size; one after a lost SYN.
    if (synLost) this.cwnd = mss;
    else this.cwnd = mss > 2190 ? 2 * mss : mss > 1095 ? 3 * mss : 4 * mss;
  }

  onAck(acked: number, una: number, max: number, cap: number): number {
    const mss = this.mss;
    if (this.recovering) {
      if (seqDiff(una, this.recover) >= 0) {
        // Full ACK: leave recovery with the window halved (RFC 6582 3.2 step 3).
        this.recovering = false;
        this.cwnd = Math.min(this.ssthresh, Math.max(seqDiff(max, una), mss) + mss);
        this.dupAcks = 0;
        return ACK_NORMAL;
      }
      if (this.bySack) return ACK_NORMAL; // the scoreboard says what to resend
      // Partial ACK: the next hole was lost too; resend it at once.
      this.cwnd = Math.max(mss, this.cwnd - acked + (acked >= mss ? mss : 0));
      const first = !this.partialAcked;
      this.partialAcked = true;
      return first ? ACK_RESEND : ACK_RESEND_KEEP_TIMER;
    }
    this.dupAcks = 0;
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, mss);
    } else {
      this.caAcked += acked;
      if (this.caAcked >= this.cwnd) {
        this.caAcked -= this.cwnd;
        this.cwnd += mss;
      }
    }
    // Growth beyond what the buffer can ever fill means nothing; cap it so it stays meaningful.
    this.cwnd = Math.min(this.cwnd, cap);
    return ACK_NORMAL;
  }

  onDupAck(una: number, max: number, sack: boolean, lost: boolean): boolean {
    const mss = this.mss;
    this.dupAcks++;
    if (this.recovering) {
      if (!this.bySack) this.cwnd += mss; // each duplicate says a segment left the network
      return false;
    }
    // RFC 6675 5 (2): three duplicates, or SACKs showing the first hole lost, start recovery.
    if (sack ? this.dupAcks < DUP_THRESH && !lost : this.dupAcks !== DUP_THRESH) return false;
    if (seqDiff(una, this.recover) < 0) return false; // still within an earlier recovery or timeout
    this.ssthresh = Math.max(seqDiff(max, una) / 2, 2 * mss);
    this.recover = max;
    this.recovering = true;
    this.bySack = sack;
    this.partialAcked = false;
    this.cwnd = sack ? this.ssthresh : this.ssthresh + 3 * mss;
    return true;
  }

  onTimeout(una: number, max: number): void {
    // RFC 5681 3.1 and RFC 6582: back to one segment, and start again from the first hole.
    this.ssthresh = Math.max(seqDiff(max, una) / 2, 2 * this.mss);
    this.cwnd = this.mss;
    this.caAcked = 0;
    this.dupAcks = 0;
    this.recovering = false;
    this.recover = max;
  }
}
