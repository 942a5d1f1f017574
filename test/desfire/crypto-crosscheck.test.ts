import { cbc, cmac as nobleCmac, ecb } from '@noble/ciphers/aes.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xor } from '../../src/desfire/bytes.js';
import { Cmac } from '../../src/desfire/crypto/cmac.js';
import { createBlockCipher } from '../../src/desfire/crypto/key-type.js';

// Our OpenSSL-backed AES keeps long-lived contexts and starts CBC messages by XORing the
// context's chaining value away; @noble/ciphers is an independent implementation to hold it to.
const key = fc.uint8Array({ minLength: 16, maxLength: 16 });
const iv = fc.uint8Array({ minLength: 16, maxLength: 16 });
const blocks = fc.integer({ min: 0, max: 6 }).chain((n) => fc.uint8Array({ minLength: 16 * n, maxLength: 16 * n }));

describe('AES against @noble/ciphers', () => {
  it('ECB and CBC agree in both directions, with one cipher object reused across calls', () => {
    fc.assert(
      fc.property(key, fc.array(fc.tuple(blocks, iv), { minLength: 1, maxLength: 8 }), (k, messages) => {
        const ours = createBlockCipher('aes', k);
        for (const [m, v] of messages) {
          expect(ours.encryptEcb(m)).toEqual(ecb(k, { disablePadding: true }).encrypt(m));
          const c = cbc(k, v, { disablePadding: true }).encrypt(m);
          expect(ours.encryptCbc(m, v)).toEqual(c);
          expect(ours.decryptCbc(c, v)).toEqual(m);
          expect(ours.decryptEcb(ours.encryptEcb(m))).toEqual(m);
        }
      }),
    );
  });

  it('CMAC agrees for every message length, and a chained IV acts on the first block', () => {
    fc.assert(
      fc.property(key, fc.uint8Array({ maxLength: 100 }), iv, (k, m, v) => {
        const ours = new Cmac(createBlockCipher('aes', k));
        expect(ours.mac(m)).toEqual(nobleCmac(m, k));
        if (m.length >= 16) {
          const shifted = m.slice();
          shifted.set(xor(m.subarray(0, 16), v));
          expect(ours.mac(m, v)).toEqual(nobleCmac(shifted, k));
        }
      }),
    );
  });
});
