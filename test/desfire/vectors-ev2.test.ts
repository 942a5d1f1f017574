import { describe, expect, it } from 'vitest';
import { CardAuthentication, ReaderAuthentication } from '../../src/desfire/auth/handshake.js';
import { ev2Scheme } from '../../src/desfire/auth/schemes.js';
import { ev2SessionKeys, ev2SessionVector } from '../../src/desfire/auth/session-keys.js';
import { concat, EMPTY, toHex } from '../../src/desfire/bytes.js';
import type { CommMode } from '../../src/desfire/comm-mode.js';
import { Cmac } from '../../src/desfire/crypto/cmac.js';
import { crc32Desfire } from '../../src/desfire/crypto/crc.js';
import { createBlockCipher } from '../../src/desfire/crypto/key-type.js';
import { parseAnswerFrame } from '../../src/desfire/framing/answer-frame.js';
import { encodeCommandFrame } from '../../src/desfire/framing/command-frame.js';
import { scriptedRandom } from '../../src/desfire/random.js';
import { Ev2Channel } from '../../src/desfire/sm/ev2-channel.js';
import { hex, loadVectors, text, type Vector } from '../support/vectors.js';

// NXP AN12196 and AN12343 EV2 walk-throughs, replayed byte for byte on both ends: the card end
// with its random numbers scripted from the document, the reader end likewise.

const wrapped = (cmd: number, data: Uint8Array) => toHex(encodeCommandFrame({ style: 'wrapped', cmd, data }));
const optionalHex = (v: Vector, field: string) => (typeof v[field] === 'string' ? hex(v, field) : undefined);

function replayAuthentication(v: Vector): void {
  const key = hex(v, 'key');
  const keyNo = parseInt(text(v, 'keyNo'), 16);
  const [rndA, rndB, ti] = [hex(v, 'rndA'), hex(v, 'rndB'), hex(v, 'ti')];
  const first = v.type === 'authenticateEV2First';
  if (!first && v.type !== 'authenticateEV2NonFirst') throw new Error(`unknown type ${String(v.type)}`);
  const options = first ? {} : { continuing: { ti, cmdCtr: 0 } };

  // Card end: RndB (and, for First, TI) come from the document.
  const card = new CardAuthentication(ev2Scheme('aes', key, options), scriptedRandom(rndB, first ? ti : EMPTY));
  expect(toHex(card.challenge())).toBe(text(v, 'encRndB'));
  const { answer, channel: cardChannel } = card.verifyToken(hex(v, 'cmdData'));
  expect(toHex(answer)).toBe(text(v, 'response'));

  // Reader end: RndA comes from the document; every APDU it sends equals the published one.
  const scheme = ev2Scheme('aes', key, options);
  const reader = new ReaderAuthentication(scheme, scriptedRandom(rndA));
  expect(wrapped(scheme.command, scheme.commandData(keyNo))).toBe(text(v, 'part1Command'));
  const token = reader.answerChallenge(hex(v, 'encRndB'));
  expect(toHex(token)).toBe(text(v, 'cmdData'));
  expect(wrapped(0xaf, token)).toBe(text(v, 'part2Command'));
  const readerChannel = reader.finish(parseAnswerFrame('wrapped', hex(v, 'part2Response')).data) as Ev2Channel;
  expect(toHex(readerChannel.ti)).toBe(text(v, 'ti'));
  expect(toHex((cardChannel as Ev2Channel).ti)).toBe(text(v, 'ti'));

  // Session vectors and keys.
  if (typeof v.sv1 === 'string') expect(toHex(ev2SessionVector('sv1', rndA, rndB))).toBe(text(v, 'sv1'));
  if (typeof v.sv2 === 'string') expect(toHex(ev2SessionVector('sv2', rndA, rndB))).toBe(text(v, 'sv2'));
  const keys = ev2SessionKeys(new Cmac(createBlockCipher('aes', key)), rndA, rndB);
  expect(toHex(keys.encKey)).toBe(text(v, 'sesAuthEncKey'));
  expect(toHex(keys.macKey)).toBe(text(v, 'sesAuthMacKey'));
}

interface Session {
  readonly ti: string;
  readonly sesAuthEncKey?: string;
  readonly sesAuthMacKey: string;
}

function replaySecureMessaging(v: Vector): void {
  const session = v.session as Session;
  const steps = v.steps as Vector[];
  const open = () =>
    new Ev2Channel({
      ti: hex(session as unknown as Vector, 'ti'),
      cmdCtr: steps[0].cmdCtr as number,
      // MAC-mode examples publish no ENC key; the channel never uses it there.
      sesAuthEncKey: session.sesAuthEncKey ? hex(session as unknown as Vector, 'sesAuthEncKey') : new Uint8Array(16),
      sesAuthMacKey: hex(session as unknown as Vector, 'sesAuthMacKey'),
    });
  const reader = open();
  const card = open();
  for (const step of steps) {
    const cmd = parseInt(text(step, 'command'), 16);
    const mode = text(step, 'commMode') as CommMode;
    const header = optionalHex(step, 'header') ?? EMPTY;
    const data = optionalHex(step, 'plainData') ?? EMPTY;
    expect(reader.cmdCtr).toBe(step.cmdCtr);

    // Reader wraps: protected part, MACt and the whole APDU as published.
    const body = reader.wrapCommand(cmd, header, data, mode);
    if (typeof step.encryptedData === 'string') expect(toHex(body.subarray(header.length, body.length - 8))).toBe(step.encryptedData);
    expect(toHex(body.subarray(body.length - 8))).toBe(text(step, 'macTruncated'));
    if (typeof step.apdu === 'string') expect(wrapped(cmd, body)).toBe(step.apdu);

    // Card unwraps the same bytes back to the plain data.
    expect(card.unwrapCommand(cmd, body, header.length, mode).data).toEqual(data);
    if (typeof step.responseApdu !== 'string') continue;

    // The answer: the card wraps the plain answer into the published bytes; the reader unwraps them.
    const answer = parseAnswerFrame('wrapped', hex(step, 'responseApdu'));
    const answerMode: CommMode = typeof step.responseMacTruncated === 'string' ? mode : 'plain';
    const plainAnswer = optionalHex(step, 'responsePlainData') ?? optionalHex(step, 'responseData') ?? EMPTY;
    expect(toHex(card.wrapResponse(answer.status, plainAnswer, answerMode))).toBe(toHex(answer.data));
    expect(reader.unwrapResponse(answer.status, answer.data, answerMode)).toEqual(plainAnswer);
    if (typeof step.responseMacTruncated === 'string') {
      expect(toHex(answer.data.subarray(answer.data.length - 8))).toBe(step.responseMacTruncated);
    }
  }
}

for (const file of ['an12196-ev2.json', 'an12343-ev2.json']) {
  describe(file, () => {
    it.each(loadVectors(file).vectors)('$name', (v) => {
      if (v.type === 'secureMessaging') replaySecureMessaging(v);
      else replayAuthentication(v);
    });
  });
}

describe('EV2 ChangeKey key data (an12196-ev2.json)', () => {
  // The cryptogram the command builds before secure messaging: (NewKey ⊕ OldKey) || KeyVer || CRC32NK(NewKey)
  // for another key, NewKey || KeyVer for the authenticated one.
  const changeKeySteps = loadVectors('an12196-ev2.json')
    .vectors.flatMap((v) => (v.steps as Vector[] | undefined) ?? [])
    .filter((s) => s.command === 'c4');
  it('has the published ChangeKey steps', () => expect(changeKeySteps.length).toBe(2));
  it.each(changeKeySteps)('$name', (step) => {
    const newKey = hex(step, 'newKey');
    const version = hex(step, 'keyVersion');
    if (typeof step.oldKey === 'string') {
      const xored = newKey.map((b, i) => b ^ hex(step, 'oldKey')[i]);
      expect(toHex(crc32Desfire(newKey))).toBe(text(step, 'crc32NewKey'));
      expect(toHex(concat(xored, version, crc32Desfire(newKey)))).toBe(text(step, 'plainData'));
    } else {
      expect(toHex(concat(newKey, version))).toBe(text(step, 'plainData'));
    }
  });
});
