import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { assertBytes, xorInPlace } from '../bytes.js';

/**
 * A block cipher bound to one key, with the key schedule computed once.
 *
 * Backed by OpenSSL through `node:crypto` (AES-NI, constant time for AES). What costs in
 * DESFire crypto is the number of calls into OpenSSL, context creation and small allocations,
 * not AES itself, so each key keeps long-lived OpenSSL contexts, made on first use, and every
 * operation is one call:
 * - one CBC encrypt context that is never finalised. OpenSSL chains each new block with the
 *   last ciphertext block it produced (`chain`); to start a message under any IV we XOR
 *   `IV ⊕ chain` into the first plaintext block, so E(P0 ⊕ chain ⊕ IV ⊕ chain) = E(P0 ⊕ IV).
 *   A single-block ECB encryption is the same call with a zero IV, which is all CMAC subkeys
 *   and EV2 IVs need, so session keys usually never create a second context;
 * - ECB encrypt (several blocks at once) and ECB decrypt contexts, reusable as ECB is stateless.
 * CBC decryption is ECB decryption of all blocks followed by one XOR pass.
 */
export interface BlockCipher {
  readonly blockSize: 8 | 16;
  encryptEcb(data: Uint8Array): Uint8Array;
  decryptEcb(data: Uint8Array): Uint8Array;
  encryptCbc(data: Uint8Array, iv: Uint8Array): Uint8Array;
  decryptCbc(data: Uint8Array, iv: Uint8Array): Uint8Array;
  /** Wipes the key copy held here and drops the OpenSSL contexts (freed with them); unusable afterwards. */
  destroy(): void;
}

/** OpenSSL cipher names for one algorithm in ECB and CBC. */
interface Algorithm {
  readonly ecb: string;
  readonly cbc: string;
  readonly blockSize: 8 | 16;
}

export const AES_128: Algorithm = { ecb: 'aes-128-ecb', cbc: 'aes-128-cbc', blockSize: 16 };
/** Three-key EDE; DES and 2K3DES keys are expanded to three keys before use (OpenSSL 3 has no plain DES). */
export const TDES_EDE3: Algorithm = { ecb: 'des-ede3-ecb', cbc: 'des-ede3-cbc', blockSize: 8 };

export class OpenSslBlockCipher implements BlockCipher {
  readonly blockSize: 8 | 16;
  readonly #algorithm: Algorithm;
  readonly #key: Uint8Array;
  readonly #zero: Uint8Array;
  readonly #chain: Uint8Array;
  #cbcEncrypt: Cipher | undefined;
  #ecbEncrypt: Cipher | undefined;
  #ecbDecrypt: Decipher | undefined;
  #destroyed = false;

  constructor(algorithm: Algorithm, key: Uint8Array) {
    this.blockSize = algorithm.blockSize;
    this.#algorithm = algorithm;
    // Private copy: the caller may wipe its array; OpenSSL copies it again into each context.
    this.#key = key.slice();
    this.#zero = new Uint8Array(algorithm.blockSize);
    this.#chain = new Uint8Array(algorithm.blockSize);
  }

  encryptEcb(data: Uint8Array): Uint8Array {
    this.#checkBlocks(data);
    if (data.length === this.blockSize) return this.encryptCbc(data, this.#zero);
    this.#ecbEncrypt ??= createCipheriv(this.#algorithm.ecb, this.#key, null).setAutoPadding(false);
    return asBytes(this.#ecbEncrypt.update(data));
  }

  decryptEcb(data: Uint8Array): Uint8Array {
    this.#checkBlocks(data);
    this.#ecbDecrypt ??= createDecipheriv(this.#algorithm.ecb, this.#key, null).setAutoPadding(false);
    return asBytes(this.#ecbDecrypt.update(data));
  }

  encryptCbc(data: Uint8Array, iv: Uint8Array): Uint8Array {
    this.#checkBlocks(data);
    assertBytes(iv, 'iv', this.blockSize);
    if (data.length === 0) return new Uint8Array(0);
    this.#cbcEncrypt ??= createCipheriv(this.#algorithm.cbc, this.#key, this.#chain).setAutoPadding(false);
    const input = data.slice();
    const chain = this.#chain;
    for (let i = 0; i < chain.length; i++) input[i] ^= iv[i] ^ chain[i];
    const out = asBytes(this.#cbcEncrypt.update(input));
    this.#chain.set(out.subarray(out.length - this.blockSize));
    return out;
  }

  decryptCbc(data: Uint8Array, iv: Uint8Array): Uint8Array {
    assertBytes(iv, 'iv', this.blockSize);
    const out = this.decryptEcb(data);
    const b = this.blockSize;
    // P[i] = D(C[i]) ⊕ C[i-1], with C[-1] = IV.
    for (let i = out.length - b; i >= b; i -= b) {
      for (let j = 0; j < b; j++) out[i + j] ^= data[i - b + j];
    }
    if (out.length > 0) xorInPlace(out, iv);
    return out;
  }

  destroy(): void {
    this.#key.fill(0);
    this.#chain.fill(0);
    this.#cbcEncrypt = this.#ecbEncrypt = undefined;
    this.#ecbDecrypt = undefined;
    this.#destroyed = true;
  }

  #checkBlocks(data: Uint8Array): void {
    if (this.#destroyed) throw new Error('cipher used after destroy()');
    assertBytes(data, 'data');
    if (data.length % this.blockSize !== 0) {
      throw new RangeError(`data must be a whole number of ${this.blockSize}-byte blocks, got ${data.length} bytes`);
    }
  }
}

/** A plain Uint8Array view of OpenSSL's output Buffer (no copy), so callers see one array type. */
function asBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}
