// The command lines of FTP's control connection (RFC 959 4.1, over Telnet's NVT, RFC 854):
// bytes in whatever pieces TCP delivers them, out as lines without their CR LF. Telnet
// option negotiation is dropped, IAC IAC stands for a 255, and a line longer than the
// limit is dropped whole. The line buffer grows as lines need it, up to the limit: most
// commands are short, and every session keeps its buffer.

const LF = 10;
const CR = 13;
const IAC = 255; // Telnet's "interpret as command"
const WILL = 251;
const DONT = 254;
const FIRST_LINE = 64; // bytes: room for nearly every command with its argument

/** What next() gives for a line longer than the buffer. */
export const OVERLONG = "overlong";

export class CommandLines {
  private readonly rx: Uint8Array[] = []; // received, not yet read into lines
  private rxOff = 0;
  private line: Uint8Array;
  private lineLen = 0;
  private overlong = false;
  private telnet = 0; // 1 after IAC, 2 after IAC WILL/WONT/DO/DONT

  /** `reader.recved` hears of each received piece once it is read (the pcb itself: no closure), so TCP's window reopens only as lines are taken. */
  constructor(
    private readonly maxLength: number,
    private readonly reader: { recved(n: number): void },
  ) {
    this.line = new Uint8Array(Math.min(FIRST_LINE, maxLength));
  }

  push(data: Uint8Array): void {
    this.rx.push(data);
  }

  /** Received bytes are still waiting to be read. */
  get pending(): boolean {
    return this.rx.length > 0;
  }

  /** The next complete line, OVERLONG for one that did not fit, undefined when no line is complete yet. */
  next(): Uint8Array | typeof OVERLONG | undefined {
    while (this.rx.length) {
      const chunk = this.rx[0]!;
      let line: Uint8Array | typeof OVERLONG | undefined;
      while (this.rxOff < chunk.length && !line) {
        if (!this.feed(chunk[this.rxOff++]!)) continue;
        let n = this.lineLen;
        if (n && this.line[n - 1] === CR) n--;
        line = this.overlong ? OVERLONG : this.line.slice(0, n);
        this.lineLen = 0;
        this.overlong = false;
      }
      if (this.rxOff === chunk.length) {
        this.rx.shift();
        this.rxOff = 0;
        this.reader.recved(chunk.length); // read: what is held is bounded by the line buffer
      }
      if (line) return line;
    }
    return undefined;
  }

  /** Takes one byte; true when it ended a line. */
  private feed(c: number): boolean {
    if (this.telnet === 1) {
      this.telnet = c >= WILL && c <= DONT ? 2 : 0;
      if (c === IAC) this.append(c);
      return false;
    }
    if (this.telnet === 2) {
      this.telnet = 0;
      return false;
    }
    if (c === IAC) this.telnet = 1;
    else if (c === LF) return true;
    else this.append(c);
    return false;
  }

  private append(c: number): void {
    if (this.lineLen === this.line.length && this.lineLen < this.maxLength) {
      const bigger = new Uint8Array(Math.min(this.maxLength, 2 * this.lineLen));
      bigger.set(this.line);
      this.line = bigger;
    }
    if (this.lineLen < this.line.length) this.line[this.lineLen++] = c;
    else this.overlong = true;
  }
}
