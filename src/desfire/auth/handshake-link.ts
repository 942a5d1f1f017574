import type { BlockCipher } from '../crypto/block-cipher.js';
import { lengthError } from '../errors.js';
import { sendModeDecipher, sendModeEncipher } from '../sm/send-mode.js';

/**
 * How the three messages of a mutual authentication are enciphered, per generation.
 * Both ends run the same operations in the same order (card→reader challenge, reader→card
 * token, card→reader answer), so state such as EV1's running IV stays in step.
 */
export interface HandshakeLink {
  encipherToCard(plain: Uint8Array): Uint8Array;
  decipherToCard(enciphered: Uint8Array): Uint8Array;
  encipherFromCard(plain: Uint8Array): Uint8Array;
  decipherFromCard(enciphered: Uint8Array): Uint8Array;
}

/**
 * Authenticate 0x0A (d40): the card enciphers in CBC from a zero IV; the reader sends in the
 * DESFire send mode (see send-mode.ts), each message from a zero IV.
 */
export function legacyLink(cipher: BlockCipher): HandshakeLink {
  const zero = new Uint8Array(cipher.blockSize);
  return {
    encipherToCard: (plain) => sendModeDecipher(cipher, plain),
    decipherToCard: (enciphered) => sendModeEncipher(cipher, checkBlocks(cipher, enciphered)),
    encipherFromCard: (plain) => cipher.encryptCbc(plain, zero),
    decipherFromCard: (enciphered) => cipher.decryptCbc(checkBlocks(cipher, enciphered), zero),
  };
}

/**
 * AuthenticateISO 0x1A / AuthenticateAES 0xAA (EV1): CBC in both directions with one IV that
 * runs through the handshake: it starts at zero and becomes the last cipher block of each message.
 */
export function chainedLink(cipher: BlockCipher): HandshakeLink {
  let iv = new Uint8Array(cipher.blockSize);
  const encipher = (plain: Uint8Array) => {
    const out = cipher.encryptCbc(plain, iv);
    iv = out.slice(out.length - cipher.blockSize);
    return out;
  };
  const decipher = (enciphered: Uint8Array) => {
    const out = cipher.decryptCbc(checkBlocks(cipher, enciphered), iv);
    iv = enciphered.slice(enciphered.length - cipher.blockSize);
    return out;
  };
  return { encipherToCard: encipher, decipherToCard: decipher, encipherFromCard: encipher, decipherFromCard: decipher };
}

/** AuthenticateEV2First 0x71 / NonFirst 0x77: AES-CBC, every message from a zero IV. */
export function zeroIvLink(cipher: BlockCipher): HandshakeLink {
  const zero = new Uint8Array(cipher.blockSize);
  const encipher = (plain: Uint8Array) => cipher.encryptCbc(plain, zero);
  const decipher = (enciphered: Uint8Array) => cipher.decryptCbc(checkBlocks(cipher, enciphered), zero);
  return { encipherToCard: encipher, decipherToCard: decipher, encipherFromCard: encipher, decipherFromCard: decipher };
}

function checkBlocks(cipher: BlockCipher, enciphered: Uint8Array): Uint8Array {
  if (enciphered.length === 0 || enciphered.length % cipher.blockSize !== 0) {
    throw lengthError(`authentication message of ${enciphered.length} bytes is not whole ${cipher.blockSize}-byte blocks`);
  }
  return enciphered;
}
