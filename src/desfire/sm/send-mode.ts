import type { BlockCipher } from '../crypto/block-cipher.js';

/**
 * The "send mode" of original (d40) DESFire: whatever the reader sends enciphered, it
 * processes with the DEcipher operation, chaining like CBC encryption:
 * Y[i] = D(P[i] ⊕ Y[i-1]), Y[-1] = 0. The card, which only enciphers, undoes it with
 * P[i] = E(Y[i]) ⊕ Y[i-1]. Used by Authenticate 0x0A and by d40 full-mode commands.
 */
export function sendModeDecipher(cipher: BlockCipher, plain: Uint8Array): Uint8Array {
  const b = cipher.blockSize;
  const out = new Uint8Array(plain.length);
  let previous: Uint8Array = new Uint8Array(b);
  for (let i = 0; i < plain.length; i += b) {
    const block = plain.slice(i, i + b);
    for (let j = 0; j < b; j++) block[j] ^= previous[j];
    previous = cipher.decryptEcb(block);
    out.set(previous, i);
  }
  return out;
}

export function sendModeEncipher(cipher: BlockCipher, enciphered: Uint8Array): Uint8Array {
  const b = cipher.blockSize;
  const out = cipher.encryptEcb(enciphered);
  for (let i = out.length - b; i >= b; i -= b) {
    for (let j = 0; j < b; j++) out[i + j] ^= enciphered[i - b + j];
  }
  return out;
}
