import { CardPowerLost } from './card-endpoint.js';

/**
 * The card's non-volatile memory, as far as tearing is concerned: every change to persistent
 * state is one call to `write`, made only after the command has checked everything, so a write
 * either happens whole or not at all. A simulated power loss at the Nth write throws
 * `CardPowerLost` instead of applying that write.
 */
export class NvMemory {
  #tearCountdown: number | undefined;
  #completed = 0;

  /** Arms a power loss at the `n`th persistent write from now (1 = the next one); undefined disarms. */
  tearAtWrite(n: number | undefined): void {
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new RangeError(`tear index must be a positive integer, got ${n}`);
    this.#tearCountdown = n;
  }

  /** Persistent writes completed since the card was made (tests count them to tear at each one). */
  get completedWrites(): number {
    return this.#completed;
  }

  write(mutation: () => void): void {
    if (this.#tearCountdown !== undefined && --this.#tearCountdown === 0) {
      this.#tearCountdown = undefined;
      throw new CardPowerLost(`power lost at persistent write ${this.#completed + 1}`);
    }
    mutation();
    this.#completed++;
  }
}
