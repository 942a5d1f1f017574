import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DesfireClient } from '../../../src/encoder/client/desfire-client.js';
import { doorConfigOf, planCard } from '../../../src/encoder/card-plan.js';
import { authenticateAtDoor } from '../../../src/encoder/door/authenticator.js';
import { MemoryKeyStore } from '../../../src/encoder/keys/index.js';
import { personalize } from '../../../src/encoder/personalize/personalizer.js';
import { loadProfileFile, parseCardData, validateProfile } from '../../../src/encoder/profile/index.js';
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { tempDir } from './support.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

// The shipped profile end to end on a stored card: encoded through the store's transport, then
// granted at a door by a store opened again on the same file.
describe('a stored virtual card encoded with generic-pacs-v1', () => {
  it('is granted at a door after the store is closed and reopened', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const path = join(dir.dir, 'virtual-cards.db');
    const profile = validateProfile(await loadProfileFile('profiles/generic-pacs-v1.yaml'));
    const keyStore = new MemoryKeyStore([{ name: 'pacs', versions: [{ version: 1, picc: new Uint8Array(16).fill(1), applicationKeys: [2, 3, 4].map((n) => new Uint8Array(16).fill(n)) }] }]);
    const door = doorConfigOf(profile, keyStore, { now: () => new Date('2027-01-01T00:00:00Z'), proximityToleranceNs: 20_000_000n });

    const first = VirtualCardStore.open({ path });
    const card = first.create();
    const cardData = parseCardData('card_number: 4711\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: 2030-01-01T00:00:00Z\n', 'yaml');
    const plan = await planCard(profile, cardData, keyStore, card.uid);
    await personalize({ client: new DesfireClient(first.transport(card.id)), uid: card.uid, ...plan, journal: { record: () => undefined }, verify: async () => ({ passed: true as const }) });
    first.close();

    const second = VirtualCardStore.open({ path });
    try {
      expect(second.get(card.id).applicationIds).toEqual([door.aid]);
      const result = await authenticateAtDoor(new DesfireClient(second.transport(card.id)), card.uid, door);
      if (!result.granted) throw new Error(`denied: ${result.reason} ${result.detail}`);
      expect(result.credential.cardNumber).toBe(4711n);

      // The proximity rounds are timed at the card (the transport's timedExchange), delay fault included.
      const transport = second.transport(card.id);
      let timedCalls = 0;
      const timedExchange = transport.timedExchange!;
      const counted = {
        transceive: transport.transceive,
        get card() {
          return transport.card;
        },
        timedExchange: (commands: readonly Uint8Array[]) => (timedCalls++, timedExchange(commands)),
      };
      expect((await authenticateAtDoor(new DesfireClient(counted), card.uid, door)).granted).toBe(true);
      expect(timedCalls).toBe(1);
      second.setFaults(card.id, { tearAtWrite: 0, delayMs: 30 });
      const relayed = await authenticateAtDoor(new DesfireClient(second.transport(card.id)), card.uid, door);
      expect(relayed.granted ? 'granted' : relayed.reason).toBe('relay-suspected');
    } finally {
      second.close();
    }
  });
});
