import { describe, expect, it } from 'vitest';
import { changeKeyCryptogram, readChangeKeyCryptogram, type KeyChange } from '../../src/desfire/change-key.js';
import { concat, toHex } from '../../src/desfire/bytes.js';
import { createBlockCipher, type KeyType } from '../../src/desfire/crypto/key-type.js';
import { Status } from '../../src/desfire/status.js';
import { Ev1Channel } from '../../src/desfire/sm/ev1-channel.js';
import type { Generation } from '../../src/desfire/sm/secure-channel.js';
import { outcome } from '../support/outcome.js';
import { hex, loadVectors, text, type Vector } from '../support/vectors.js';
import { AUTH_VARIANTS, authenticatePair, randomKey } from './support/sessions.js';

describe('ChangeKey cryptogram (published)', () => {
  it('EV1: key 0 to AES under a DES session, as RevK published it (C4 80)', () => {
    const v = loadVectors('ev1-legacy.json').vectors.find((x) => x.type === 'changeKeyEV1') as Vector;
    const change: KeyChange = { keyNo: 0x80, newKey: hex(v, 'newKey'), newKeyType: 'aes', newKeyVersion: hex(v, 'keyVersion')[0] };
    const cryptogram = changeKeyCryptogram('ev1', change);
    expect(toHex(cryptogram)).toBe(text(v, 'plainData').slice(0, cryptogram.length * 2));
    const channel = new Ev1Channel(createBlockCipher('des', hex(v, 'sessionKey')));
    expect(toHex(channel.wrapCryptogram(0xc4, Uint8Array.of(0x80), cryptogram))).toBe('80' + text(v, 'encryptedData'));
  });

  it('EV2: key data of AN12196 (another key, then the session key)', () => {
    const steps = loadVectors('an12196-ev2.json').vectors.flatMap((v) => (v.steps as Vector[] | undefined) ?? []).filter((s) => s.command === 'c4');
    for (const step of steps) {
      const change: KeyChange = {
        keyNo: hex(step, 'header')[0],
        newKey: hex(step, 'newKey'),
        newKeyType: 'aes',
        newKeyVersion: hex(step, 'keyVersion')[0],
        oldKey: typeof step.oldKey === 'string' ? hex(step, 'oldKey') : undefined,
      };
      expect(toHex(changeKeyCryptogram('ev2', change))).toBe(text(step, 'plainData'));
    }
    expect(steps.length).toBe(2);
  });
});

describe.each(AUTH_VARIANTS)('ChangeKey cryptogram round trip in a $name session', ({ keyType, scheme }) => {
  const generationKeyTypes: Record<Generation, KeyType[]> = { d40: ['des', '2k3des'], ev1: ['des', '2k3des', '3k3des', 'aes'], ev2: ['aes'] };

  it('the card reads back what the reader sent, for its own key and another, and refuses a corrupted one', () => {
    const key = randomKey(keyType);
    const { reader, card } = authenticatePair(scheme(key), scheme(key));
    for (const newKeyType of generationKeyTypes[reader.generation]) {
      for (const oldKey of [undefined, randomKey(newKeyType)]) {
        const change: KeyChange = { keyNo: 0x02, newKey: randomKey(newKeyType), newKeyType, newKeyVersion: 0x42, oldKey };
        const body = reader.wrapCryptogram(0xc4, Uint8Array.of(change.keyNo), changeKeyCryptogram(reader.generation, change));
        const plain = card.unwrapCryptogram(0xc4, body, 1).data;
        const read = readChangeKeyCryptogram(card.generation, plain, { keyNo: 0x02, newKeyType, oldKey });
        expect(read.version).toBe(0x42);
        // DES-family keys carry the version in their parity bits; compare without them.
        const strip = (k: Uint8Array) => toHex(k.map((b) => (newKeyType === 'aes' ? b : b & 0xfe)));
        expect(strip(read.key)).toBe(strip(newKeyType === 'des' ? change.newKey.subarray(0, 8) : change.newKey));
        if (card.generation === 'ev2' && !oldKey) continue; // no CRC of its own: the MAC of full mode protects it (see below)
        const tampered = plain.slice();
        tampered[1] ^= 0x01;
        expect(outcome(() => readChangeKeyCryptogram(card.generation, tampered, { keyNo: 0x02, newKeyType, oldKey }))).toBe(Status.INTEGRITY_ERROR);
      }
    }
  });
});

describe('EV2 ChangeKey of the session key', () => {
  it('is protected by the full-mode MAC: a flipped bit on the wire is refused before the cryptogram is read', () => {
    const key = randomKey('aes');
    const variant = AUTH_VARIANTS.find((v) => v.name.startsWith('EV2')) as (typeof AUTH_VARIANTS)[number];
    const { reader, card } = authenticatePair(variant.scheme(key), variant.scheme(key));
    const change: KeyChange = { keyNo: 0, newKey: randomKey('aes'), newKeyType: 'aes', newKeyVersion: 1 };
    const body = reader.wrapCryptogram(0xc4, Uint8Array.of(0), changeKeyCryptogram('ev2', change));
    body[3] ^= 0x80;
    expect(outcome(() => card.unwrapCryptogram(0xc4, body, 1))).toBe(Status.INTEGRITY_ERROR);
  });
});

describe('cryptogram lengths', () => {
  it('refuses a cryptogram too short for its layout', () => {
    expect(outcome(() => readChangeKeyCryptogram('ev2', concat(new Uint8Array(10)), { keyNo: 0, newKeyType: 'aes' }))).toBe(Status.LENGTH_ERROR);
  });
});
