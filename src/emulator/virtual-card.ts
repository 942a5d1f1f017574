import { concat, EMPTY } from '../desfire/bytes.js';
import { isDesfireError } from '../desfire/errors.js';
import { encodeAnswerFrame, encodeIsoAnswer, ISO_CLA, parseIncomingFrame, WRAPPED_CLA, type CardAnswer } from '../desfire/framing/index.js';
import { systemRandom, type RandomSource } from '../desfire/random.js';
import { CardPowerLost, type CardEndpoint } from './card-endpoint.js';
import { dispatch } from './dispatcher.js';
import type { CardContext } from './handler.js';
import { answerIso7816 } from './iso7816/iso-layer.js';
import { isoStatusOf } from './iso7816/iso-status.js';
import { exportImage } from './image.js';
import type { PiccState } from './model.js';
import { OriginalityKeyPair } from './originality.js';
import { NvMemory } from './nv-memory.js';
import { Session } from './session.js';

/**
 * ATR a PC/SC contactless reader builds for an ISO 14443-4 card whose ATS carries the one
 * historical byte 0x80 (PC/SC part 3, 3.1.3.2.3): 3B 8n 80 01 || historical bytes || TCK.
 * This is the ATR PC/SC programs show for DESFire EV1, EV2 and EV3.
 */
const DESFIRE_ATR = Uint8Array.of(0x3b, 0x81, 0x80, 0x01, 0x80, 0x80);

/** Random-ID prefix: with random UID on, anticollision shows 08 followed by three random bytes (ISO 14443-3). */
const RANDOM_ID_PREFIX = 0x08;

export interface VirtualCardOptions {
  /** Source of RndB, TI, random IDs and proximity-check randoms; scripted in tests. */
  readonly random?: RandomSource;
}

/**
 * A software MIFARE DESFire EV3: persistent state (`PiccState`), volatile state (`Session`) and
 * the command dispatcher, reached through `transceive`. Faults for testing: a power loss at the
 * Nth persistent write, and an answer delay (relay simulation).
 */
export class VirtualCard implements CardEndpoint {
  readonly #picc: PiccState;
  readonly #session = new Session();
  readonly #nv = new NvMemory();
  readonly #ctx: CardContext;
  #powered = false;
  #anticollisionUid: Uint8Array;
  answerDelayMs = 0;

  constructor(picc: PiccState, options: VirtualCardOptions = {}) {
    this.#picc = picc;
    this.#anticollisionUid = picc.uid;
    this.#ctx = { picc, session: this.#session, nv: this.#nv, random: options.random ?? systemRandom };
  }

  /**
   * The public key (uncompressed secp224r1 point, 57 bytes) of the card's originality key: what a
   * verifier needs to check Read_Sig (a real card's is NXP's; a virtual card signs with its own).
   */
  get originalityPublicKey(): Uint8Array {
    return OriginalityKeyPair.fromPrivateKey(this.#picc.originalityKey).publicKey;
  }

  /** The card image (versioned JSON) of the persistent state, to save and load with `importImage`. */
  exportImage(): ReturnType<typeof exportImage> {
    return exportImage(this.#picc);
  }

  /** The persistent state (for images and tests); change it only through commands. */
  get state(): PiccState {
    return this.#picc;
  }

  get uid(): Uint8Array {
    return this.#anticollisionUid;
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** Persistent writes completed so far (tearing tests tear at each of them in turn). */
  get completedWrites(): number {
    return this.#nv.completedWrites;
  }

  /** Arms a power loss at the `n`th persistent write from now; undefined disarms. */
  tearAtWrite(n: number | undefined): void {
    this.#nv.tearAtWrite(n);
  }

  powerOn(): Uint8Array {
    this.#session.reset();
    this.#anticollisionUid = this.#picc.randomUid ? concat(Uint8Array.of(RANDOM_ID_PREFIX), this.#ctx.random(3)) : this.#picc.uid;
    this.#powered = true;
    return DESFIRE_ATR.slice();
  }

  powerOff(): void {
    this.#session.reset();
    this.#powered = false;
  }

  transceive(apdu: Uint8Array): Uint8Array {
    if (!this.#powered) throw new CardPowerLost('the card is not powered');
    const style = apdu[0] === WRAPPED_CLA ? 'wrapped' : 'native';
    let answer: CardAnswer;
    try {
      const incoming = parseIncomingFrame(apdu);
      if (incoming.kind === 'iso7816') return answerIso7816(this.#ctx, incoming.apdu);
      answer = dispatch(this.#ctx, incoming);
    } catch (e) {
      if (e instanceof CardPowerLost) {
        this.powerOff();
        throw e;
      }
      if (!isDesfireError(e)) throw e;
      // A malformed ISO 7816-4 command gets an ISO status word, not a DESFire status.
      if (apdu[0] === ISO_CLA) return encodeIsoAnswer(EMPTY, isoStatusOf(e));
      // Any refusal ends the authenticated state and any chain, as on a real card.
      this.#session.dropChains();
      this.#session.dropAuthentication();
      answer = { status: e.status, data: EMPTY };
    }
    return encodeAnswerFrame(style, answer);
  }
}
