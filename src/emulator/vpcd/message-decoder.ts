import { concat } from '../../desfire/bytes.js';

/**
 * Cuts the byte stream from vpcd into messages (2-byte big-endian length, then the payload):
 * TCP may split a message over several chunks or put several messages in one.
 */
export class VpcdMessageDecoder {
  #pending: Uint8Array = new Uint8Array(0);

  /** Adds a chunk; returns the messages it completed, in order, as plain Uint8Array copies. */
  push(chunk: Uint8Array): Uint8Array[] {
    // new Uint8Array(typedArray) copies: never a view of a (Node Buffer) chunk.
    this.#pending = this.#pending.length === 0 ? new Uint8Array(chunk) : concat(this.#pending, chunk);
    const messages: Uint8Array[] = [];
    let offset = 0;
    while (this.#pending.length - offset >= 2) {
      const length = (this.#pending[offset] << 8) | this.#pending[offset + 1];
      if (this.#pending.length - offset - 2 < length) break;
      messages.push(this.#pending.slice(offset + 2, offset + 2 + length)); // a Uint8Array, so a copy
      offset += 2 + length;
    }
    this.#pending = this.#pending.subarray(offset);
    return messages;
  }

  /** Bytes received that do not yet make a whole message. */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}
