import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ev2SessionVector } from '../../src/desfire/auth/session-keys.js';
import { concat, constantTimeEqual, rotateLeft } from '../../src/desfire/bytes.js';
import { padIso9797M2 } from '../../src/desfire/crypto/cmac.js';
import { truncateMac } from '../../src/desfire/sm/ev2-channel.js';
import { unpadIso9797M2 } from '../../src/desfire/sm/padding.js';

/**
 * The naive baseline the benchmarks compare against: the same AES-128 work done the obvious
 * way with `node:crypto`, creating a new OpenSSL cipher for every operation. The protocol
 * arithmetic (session vectors, MAC truncation, padding) is shared with the real code, so only
 * the cipher strategy differs.
 */

const ZERO = new Uint8Array(16);

function once(mode: 'ecb' | 'cbc', direction: 'encrypt' | 'decrypt', key: Uint8Array, iv: Uint8Array | null, data: Uint8Array): Uint8Array {
  const algorithm = `aes-128-${mode}`;
  const c = direction === 'encrypt' ? createCipheriv(algorithm, key, iv) : createDecipheriv(algorithm, key, iv);
  c.setAutoPadding(false);
  return new Uint8Array(c.update(data));
}

export const naiveAesBlock = (key: Uint8Array, block: Uint8Array): Uint8Array => once('ecb', 'encrypt', key, null, block);

function shiftXor(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = ((block[i] << 1) | (i < 15 ? block[i + 1] >> 7 : 0)) & 0xff;
  if (block[0] & 0x80) out[15] ^= 0x87;
  return out;
}

export function naiveCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const k1 = shiftXor(once('ecb', 'encrypt', key, null, ZERO));
  const complete = message.length > 0 && message.length % 16 === 0;
  const padded = complete ? message.slice() : padIso9797M2(message, 16);
  const subkey = complete ? k1 : shiftXor(k1);
  for (let i = 0; i < 16; i++) padded[padded.length - 16 + i] ^= subkey[i];
  const out = once('cbc', 'encrypt', key, ZERO, padded);
  return out.slice(out.length - 16);
}

/** Recorded card messages of one EV2First authentication followed by a full-mode ReadData. */
export interface RecordedSession {
  readonly key: Uint8Array;
  readonly rndA: Uint8Array;
  readonly challenge: Uint8Array;
  readonly answer: Uint8Array;
  readonly readHeader: Uint8Array;
  readonly readResponse: Uint8Array;
}

/** Reader side of `RecordedSession`, a new cipher per operation; returns the data read. */
export function naiveEv2ReaderFlow(s: RecordedSession): Uint8Array {
  const rndB = once('cbc', 'decrypt', s.key, ZERO, s.challenge);
  once('cbc', 'encrypt', s.key, ZERO, concat(s.rndA, rotateLeft(rndB)));
  const plain = once('cbc', 'decrypt', s.key, ZERO, s.answer);
  if (!constantTimeEqual(plain.subarray(4, 20), rotateLeft(s.rndA))) throw new Error('baseline: RndA mismatch');
  const ti = plain.slice(0, 4);
  const encKey = naiveCmac(s.key, ev2SessionVector('sv1', s.rndA, rndB));
  const macKey = naiveCmac(s.key, ev2SessionVector('sv2', s.rndA, rndB));
  truncateMac(naiveCmac(macKey, concat(Uint8Array.of(0xbd, 0, 0), ti, s.readHeader)));
  const enciphered = s.readResponse.subarray(0, s.readResponse.length - 8);
  const mac = truncateMac(naiveCmac(macKey, concat(Uint8Array.of(0x00, 1, 0), ti, enciphered)));
  if (!constantTimeEqual(mac, s.readResponse.subarray(enciphered.length))) throw new Error('baseline: MAC mismatch');
  const iv = once('ecb', 'encrypt', encKey, null, concat(Uint8Array.of(0x5a, 0xa5), ti, Uint8Array.of(1, 0), new Uint8Array(8)));
  return unpadIso9797M2(once('cbc', 'decrypt', encKey, iv, enciphered), 16);
}
