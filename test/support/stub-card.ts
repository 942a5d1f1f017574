import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { CardPowerLost } from '../../src/emulator/card-endpoint.js';
import type { EmulatedCard } from '../../src/cli/emulate.js';

/** The ATR a PC/SC contactless reader builds for a DESFire EV3 (ATS historical byte 80). */
export const STUB_ATR = '3b8180018080';

export interface StubCardOptions {
  readonly uid?: string;
  /** Answers by command, in hex; any other command answers 91 1C (illegal command code). */
  readonly answers?: Readonly<Record<string, string>>;
  /** Commands (hex) at which the card loses power instead of answering. */
  readonly tearOn?: readonly string[];
  readonly answerDelayMs?: number;
  /** Throw this (a bug, not a power loss) on any command. */
  readonly failWith?: Error;
}

/**
 * A card that stands in for the emulator's VirtualCard in vpcd tests: fixed answers by command,
 * a power loss on chosen commands, and a log of everything done to it.
 */
export class StubCard implements EmulatedCard {
  readonly log: string[] = [];
  answerDelayMs: number;
  #uid: Uint8Array;
  #powered = false;
  #transceived = 0;
  readonly #options: StubCardOptions;

  constructor(options: StubCardOptions = {}) {
    this.#options = options;
    this.#uid = fromHex(options.uid ?? '04a1b2c3d4e5f6');
    this.answerDelayMs = options.answerDelayMs ?? 0;
  }

  get uid(): Uint8Array {
    return this.#uid.slice();
  }

  get powered(): boolean {
    return this.#powered;
  }

  powerOn(): Uint8Array {
    this.log.push('powerOn');
    this.#powered = true;
    return fromHex(STUB_ATR);
  }

  powerOff(): void {
    this.log.push('powerOff');
    this.#powered = false;
  }

  transceive(apdu: Uint8Array): Uint8Array {
    const command = toHex(apdu);
    this.log.push(`> ${command}`);
    if (!this.#powered) throw new Error('stub card: transceive while powered off');
    if (this.#options.failWith) throw this.#options.failWith;
    if (this.#options.tearOn?.includes(command)) {
      this.#powered = false;
      this.log.push('power lost');
      throw new CardPowerLost('stub tear');
    }
    this.#transceived++;
    return fromHex(this.#options.answers?.[command] ?? '911c');
  }

  exportImage(): unknown {
    return { uid: toHex(this.#uid), transceived: this.#transceived };
  }
}
