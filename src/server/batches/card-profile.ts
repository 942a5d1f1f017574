import { clone } from '@bufbuild/protobuf';
import type { KeyStore } from '../../encoder/keys/index.js';
import { credentialSite } from '../../encoder/profile/index.js';
import { ProfileSchema, type Profile } from '../../gen/desfirepacs/v1/profile_pb.js';

/**
 * A batch encodes with one key set: the profile's own (the key set of its door read key), or
 * another named at CreateBatch (a second site with the same layout and its own keys). Keys of
 * the profile that name another key set are left as they are.
 */
export function profileKeySet(profile: Profile): string {
  return credentialSite(profile).readKey.keySet;
}

/** The key version a new card of a batch gets: the read key's pinned version, else the key set's current one. */
export async function keyVersionFor(profile: Profile, keySet: string, keyStore: KeyStore): Promise<number> {
  return credentialSite(profile).readKey.keyVersion ?? (await keyStore.currentVersion(keySet));
}

/**
 * The profile one card is encoded with: every key of the profile's key set taken from the
 * batch's key set, at the card's key version unless the profile pins one. The version is the
 * one journalled when the card was claimed, so a card resumed after a key rotation is finished
 * with the keys it was started with.
 */
export function profileForCard(profile: Profile, keySet: string, keyVersion: number): Profile {
  const own = profileKeySet(profile);
  const copy = clone(ProfileSchema, profile);
  const specs = [copy.picc?.masterKey, ...copy.applications.flatMap((app) => app.keys)];
  for (const spec of specs) {
    if (spec === undefined || spec.keySet !== own) continue;
    spec.keySet = keySet;
    spec.keyVersion ??= keyVersion;
  }
  return copy;
}
