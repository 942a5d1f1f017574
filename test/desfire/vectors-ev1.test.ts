import { describe, expect, it } from 'vitest';
import { CardAuthentication, ReaderAuthentication } from '../../src/desfire/auth/handshake.js';
import { ev1Scheme } from '../../src/desfire/auth/schemes.js';
import { sessionKeyFromRandoms } from '../../src/desfire/auth/session-keys.js';
import { toHex } from '../../src/desfire/bytes.js';
import { createBlockCipher, type KeyType } from '../../src/desfire/crypto/key-type.js';
import { scriptedRandom } from '../../src/desfire/random.js';
import { Ev1Channel } from '../../src/desfire/sm/ev1-channel.js';
import { hex, loadVectors, text, type Vector } from '../support/vectors.js';

// DESFire EV1 published examples (ev1-legacy.json), replayed on both ends.

function replayAuthentication(v: Vector, keyType: KeyType): void {
  const key = hex(v, 'key');
  const [rndA, rndB] = [hex(v, 'rndA'), hex(v, 'rndB')];
  const card = new CardAuthentication(ev1Scheme(keyType, key), scriptedRandom(rndB));
  expect(toHex(card.challenge())).toBe(text(v, 'encRndB'));
  const reader = new ReaderAuthentication(ev1Scheme(keyType, key), scriptedRandom(rndA));
  const token = reader.answerChallenge(hex(v, 'encRndB'));
  expect(toHex(token)).toBe(text(v, 'cmdData'));
  const { answer } = card.verifyToken(token);
  expect(toHex(answer)).toBe(text(v, 'response'));
  expect(reader.finish(answer).generation).toBe('ev1');
  expect(toHex(sessionKeyFromRandoms(keyType, rndA, rndB))).toBe(text(v, 'sessionKey'));
}

function replayChangeKey(v: Vector): void {
  // The first command after an ISO authentication with a DES key: IV zero, EV1 full mode,
  // CRC32 over C4 || keyNo || NewKey || KeyVer, zero padding, DES-CBC.
  if (!/^0+$/.test(text(v, 'iv'))) throw new Error('this replay starts a session, so it needs the zero IV');
  const reader = new Ev1Channel(createBlockCipher('des', hex(v, 'sessionKey')));
  const card = new Ev1Channel(createBlockCipher('des', hex(v, 'sessionKey')));
  const keyNo = hex(v, 'keyNo');
  const keyData = Uint8Array.from([...hex(v, 'newKey'), ...hex(v, 'keyVersion')]);
  const cmd = parseInt(text(v, 'command'), 16);
  const body = reader.wrapCommand(cmd, keyNo, keyData, 'full');
  expect(toHex(body)).toBe(text(v, 'keyNo') + text(v, 'encryptedData'));
  expect(toHex(card.unwrapCommand(cmd, body, 1, 'full', keyData.length).data)).toBe(toHex(keyData));
  // The decrypted cryptogram, with its CRC32, as published.
  expect(toHex(createBlockCipher('des', hex(v, 'sessionKey')).decryptCbc(hex(v, 'encryptedData'), hex(v, 'iv')))).toBe(text(v, 'plainData'));
}

describe('ev1-legacy.json', () => {
  it.each(loadVectors('ev1-legacy.json').vectors)('$name', (v) => {
    switch (v.type) {
      case 'authenticateAES':
        return replayAuthentication(v, 'aes');
      case 'authenticateISO-DES':
        return replayAuthentication(v, 'des');
      case 'changeKeyEV1':
        return replayChangeKey(v);
      case 'desBlock':
        expect(toHex(createBlockCipher('des', hex(v, 'key')).decryptCbc(hex(v, 'ciphertext'), hex(v, 'iv')))).toBe(text(v, 'plaintext'));
        return;
      default:
        throw new Error(`unknown type ${String(v.type)}`);
    }
  });
});
