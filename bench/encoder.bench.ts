import { fromHex } from '../src/desfire/bytes.js';
import type { Transport } from '../src/desfire/transport.js';
import { factoryState } from '../src/emulator/factory.js';
import { VirtualCard } from '../src/emulator/virtual-card.js';
import { doorConfigOf, planCard } from '../src/encoder/card-plan.js';
import { DesfireClient } from '../src/encoder/client/desfire-client.js';
import { authenticateAtDoor, doorCheck } from '../src/encoder/door/authenticator.js';
import { MemoryKeyStore } from '../src/encoder/keys/index.js';
import { personalize } from '../src/encoder/personalize/personalizer.js';
import { loadProfileFile, parseCardData, validateProfile } from '../src/encoder/profile/index.js';
import { measureAsync, type Measurement } from './harness.js';

/** A transport straight into a card that adds up the time spent inside the card. */
class TimedCardTransport implements Transport {
  cardNs = 0n;
  constructor(private readonly device: VirtualCard) {
    device.powerOn();
  }
  get card() {
    return { uid: this.device.uid };
  }
  async transceive(apdu: Uint8Array): Promise<Uint8Array> {
    const start = process.hrtime.bigint();
    const answer = this.device.transceive(apdu);
    this.cardNs += process.hrtime.bigint() - start;
    return answer;
  }
}

export interface EncoderRow {
  readonly name: string;
  readonly measurement: Measurement;
  /** Share of the time spent on the reader side (everything but the card's own processing). */
  readonly readerShare: number;
}

/** Cards encoded per second and door authentications per second with generic-pacs-v1, in process. */
export async function encoderBenchmarks(): Promise<EncoderRow[]> {
  const profile = validateProfile(await loadProfileFile('profiles/generic-pacs-v1.yaml'));
  const keyStore = new MemoryKeyStore([{ name: 'pacs', versions: [{ version: 1, picc: new Uint8Array(16).fill(1), applicationKeys: [2, 3, 4].map((b) => new Uint8Array(16).fill(b)) }] }]);
  const cardData = parseCardData('card_number: 1\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: 2099-01-01T00:00:00Z\n', 'yaml');
  const door = doorConfigOf(profile, keyStore, { proximityToleranceNs: 50_000_000n });
  // One factory card, copied for each encoding (the copy is cheap; making key pairs is not part of encoding).
  const blank = factoryState({ uid: fromHex('04010203040506') });

  let encodeTotal = 0n;
  let encodeCard = 0n;
  const encodeOne = async () => {
    const transport = new TimedCardTransport(new VirtualCard(structuredClone(blank)));
    const start = process.hrtime.bigint();
    const plan = await planCard(profile, cardData, keyStore, blank.uid);
    await personalize({
      client: new DesfireClient(transport),
      uid: blank.uid,
      ...plan,
      journal: { record: () => undefined },
      verify: doorCheck(new DesfireClient(transport), blank.uid, door),
    });
    encodeTotal += process.hrtime.bigint() - start;
    encodeCard += transport.cardNs;
  };
  const encoding = await measureAsync(encodeOne);

  const encoded = new TimedCardTransport(new VirtualCard(structuredClone(blank)));
  const plan = await planCard(profile, cardData, keyStore, blank.uid);
  await personalize({ client: new DesfireClient(encoded), uid: blank.uid, ...plan, journal: { record: () => undefined }, verify: async () => ({ passed: true as const }) });
  encoded.cardNs = 0n;
  let doorTotal = 0n;
  const doorOne = async () => {
    const start = process.hrtime.bigint();
    const result = await authenticateAtDoor(new DesfireClient(encoded), blank.uid, door);
    if (!result.granted) throw new Error(`door denied the benchmark card: ${result.reason}`);
    doorTotal += process.hrtime.bigint() - start;
  };
  const doors = await measureAsync(doorOne);
  return [
    { name: 'cards encoded (generic-pacs-v1, incl. verification)', measurement: encoding, readerShare: 1 - Number(encodeCard) / Number(encodeTotal) },
    { name: 'door authentications (EV2 + proximity check + read)', measurement: doors, readerShare: 1 - Number(encoded.cardNs) / Number(doorTotal) },
  ];
}
