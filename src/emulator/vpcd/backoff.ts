/** How long to wait before connecting again to vpcd. */
export interface Backoff {
  /** Delay before the first retry, in ms. */
  readonly initialMs: number;
  /** Cap on the delay, in ms. */
  readonly maxMs: number;
}

/** From 100 ms, doubling, up to 5 s: pcscd comes up within a second or two when it is started. */
export const DEFAULT_BACKOFF: Backoff = Object.freeze({ initialMs: 100, maxMs: 5000 });

/** The delay before retry number `attempt` (0 for the first retry): initial × 2^attempt, capped. */
export function backoffDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
}
