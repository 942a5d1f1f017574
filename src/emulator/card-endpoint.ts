/**
 * What a reader slot needs of a card: power, its ATR and UID, and APDUs. The virtual card
 * implements it; the in-process transport and the vpcd client drive it.
 */
export interface CardEndpoint {
  /** Powers the card up (a fresh random UID when random UID is on) and returns its PC/SC ATR. */
  powerOn(): Uint8Array;
  /** Powers the card down: volatile state (sessions, uncommitted transactions) is lost. */
  powerOff(): void;
  /** The UID the reader sees in anticollision (random per power-up when random UID is on). */
  readonly uid: Uint8Array;
  /**
   * Answers one APDU (native or ISO-wrapped DESFire, or ISO 7816-4). Throws `CardPowerLost` when a
   * simulated power loss (tearing) cuts the card off mid-command: the card is then powered off.
   */
  transceive(apdu: Uint8Array): Uint8Array;
  /** Added delay before each answer, in ms (relay simulation); 0 when none. */
  readonly answerDelayMs: number;
}

/** The card lost power while answering (a simulated tear): no answer comes back. */
export class CardPowerLost extends Error {
  override readonly name = 'CardPowerLost';
}
