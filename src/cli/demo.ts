import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../desfire/bytes.js';
import { factoryState } from '../emulator/factory.js';
import { InProcessTransport } from '../emulator/in-process-transport.js';
import { VirtualCard } from '../emulator/virtual-card.js';
import { doorConfigOf, planCard } from '../encoder/card-plan.js';
import { DesfireClient } from '../encoder/client/desfire-client.js';
import { authenticateAtDoor, doorCheck } from '../encoder/door/authenticator.js';
import { MemoryKeyStore } from '../encoder/keys/index.js';
import { personalize } from '../encoder/personalize/personalizer.js';
import { loadProfileFile, parseCardData, validateProfile } from '../encoder/profile/index.js';

const PROFILE = 'profiles/generic-pacs-v1.yaml';

/** The shipped profile, found from this module whether it runs from src/ or dist/. */
function profilePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, PROFILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${PROFILE} not found above ${dirname(fileURLToPath(import.meta.url))}`);
    dir = parent;
  }
}

/**
 * `desfire-pacs demo` (npm start): on embedded defaults, with nothing to set up. A factory-fresh
 * virtual DESFire EV3 is encoded with generic-pacs-v1 and a development key set made in memory,
 * then checked as a door would; then a clone with the same UID is refused. Prints every step,
 * never a key. Returns the exit code.
 */
export async function runDemo(write: (line: string) => void): Promise<number> {
  const profile = validateProfile(await loadProfileFile(profilePath()));
  const keyStore = new MemoryKeyStore();
  await keyStore.createKeySet('pacs');
  const card = new VirtualCard(factoryState());
  const transport = new InProcessTransport(card);
  const uid = card.uid;
  // An in-process card shares the CPU with the garbage collector: allow 20 ms per proximity round.
  const door = doorConfigOf(profile, keyStore, { proximityToleranceNs: 20_000_000n });

  write(`desfire-pacs demo: profile "${profile.name}", a development key set made in memory (random, not shown)`);
  write(`a factory-fresh virtual DESFire EV3, UID ${toHex(uid)}; encoding:`);
  const cardData = parseCardData('card_number: 1001\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: 2036-01-01T00:00:00Z\n', 'yaml');
  await personalize({
    client: new DesfireClient(transport),
    uid,
    ...(await planCard(profile, cardData, keyStore, uid)),
    journal: { record: (e) => (e.phase === 'started' ? undefined : write(`  ${e.step.padEnd(26)} ${e.phase}${e.detail ? ` (${e.detail})` : ''}`)) },
    verify: doorCheck(new DesfireClient(transport), uid, door),
  });

  const result = await authenticateAtDoor(new DesfireClient(transport), uid, door);
  if (!result.granted) {
    write(`door: DENIED (${result.reason}): ${result.detail}`);
    return 1;
  }
  const c = result.credential;
  write(`door: GRANTED after EV2 authentication, proximity check and a full-enciphered read:`);
  write(`  card number ${c.cardNumber}, issuer ${c.issuer}, site ${c.siteCode}, key set ${result.keySet} v${result.keyVersion}`);

  // A clone: the same UID and application layout, but not the keys (they never leave the card).
  const clone = new VirtualCard(factoryState({ uid }));
  const copied = structuredClone(card.state.applications.get(door.aid));
  if (copied) clone.state.applications.set(door.aid, { ...copied, keys: copied.keys.map((k) => ({ ...k, key: new Uint8Array(k.key.length) })) });
  const cloned = await authenticateAtDoor(new DesfireClient(new InProcessTransport(clone)), uid, door);
  write(`a clone with the same UID: ${cloned.granted ? 'GRANTED (this must not happen)' : `DENIED (${cloned.reason})`}`);
  await keyStore.close();
  return cloned.granted ? 1 : 0;
}
