import { EMPTY } from '../../desfire/bytes.js';
import { CardPowerLost, type CardEndpoint } from '../card-endpoint.js';
import type { VpcdEventListener } from './events.js';
import { isControlCode, VpcdControl } from './protocol.js';
import { answerReaderCommand, isReaderCommand } from './reader-commands.js';

/** What to do with one message from vpcd. */
export type SlotReply =
  /** Send nothing (power off / on / reset, an empty message). */
  | { readonly kind: 'none' }
  /** Send `bytes` after `delayMs` (the card's answer delay; 0 for the ATR and the reader's own answers). */
  | { readonly kind: 'answer'; readonly bytes: Uint8Array; readonly delayMs: number }
  /** The card gave no answer: behave as a card pulled from the field. */
  | { readonly kind: 'card-lost'; readonly reason: string };

/**
 * A reader slot with the card in its field, as vpcd drives it; no sockets, no timers. The card is
 * powered when it enters the field (`insert`: anticollision gives its UID, the ATR is built), and
 * then follows pcscd's power control codes. ATR requests, which pcscd also sends as its presence
 * poll about every 400 ms, are answered from the last power-up and never touch the card.
 */
export class CardSlot {
  readonly #card: CardEndpoint;
  readonly #onEvent: VpcdEventListener;
  #atr: Uint8Array = EMPTY;
  #powered = false;

  constructor(card: CardEndpoint, onEvent: VpcdEventListener = () => {}) {
    this.#card = card;
    this.#onEvent = onEvent;
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** The UID the reader got in anticollision (a copy). */
  get uid(): Uint8Array {
    return this.#card.uid.slice();
  }

  /** The card enters the field: powered up, ATR kept for vpcd's requests. */
  insert(): void {
    this.#powerOn();
  }

  /** The card leaves the field (connection closed, or lost power on its own). */
  remove(): void {
    if (this.#powered) this.#card.powerOff();
    this.#powered = false;
    this.#atr = EMPTY;
  }

  /**
   * Handles one message from vpcd. A 1-byte message is a control code when it is one (00, 01, 02,
   * 04), otherwise a 1-byte command: native DESFire commands such as GetVersion (60) or an empty
   * additional frame (AF) are 1 byte long, and vpcd waits for their answer. (vpicc ignores them,
   * which leaves vpcd waiting forever; the 1-byte commands 00, 01, 02 and 04 cannot go through vpcd
   * at all.) Errors other than CardPowerLost are bugs and propagate.
   */
  handle(message: Uint8Array): SlotReply {
    if (message.length === 0) return this.#ignore(message, 'empty message');
    if (message.length === 1 && isControlCode(message[0])) return this.#control(message[0]);
    return this.#command(message);
  }

  #control(code: number): SlotReply {
    switch (code) {
      case VpcdControl.GetAtr:
        return { kind: 'answer', bytes: this.#atr, delayMs: 0 };
      case VpcdControl.PowerOn:
        if (!this.#powered) this.#powerOn();
        this.#onEvent({ type: 'power', action: 'on' });
        return { kind: 'none' };
      case VpcdControl.PowerOff:
        if (this.#powered) this.#card.powerOff();
        this.#powered = false;
        this.#onEvent({ type: 'power', action: 'off' });
        return { kind: 'none' };
      case VpcdControl.Reset:
        if (this.#powered) this.#card.powerOff();
        this.#powerOn();
        this.#onEvent({ type: 'power', action: 'reset' });
        return { kind: 'none' };
      default:
        throw new RangeError(`not a vpcd control code: ${code}`);
    }
  }

  #command(apdu: Uint8Array): SlotReply {
    if (isReaderCommand(apdu)) {
      const answer = answerReaderCommand(apdu, { uid: this.#card.uid, atr: this.#atr });
      this.#onEvent({ type: 'apdu', by: 'reader', command: apdu, answer });
      return { kind: 'answer', bytes: answer, delayMs: 0 };
    }
    if (!this.#powered) return { kind: 'card-lost', reason: 'command to an unpowered card' };
    let answer: Uint8Array;
    try {
      answer = this.#card.transceive(apdu);
    } catch (error) {
      if (!(error instanceof CardPowerLost)) throw error;
      // The card powered itself off (CardEndpoint contract): no powerOff() from us.
      this.#powered = false;
      this.#atr = EMPTY;
      return { kind: 'card-lost', reason: `power lost (${error.message || 'tear'})` };
    }
    this.#onEvent({ type: 'apdu', by: 'card', command: apdu, answer });
    return { kind: 'answer', bytes: answer, delayMs: this.#card.answerDelayMs };
  }

  #powerOn(): void {
    this.#atr = this.#card.powerOn().slice();
    this.#powered = true;
  }

  #ignore(message: Uint8Array, reason: string): SlotReply {
    this.#onEvent({ type: 'ignored', message, reason });
    return { kind: 'none' };
  }
}
