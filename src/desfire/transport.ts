/** What the reader saw of the card when it came into the field. */
export interface CardPresence {
  /** The anticollision UID (4, 7 or 10 bytes; a random 4-byte ID when the card has random UID on). */
  readonly uid: Uint8Array;
  /** The ATR the PC/SC layer built for the card, when the card came through PC/SC. */
  readonly atr?: Uint8Array;
}

/** The card's whole answer to one command of a timed exchange, and how long it took. */
export interface TimedAnswer {
  readonly response: Uint8Array;
  /** Nanoseconds from sending the command to receiving the answer, on a monotonic clock. */
  readonly elapsedNs: bigint;
}

/**
 * How the reader side reaches a card: one APDU out, one answer back. Implemented by the
 * in-process emulator, PC/SC readers, and the gRPC relay. A transport failure (card removed,
 * reader gone, relay broken) rejects with a plain Error, never a DesfireError: that type is for
 * what the card or the protocol said.
 */
export interface Transport {
  transceive(apdu: Uint8Array): Promise<Uint8Array>;
  /**
   * Sends `commands` to the card in order, with nothing in between, timing each where the card
   * is. A transport whose own round trips cannot be timed (a network relay) offers this, so the
   * proximity check measures the card and not the network; the others leave it out and are timed
   * around `transceive`.
   */
  timedExchange?(commands: readonly Uint8Array[]): Promise<TimedAnswer[]>;
  /** The card currently presented, if any. */
  readonly card: CardPresence | undefined;
}
