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

async function encodeWith(keyStore: MemoryKeyStore, uid: Uint8Array): Promise<VirtualCard> {
  const profile = validateProfile(await loadProfileFile('profiles/generic-pacs-v1.yaml'));
  const card = new VirtualCard(factoryState({ uid }));
  const transport = new InProcessTransport(card);
  const cardData = parseCardData('card_number: 9\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: 2030-01-01T00:00:00Z\n', 'yaml');
  const plan = await planCard(profile, cardData, keyStore, uid);
  await personalize({ client: new DesfireClient(transport), uid, ...plan, journal: { record: () => undefined }, verify: async () => ({ passed: true as const }) });
  return card;
}

describe('generic-pacs-v1 on a virtual card', () => {
  it('encodes a factory card from the profile and card data; the door grants it with the credential fields', async () => {
    const profile = validateProfile(await loadProfileFile('profiles/generic-pacs-v1.yaml'));
    const keyStore = new MemoryKeyStore([{ name: 'pacs', versions: [masters(0x10)] }, { name: 'other', versions: [masters(0x40)] }]);
    const card = new VirtualCard(factoryState({ uid: fromHex('04112233445566') }));
    const transport = new InProcessTransport(card);
    const cardData = parseCardData('card_number: 4711\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: 2030-01-01T00:00:00Z\n', 'yaml');
    const door = doorConfigOf(profile, keyStore, { refusedKeySets: ['other'], now: () => new Date('2027-01-01T00:00:00Z'), proximityToleranceNs: 20_000_000n });
    const plan = await planCard(profile, cardData, keyStore, card.uid);
    const steps: string[] = [];
    await personalize({
      client: new DesfireClient(transport),
      uid: card.uid,
      ...plan,
      journal: { record: (e) => void steps.push(`${e.step}:${e.phase}`) },
      verify: doorCheck(new DesfireClient(transport), card.uid, door),
    });
    expect(steps).toContain('verify:completed');
    const result = await authenticateAtDoor(new DesfireClient(transport), card.uid, door);
    if (!result.granted) throw new Error(`denied: ${result.reason} ${result.detail}`);
    expect(result.credential.cardNumber).toBe(4711n);
    expect(result.credential.issuer).toBe('example-issuer');
    expect(result.keySet).toBe('pacs');
    expect(card.state.applications.get(0xf52a01)?.keySettings).toBe(0x01);
  });

  it('denies an unencoded card, a card of another key set, a wrong read key and a clone, each with its own reason', async () => {
    const profile = validateProfile(await loadProfileFile('profiles/generic-pacs-v1.yaml'));
    const ours = new MemoryKeyStore([{ name: 'pacs', versions: [masters(0x10)] }, { name: 'other', versions: [masters(0x40)] }]);
    const theirs = new MemoryKeyStore([{ name: 'pacs', versions: [masters(0x40)] }]);
    const uid = fromHex('04aa55aa55aa55');
    const genuine = await encodeWith(ours, uid);
    const door = (card: VirtualCard, trusted?: Uint8Array[]) =>
      authenticateAtDoor(new DesfireClient(new InProcessTransport(card)), card.uid, doorConfigOf(profile, ours, {
        refusedKeySets: ['other'],
        proximityToleranceNs: 20_000_000n,
        now: () => new Date('2027-01-01T00:00:00Z'),
        ...(trusted ? { trustedOriginalityKeys: trusted } : {}),
      }));
    const otherSet = await encodeWith(theirs, uid); // the same masters as the store's "other" set
    const wrongKey = await encodeWith(ours, uid);
    wrongKey.state.applications.get(0xf52a01)!.keys[1] = { key: new Uint8Array(16).fill(0x77), version: 1 };
    // A clone: same UID and layout as far as a reader can copy them, none of the keys, its own chip.
    const clone = new VirtualCard(factoryState({ uid }));
    const copied = structuredClone(genuine.state.applications.get(0xf52a01)!);
    copied.keys = copied.keys.map(() => ({ key: new Uint8Array(16), version: 1 }));
    clone.state.applications.set(0xf52a01, copied);
    const trusted = [genuine.originalityPublicKey];
    const results = [
      await door(new VirtualCard(factoryState({ uid }))),
      await door(otherSet),
      await door(wrongKey),
      await door(clone, trusted),
      await door(genuine, trusted),
    ];
    expect(results.map((r) => (r.granted ? 'granted' : r.reason))).toEqual(['not-encoded', 'key-set-not-accepted', 'authentication-failed', 'not-genuine', 'granted']);
  });
});
