import { ReaderAuthentication } from '../src/desfire/auth/handshake.js';
import { ev2Scheme } from '../src/desfire/auth/schemes.js';
import { EMPTY, fromHex } from '../src/desfire/bytes.js';
import type { SecureChannel } from '../src/desfire/sm/secure-channel.js';
import { FileType, type DataFile } from '../src/emulator/model.js';
import { factoryState } from '../src/emulator/factory.js';
import { VirtualCard } from '../src/emulator/virtual-card.js';
import { measure, type Measurement } from './harness.js';

const AID = 0x00a1b2;
const KEY = fromHex('00112233445566778899aabbccddeeff');

/** A card with one AES application (key 0 = KEY) holding a full-mode 32-byte file 1 readable with key 0, powered and selected. */
function preparedCard(): VirtualCard {
  const picc = factoryState({ uid: fromHex('04010203040506') });
  const credential: DataFile = {
    fileNo: 1,
    type: FileType.STANDARD,
    commMode: 'full',
    access: { read: 0, write: 0, readWrite: 0, change: 0 },
    data: new Uint8Array(32).fill(0x42),
  };
  picc.applications.set(AID, { aid: AID, keySettings: 0x0f, keyType: 'aes', keys: [{ key: KEY, version: 0 }], files: new Map([[1, credential]]) });
  const card = new VirtualCard(picc);
  card.powerOn();
  card.transceive(Uint8Array.of(0x5a, 0xb2, 0xa1, 0x00));
  return card;
}

/** Both ends of one AuthenticateEV2First, native frames; returns the reader's session. */
function authenticate(card: VirtualCard): SecureChannel {
  const scheme = ev2Scheme('aes', KEY);
  const reader = new ReaderAuthentication(scheme, (n) => new Uint8Array(n).fill(7));
  const challenge = card.transceive(Uint8Array.of(0x71, 0x00, 0x00));
  const token = reader.answerChallenge(challenge.subarray(1));
  const answer = card.transceive(Uint8Array.of(0xaf, ...token));
  if (answer[0] !== 0) throw new Error(`authentication failed: ${answer[0]}`);
  return reader.finish(answer.subarray(1));
}

const READ_HEADER = Uint8Array.of(0x01, 0, 0, 0, 32, 0, 0);

export interface RateRow {
  readonly name: string;
  readonly measurement: Measurement;
}

export function emulatorBenchmarks(): RateRow[] {
  const card = preparedCard();
  const getVersion = () => {
    card.transceive(Uint8Array.of(0x60));
    card.transceive(Uint8Array.of(0xaf));
    card.transceive(Uint8Array.of(0xaf));
  };
  return [
    { name: 'GetVersion (3 frames), card side', measurement: measure(getVersion) },
    { name: 'AuthenticateEV2First, both ends', measurement: measure(() => authenticate(card)) },
  ];
}

/** Full-enciphered 32-byte ReadData in an EV2 session, both ends (the card's rate is at least this). */
export function emulatorReadBenchmarks(): RateRow[] {
  const card = preparedCard();
  // The EV2 counter allows 65535 commands per session; measure() stays far below that per batch,
  // but re-authenticates when it gets close.
  let count = 0;
  let current = authenticate(card);
  const readWithRenewal = () => {
    if (++count === 60000) {
      current = authenticate(card);
      count = 0;
    }
    const answer = card.transceive(Uint8Array.of(0xbd, ...current.wrapCommand(0xbd, READ_HEADER, EMPTY, 'full')));
    if (answer[0] !== 0) throw new Error(`ReadData failed: ${answer[0]}`);
    current.unwrapResponse(0, answer.subarray(1), 'full', 32);
  };
  return [{ name: 'ReadData 32 B full-enciphered (EV2), both ends', measurement: measure(readWithRenewal) }];
}
