import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/desfire/bytes.js';
import { DesfireClient } from '../../src/encoder/client/desfire-client.js';
import { doorConfigOf, planCard } from '../../src/encoder/card-plan.js';
import { authenticateAtDoor, doorCheck } from '../../src/encoder/door/authenticator.js';
import { MemoryKeyStore } from '../../src/encoder/keys/index.js';
import { personalize } from '../../src/encoder/personalize/personalizer.js';
import { loadProfileFile, parseCardData, validateProfile } from '../../src/encoder/profile/index.js';
import { factoryState } from '../../src/emulator/factory.js';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';

// The shipped generic-pacs-v1 profile, end to end on a virtual card: encode, then a door grants it.

const masters = (seed: number) => ({
  version: 1,
  picc: new Uint8Array(16).fill(seed),
  applicationKeys: [0, 1, 2].map((i) => new Uint8Array(16).fill(seed + 1 + i)),
});

describe('generic-pacs-v1 on a virtual card', () => {
  it('encodes a factory card from the profile and card data; the door grants it with the credential fields', async () => {
    const profile = validateProfile(await loadProfileFile('profiles/generic-pacs-v1.yaml'));
    const keyStore = new MemoryKeyStore([{ name: 'pacs', versions: [masters(0x10)] }, { name: 'other', versions: [masters(0x40)] }]);
    const card = new VirtualCard(factoryState({ uid: fromHex('04112233445566') }));
    const transport = new InProcessTransport(card);
    const cardData = parseCardData('card_number: 4711\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: 2030-01-01T00:00:00Z\n', 'yaml');
    const door = doorConfigOf(profile, keyStore, { refusedKeySets: ['other'], now: () => new Date('2027-01-01T00:00:00Z'), proximityToleranceNs: 5_000_000n });
    const plan = await planCard(profile, cardData, keyStore, card.uid);
    const steps: string[] = [];
    await personalize({
      client: new DesfireClient(transport),
      uid: card.uid,
      ...plan,
      journal: { record: (e) => void steps.push(`${e.step}:${e.phase}`) },
      verify: doorCheck(new DesfireClient(transport), card.uid, door),
    });
    expect(steps).toContain('verify:skipped');
    const result = await authenticateAtDoor(new DesfireClient(transport), card.uid, door);
    if (!result.granted) throw new Error(`denied: ${result.reason} ${result.detail}`);
    expect(result.credential.cardNumber).toBe(4711n);
    expect(result.credential.issuer).toBe('example-issuer');
    expect(result.keySet).toBe('pacs');
    expect(card.state.applications.get(0xf52a01)?.keySettings).toBe(0x01);
  });
});
