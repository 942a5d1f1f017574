/** An encoding station the service runs: it takes cards until stopped. */
export interface Station {
  readonly id: string;
  /** Starts taking cards (in the background). */
  start(): void;
  /** Stops taking cards, finishes the card in hand, and resolves when idle. Idempotent. */
  stop(): Promise<void>;
}
