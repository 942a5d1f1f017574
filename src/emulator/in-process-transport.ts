import { setTimeout as sleep } from 'node:timers/promises';
import type { CardPresence, Transport } from '../desfire/transport.js';
import type { CardEndpoint } from './card-endpoint.js';

/**
 * A reader slot wired straight to a virtual card, no sockets: for tests and benchmarks.
 * The card is powered on when placed; a simulated power loss rejects the transceive (the
 * reader sees a card leave the field) and leaves the slot empty until `place` is called again.
 */
export class InProcessTransport implements Transport {
  #card: CardEndpoint | undefined;
  #presence: CardPresence | undefined;

  constructor(card?: CardEndpoint) {
    if (card) this.place(card);
  }

  /** Puts a card in the field (powers it on). */
  place(card: CardEndpoint): void {
    const atr = card.powerOn();
    this.#card = card;
    this.#presence = { uid: card.uid, atr };
  }

  /** Takes the card out of the field (powers it off). */
  remove(): void {
    this.#card?.powerOff();
    this.#card = undefined;
    this.#presence = undefined;
  }

  get card(): CardPresence | undefined {
    return this.#presence;
  }

  async transceive(apdu: Uint8Array): Promise<Uint8Array> {
    const card = this.#card;
    if (!card) throw new Error('no card in the field');
    let answer: Uint8Array;
    try {
      answer = card.transceive(apdu);
    } catch (e) {
      this.#card = undefined;
      this.#presence = undefined;
      throw e;
    }
    if (card.answerDelayMs > 0) await sleep(card.answerDelayMs);
    return answer;
  }
}
