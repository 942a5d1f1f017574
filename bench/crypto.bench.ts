import { cmac as nobleCmac } from '@noble/ciphers/aes.js';
import { CardAuthentication, ReaderAuthentication } from '../src/desfire/auth/handshake.js';
import { ev2Scheme } from '../src/desfire/auth/schemes.js';
import { constantTimeEqual, EMPTY, fromHex } from '../src/desfire/bytes.js';
import { Cmac } from '../src/desfire/crypto/cmac.js';
import { createBlockCipher } from '../src/desfire/crypto/key-type.js';
import { naiveAesBlock, naiveCmac, naiveEv2ReaderFlow, type RecordedSession } from './baseline/naive-crypto.js';
import { measure, type ComparisonRow } from './harness.js';

const KEY = fromHex('00112233445566778899aabbccddeeff');
const fixed = (bytes: Uint8Array) => (length: number) => bytes.slice(0, length);

/** Records, with the card end, one EV2First authentication and a full-mode 32-byte ReadData. */
function recordSession(): RecordedSession {
  const rndA = fromHex('13c5db8a5930439fc3def9a4c675360f');
  const rndB = fromHex('b9e2fc789b64bf237cccaa20ec7e6e48');
  const card = new CardAuthentication(ev2Scheme('aes', KEY), fixed(rndB));
  const reader = new ReaderAuthentication(ev2Scheme('aes', KEY), fixed(rndA));
  const challenge = card.challenge();
  const { answer, channel } = card.verifyToken(reader.answerChallenge(challenge));
  const readHeader = Uint8Array.of(0x01, 0, 0, 0, 32, 0, 0);
  const readerChannel = reader.finish(answer);
  channel.unwrapCommand(0xbd, readerChannel.wrapCommand(0xbd, readHeader, EMPTY, 'full'), 7, 'full');
  const readResponse = channel.wrapResponse(0x00, fromHex('0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20'), 'full');
  return { key: KEY, rndA, challenge, answer, readHeader, readResponse };
}

function oursEv2ReaderFlow(s: RecordedSession): Uint8Array {
  const reader = new ReaderAuthentication(ev2Scheme('aes', s.key), fixed(s.rndA));
  reader.answerChallenge(s.challenge);
  const channel = reader.finish(s.answer);
  channel.wrapCommand(0xbd, s.readHeader, EMPTY, 'full');
  return channel.unwrapResponse(0x00, s.readResponse, 'full');
}

export function cryptoBenchmarks(): ComparisonRow[] {
  const block = fromHex('6bc1bee22e409f96e93d7e117393172a');
  const message32 = fromHex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51');
  const cipher = createBlockCipher('aes', KEY);
  const cmac = new Cmac(cipher);
  const session = recordSession();
  // Both flows must do the same work and get the same answer before they are timed.
  if (!constantTimeEqual(oursEv2ReaderFlow(session), naiveEv2ReaderFlow(session))) throw new Error('EV2 flows disagree');
  if (!constantTimeEqual(cmac.mac(message32), naiveCmac(KEY, message32))) throw new Error('CMACs disagree');

  return [
    {
      name: 'AES-128 block encryption (16 B)',
      ours: measure(() => cipher.encryptEcb(block)),
      baselines: { naive: measure(() => naiveAesBlock(KEY, block)) },
    },
    {
      name: 'AES-CMAC of 32 bytes',
      ours: measure(() => cmac.mac(message32)),
      baselines: { naive: measure(() => naiveCmac(KEY, message32)), '@noble/ciphers': measure(() => nobleCmac(message32, KEY)) },
    },
    {
      name: 'reader side: EV2First auth + full 32-byte ReadData',
      ours: measure(() => oursEv2ReaderFlow(session)),
      baselines: { naive: measure(() => naiveEv2ReaderFlow(session)) },
    },
  ];
}
