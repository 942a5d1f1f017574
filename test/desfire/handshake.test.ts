import { describe, expect, it } from 'vitest';
import { CardAuthentication, ReaderAuthentication } from '../../src/desfire/auth/handshake.js';
import { ev1Scheme, ev2Scheme, legacyScheme } from '../../src/desfire/auth/schemes.js';
import { systemRandom } from '../../src/desfire/random.js';
import { Status } from '../../src/desfire/status.js';
import { outcome } from '../support/outcome.js';
import { AUTH_VARIANTS, authenticatePair, randomKey } from './support/sessions.js';

describe.each(AUTH_VARIANTS)('$name handshake', ({ keyType, scheme }) => {
  it('authenticates both ends with the same key and opens matching channels', () => {
    const key = randomKey(keyType);
    const { reader, card } = authenticatePair(scheme(key), scheme(key));
    expect(reader.generation).toBe(card.generation);
    const body = reader.wrapCommand(0xbd, Uint8Array.of(1), Uint8Array.of(1, 2, 3), 'full');
    expect(card.unwrapCommand(0xbd, body, 1, 'full').data).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('the card refuses a reader holding another key with AUTHENTICATION_ERROR', () => {
    const reader = new ReaderAuthentication(scheme(randomKey(keyType)), systemRandom);
    const card = new CardAuthentication(scheme(randomKey(keyType)), systemRandom);
    const token = reader.answerChallenge(card.challenge());
    expect(outcome(() => card.verifyToken(token))).toBe(Status.AUTHENTICATION_ERROR);
  });

  it('the reader refuses a card that does not know RndA (a clone) with AUTHENTICATION_ERROR', () => {
    const key = randomKey(keyType);
    const reader = new ReaderAuthentication(scheme(key), systemRandom);
    const card = new CardAuthentication(scheme(key), systemRandom);
    const { answer } = card.verifyToken(reader.answerChallenge(card.challenge()));
    const forged = answer.slice();
    forged[0] ^= 0x01;
    expect(outcome(() => reader.finish(forged))).toBe(Status.AUTHENTICATION_ERROR);
  });

  it('refuses messages of the wrong length with LENGTH_ERROR', () => {
    const key = randomKey(keyType);
    const reader = new ReaderAuthentication(scheme(key), systemRandom);
    const card = new CardAuthentication(scheme(key), systemRandom);
    const challenge = card.challenge();
    expect(outcome(() => reader.answerChallenge(challenge.subarray(1)))).toBe(Status.LENGTH_ERROR);
    const token = new ReaderAuthentication(scheme(key), systemRandom).answerChallenge(challenge);
    expect(outcome(() => card.verifyToken(token.subarray(0, token.length - 1)))).toBe(Status.LENGTH_ERROR);
  });
});

describe('scheme selection', () => {
  it('refuses key types a command cannot use, as a card does', () => {
    expect(outcome(() => legacyScheme('aes', randomKey('aes')))).toBe(Status.AUTHENTICATION_ERROR);
    expect(outcome(() => legacyScheme('3k3des', randomKey('3k3des')))).toBe(Status.AUTHENTICATION_ERROR);
    expect(outcome(() => ev2Scheme('2k3des', randomKey('2k3des')))).toBe(Status.AUTHENTICATION_ERROR);
  });

  it('uses AuthenticateAES for AES keys and AuthenticateISO for DES keys', () => {
    expect(ev1Scheme('aes', randomKey('aes')).command).toBe(0xaa);
    expect(ev1Scheme('3k3des', randomKey('3k3des')).command).toBe(0x1a);
    expect(legacyScheme('des', randomKey('des')).command).toBe(0x0a);
  });

  it('EV2 NonFirst keeps the TI and command counter of the session it continues', () => {
    const key = randomKey('aes');
    const first = authenticatePair(ev2Scheme('aes', key), ev2Scheme('aes', key));
    const ti = (first.reader as unknown as { ti: Uint8Array }).ti;
    const continuing = { ti, cmdCtr: 5 };
    const second = authenticatePair(ev2Scheme('aes', key, { continuing }), ev2Scheme('aes', key, { continuing }));
    expect((second.reader as unknown as { ti: Uint8Array }).ti).toEqual(ti);
    expect((second.card as unknown as { cmdCtr: number }).cmdCtr).toBe(5);
    expect(ev2Scheme('aes', key, { continuing }).command).toBe(0x77);
  });

  it('EV2 First sends PCDcap2 and the card echoes it zero-padded', () => {
    const key = randomKey('aes');
    const scheme = ev2Scheme('aes', key, { pcdCap2: Uint8Array.of(0x02) });
    expect(scheme.commandData(3)).toEqual(Uint8Array.of(3, 1, 2));
    const fields = scheme.readAnswer(scheme.answerPlain(new Uint8Array(16), () => new Uint8Array(4)).plain);
    expect(fields.pcdCap2).toEqual(Uint8Array.of(2, 0, 0, 0, 0, 0));
  });
});
