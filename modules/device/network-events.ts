// What a board's bring-up module (network.ts, network-ethernet.ts) reports to the app.

export interface LinkEvents {
  /** The link is up (associated, or cable in): frames can flow. May come again after down(). */
  up(): void;
  down(): void;
  log(text: string): void;
}
