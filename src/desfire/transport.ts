/** What the reader saw of the card when it came into the field. */
export interface CardPresence {
  /** The anticollision UID (4, 7 or 10 bytes; a random 4-byte ID when the card has random UID on). */
  readonly uid: Uint8Array;
  /** The ATR the PC/SC layer built for the card, when the card came through PC/SC. */
  readonly atr?: Uint8Array;
}

/**
 * How the reader side reaches a card: one APDU out, one answer back. Implemented by the
 * in-process emulator, PC/SC readers, and the gRPC relay. A transport failure (card removed,
 * reader gone, relay broken) rejects with a plain Error, never a DesfireError: that type is for
 * what the card or the protocol said.
 */
export interface Transport {
  transceive(apdu: Uint8Array): Promise<Uint8Array>;
  /** The card currently presented, if any. */
  readonly card: CardPresence | undefined;
}
