import { resolve } from 'node:path';
import type { Transport } from '../../../../src/desfire/transport.js';
import { factoryState } from '../../../../src/emulator/factory.js';
import { InProcessTransport } from '../../../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../../../src/emulator/virtual-card.js';
import { doorConfigOf, planCard } from '../../../../src/encoder/card-plan.js';
import { DesfireClient } from '../../../../src/encoder/client/desfire-client.js';
import { doorCheck } from '../../../../src/encoder/door/authenticator.js';
import { MemoryKeyStore } from '../../../../src/encoder/keys/index.js';
import { personalize, type PersonalizationResult } from '../../../../src/encoder/personalize/personalizer.js';
import { loadProfileFile, parseCardData, validateProfile } from '../../../../src/encoder/profile/index.js';
import type { Profile } from '../../../../src/gen/desfirepacs/v1/profile_pb.js';
import { notFound } from '../../../../src/server/grpc/api-error.js';

export const PROFILE_PATH = resolve('profiles/generic-pacs-v1.yaml');
export const KEY_SET = 'pacs';

export async function genericProfile(): Promise<Profile> {
  return validateProfile(await loadProfileFile(PROFILE_PATH));
}

/** A profile lookup holding `profiles`, NOT_FOUND for any other name (as the service's registry). */
export function profileRegistry(...profiles: Profile[]): { get(name: string, field?: string): Profile } {
  return {
    get: (name, field = 'name') => {
      const found = profiles.find((p) => p.name === name);
      if (!found) throw notFound(`no profile "${name}"`, field);
      return found;
    },
  };
}

export async function keyStoreWithPacs(options: ConstructorParameters<typeof MemoryKeyStore>[1] = {}): Promise<MemoryKeyStore> {
  const keyStore = new MemoryKeyStore([], options);
  await keyStore.createKeySet(KEY_SET);
  return keyStore;
}

export const CARD_DATA = 'card_number: 4711\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: 2099-01-01T00:00:00Z\n';

/** Personalizes the card in `transport` with the profile, in process, as demo.ts does. */
export async function personalizeCard(profile: Profile, keyStore: MemoryKeyStore, transport: Transport, uid: Uint8Array, data = CARD_DATA): Promise<PersonalizationResult> {
  return personalize({
    client: new DesfireClient(transport),
    uid,
    ...(await planCard(profile, parseCardData(data, 'yaml'), keyStore, uid)),
    journal: { record: () => undefined },
    verify: doorCheck(new DesfireClient(transport), uid, doorConfigOf(profile, keyStore, { proximityToleranceNs: 20_000_000n })),
  });
}

/** A factory-fresh virtual card in its own in-process reader. */
export function blankCard(uid?: Uint8Array): { card: VirtualCard; transport: InProcessTransport } {
  const card = new VirtualCard(factoryState(uid ? { uid } : {}));
  return { card, transport: new InProcessTransport(card) };
}

/** A card encoded with the generic profile. */
export async function encodedCard(profile: Profile, keyStore: MemoryKeyStore): Promise<{ card: VirtualCard; transport: InProcessTransport }> {
  const blank = blankCard();
  await personalizeCard(profile, keyStore, blank.transport, blank.card.uid);
  return blank;
}

/** A clone of `card`: the same UID and application layout, but keys it never gave away (all zero). */
export function cloneOf(card: VirtualCard, aid: number): { card: VirtualCard; transport: InProcessTransport } {
  const clone = new VirtualCard(factoryState({ uid: card.uid }));
  const copied = structuredClone(card.state.applications.get(aid));
  if (copied) clone.state.applications.set(aid, { ...copied, keys: copied.keys.map((k) => ({ ...k, key: new Uint8Array(k.key.length) })) });
  return { card: clone, transport: new InProcessTransport(clone) };
}
