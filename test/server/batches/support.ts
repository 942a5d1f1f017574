import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { pino } from 'pino';
import { DesfireClient } from '../../../src/encoder/client/desfire-client.js';
import { doorConfigOf } from '../../../src/encoder/card-plan.js';
import { authenticateAtDoor } from '../../../src/encoder/door/authenticator.js';
import { MemoryKeyStore, type KnownKeyVersion } from '../../../src/encoder/keys/index.js';
import { loadProfileFile } from '../../../src/encoder/profile/index.js';
import type { Transport } from '../../../src/desfire/transport.js';
import { CardDataSchema, type Credential, type Profile } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import { currentAudit } from '../../../src/server/audit-context.js';
import { cardDataText } from '../../../src/server/batches/card-data.js';
import { BatchRunner, type ProfileSource } from '../../../src/server/batches/batch-runner.js';
import { notFound } from '../../../src/server/grpc/api-error.js';
import type { Journal } from '../../../src/server/journal/index.js';

/** Doors in these tests live on 2027-01-01, inside every card's validity. */
export const DOOR_NOW = () => new Date('2027-01-01T00:00:00Z');

/** In-process cards share the CPU with the rest of the test: a proximity margin that holds under load. */
export const DOOR_OPTIONS = { proximityToleranceNs: 50_000_000n, now: DOOR_NOW } as const;

export const silentLogger = pino({ level: 'silent' });

export const masters = (seed: number, version = 1): KnownKeyVersion => ({
  version,
  picc: new Uint8Array(16).fill(seed),
  applicationKeys: [0, 1, 2].map((i) => new Uint8Array(16).fill(seed + 1 + i)),
});

let shipped: Profile | undefined;

/** The shipped generic-pacs-v1 profile (key set "pacs"). */
export async function genericPacs(): Promise<Profile> {
  shipped ??= await loadProfileFile('profiles/generic-pacs-v1.yaml');
  return shipped;
}

/** Profiles by name, NOT_FOUND for others (the profile store's contract). */
export function profileSource(...profiles: Profile[]): ProfileSource {
  return {
    get(name: string, field = 'name') {
      const found = profiles.find((p) => p.name === name);
      if (!found) throw notFound(`no profile "${name}"`, field);
      return found;
    },
  };
}

/** A key store with the "pacs" and "site-b" key sets, auditing key uses in the journal. */
export function keyStoreFor(journal: Journal): MemoryKeyStore {
  return new MemoryKeyStore(
    [
      { name: 'pacs', versions: [masters(0x10)] },
      { name: 'site-b', versions: [masters(0x60)] },
    ],
    { onKeyUse: journal.keyUseListener(currentAudit) },
  );
}

/** Batch cards with numbers `from`.. (count of them), valid 2026..2030, as CreateBatch stores them. */
export function batchCards(from: number, count: number): { cardNumber: bigint; data: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const cardNumber = BigInt(from + i);
    const data = create(CardDataSchema, {
      cardNumber,
      validFrom: timestampFromDate(new Date('2026-01-01T00:00:00Z')),
      validTo: timestampFromDate(new Date('2030-01-01T00:00:00Z')),
    });
    return { cardNumber, data: cardDataText(data) };
  });
}

export async function runnerFor(journal: Journal, keyStore = keyStoreFor(journal)): Promise<BatchRunner> {
  return new BatchRunner({ journal, profiles: profileSource(await genericPacs()), keyStore, logger: silentLogger, door: DOOR_OPTIONS });
}

/** What a door of `profile` makes of the card on `transport`. */
export async function atDoor(profile: Profile, keyStore: MemoryKeyStore, transport: Transport, uid: Uint8Array) {
  return authenticateAtDoor<Credential>(new DesfireClient(transport), uid, doorConfigOf(profile, keyStore, DOOR_OPTIONS));
}
