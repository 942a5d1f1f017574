import { assertBytes, xorInPlace } from '../bytes.js';
import type { BlockCipher } from './block-cipher.js';

/**
 * CMAC (NIST SP 800-38B, RFC 4493) over a block cipher whose key schedule already exists;
 * the subkeys K1/K2 are derived once per key. Works for 16-byte (AES) and 8-byte (DES/3DES) blocks.
 *
 * DESFire EV1 chains its session IV through every CMAC, so `mac` takes an optional IV:
 * with the zero IV it is the standard CMAC.
 */
export class Cmac {
  readonly cipher: BlockCipher;
  readonly #k1: Uint8Array;
  readonly #k2: Uint8Array;
  readonly #zero: Uint8Array;

  constructor(cipher: BlockCipher) {
    this.cipher = cipher;
    this.#zero = new Uint8Array(cipher.blockSize);
    const { l, k1, k2 } = cmacSubkeys(cipher);
    this.#k1 = k1;
    this.#k2 = k2;
    l.fill(0);
  }

  /** The full-length MAC (one block) of `message`, chained from `iv` (zero when omitted). */
  mac(message: Uint8Array, iv?: Uint8Array): Uint8Array {
    assertBytes(message, 'message');
    const b = this.cipher.blockSize;
    const complete = message.length > 0 && message.length % b === 0;
    const padded = complete ? message.slice() : padIso9797M2(message, b);
    xorInPlace(padded, complete ? this.#k1 : this.#k2, padded.length - b);
    return this.#lastBlock(padded, iv);
  }

  /**
   * CMAC of a message the caller has already padded to whole blocks, with the subkey chosen
   * by the caller. AN10922 needs this: it pads short inputs to two blocks (and uses K2)
   * even where standard CMAC would not pad.
   */
  macPrepared(padded: Uint8Array, subkey: 'k1' | 'k2'): Uint8Array {
    const b = this.cipher.blockSize;
    if (padded.length === 0 || padded.length % b !== 0) throw new RangeError('prepared CMAC input must be whole blocks');
    const input = padded.slice();
    xorInPlace(input, subkey === 'k1' ? this.#k1 : this.#k2, input.length - b);
    return this.#lastBlock(input);
  }

  /** Wipes the subkeys and destroys the cipher (and its key); unusable afterwards. */
  destroy(): void {
    this.#k1.fill(0);
    this.#k2.fill(0);
    this.cipher.destroy();
  }

  #lastBlock(blocks: Uint8Array, iv?: Uint8Array): Uint8Array {
    const out = this.cipher.encryptCbc(blocks, iv ?? this.#zero);
    return out.slice(out.length - this.cipher.blockSize);
  }
}

/** RFC 4493 §2.3 / SP 800-38B §6.1: L = E(K, 0^b); K1 = L·x; K2 = K1·x (published vectors give all three). */
export function cmacSubkeys(cipher: BlockCipher): { l: Uint8Array; k1: Uint8Array; k2: Uint8Array } {
  const l = cipher.encryptEcb(new Uint8Array(cipher.blockSize));
  const k1 = doubleInField(l);
  return { l, k1, k2: doubleInField(k1) };
}

/** Multiplication by x in GF(2^128) or GF(2^64): shift left one bit, reduce with Rb (0x87 / 0x1B). */
function doubleInField(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(block.length);
  let carry = 0;
  for (let i = block.length - 1; i >= 0; i--) {
    out[i] = ((block[i] << 1) | carry) & 0xff;
    carry = block[i] >> 7;
  }
  // Constant time: the reduction is masked in, never branched on.
  out[block.length - 1] ^= (block.length === 16 ? 0x87 : 0x1b) & -carry;
  return out;
}

/** ISO/IEC 9797-1 padding method 2: 0x80 then zeros up to a whole block (always adds at least one byte). */
export function padIso9797M2(data: Uint8Array, blockSize: number): Uint8Array {
  const out = new Uint8Array((Math.floor(data.length / blockSize) + 1) * blockSize);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}
