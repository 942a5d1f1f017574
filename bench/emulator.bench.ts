import { ReaderAuthentication } from '../src/desfire/auth/handshake.js';
import { ev2Scheme } from '../src/desfire/auth/schemes.js';
import { fromHex } from '../src/desfire/bytes.js';
import { factoryState } from '../src/emulator/factory.js';
import { VirtualCard } from '../src/emulator/virtual-card.js';
import { measure, type Measurement } from './harness.js';

const AID = 0x00a1b2;
const KEY = fromHex('00112233445566778899aabbccddeeff');

/** A card with one AES application (key 0 = KEY), powered and with the application selected. */
function preparedCard(): VirtualCard {
  const picc = factoryState({ uid: fromHex('04010203040506') });
  picc.applications.set(AID, { aid: AID, keySettings: 0x0f, keyType: 'aes', keys: [{ key: KEY, version: 0 }], files: new Map() });
  const card = new VirtualCard(picc);
  card.powerOn();
  card.transceive(Uint8Array.of(0x5a, 0xb2, 0xa1, 0x00));
  return card;
}

/** Both ends of one AuthenticateEV2First, native frames. */
function authenticate(card: VirtualCard): void {
  const scheme = ev2Scheme('aes', KEY);
  const reader = new ReaderAuthentication(scheme, (n) => new Uint8Array(n).fill(7));
  const challenge = card.transceive(Uint8Array.of(0x71, 0x00, 0x00));
  const token = reader.answerChallenge(challenge.subarray(1));
  const answer = card.transceive(Uint8Array.of(0xaf, ...token));
  if (answer[0] !== 0) throw new Error(`authentication failed: ${answer[0]}`);
  reader.finish(answer.subarray(1));
}

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
