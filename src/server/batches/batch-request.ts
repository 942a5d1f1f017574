import type { KeyRef, KeyStore } from '../../encoder/keys/index.js';
import { isKeyStoreError } from '../../encoder/keys/index.js';
import { at, checkCardData, credentialSite, encodeCredentialFile, IssueList, isProfileError, keyRefOf, KEY_SET_NAME, PROFILE_NAME } from '../../encoder/profile/index.js';
import type { CreateBatchRequest } from '../../gen/desfirepacs/v1/encoder_pb.js';
import type { CardData, Profile } from '../../gen/desfirepacs/v1/profile_pb.js';
import { failedPrecondition, notFound } from '../grpc/api-error.js';
import { optionalName, requireName, requireRange } from '../grpc/validate.js';
import type { CreateBatchInput } from '../journal/index.js';
import type { ProfileSource } from './batch-runner.js';
import { cardDataText } from './card-data.js';
import { keyVersionFor, profileForCard, profileKeySet } from './card-profile.js';

export const MAX_BATCH_CARDS = 50_000;

/** Batch ids as encoder.proto words them: 1..64 characters of [A-Za-z0-9._-]. */
const BATCH_ID = /^[A-Za-z0-9._-]+$/;

/** Card problems listed in one error at most; a 50000-card request with bad data says enough with these. */
const MAX_ISSUES = 100;

export interface BatchRequestDeps {
  readonly profiles: ProfileSource;
  readonly keyStore: KeyStore;
}

/**
 * A CreateBatch request checked field by field, every problem naming its field in the proto's
 * spelling, before anything is stored: the profile (NOT_FOUND `profile`), the key set, the
 * profile's or the one named (NOT_FOUND `key_set`; FAILED_PRECONDITION when it lacks a key the
 * profile needs), 1..50000 cards with distinct card numbers, each card's data as the profile's
 * credential takes it (validity, site code, extensions, size: one ProfileError listing the
 * problems as `cards[i].field`), and the batch id. Whether a number is already used in the
 * profile is the journal's to say (ALREADY_EXISTS), as it checks in the same transaction.
 */
export async function batchInput(request: CreateBatchRequest, deps: BatchRequestDeps): Promise<CreateBatchInput> {
  const profileName = requireName(request.profile, 'profile', 64, PROFILE_NAME);
  const namedKeySet = optionalName(request.keySet, 'key_set', 64, KEY_SET_NAME);
  const id = optionalName(request.batchId, 'batch_id', 64, BATCH_ID);
  requireRange(request.cards.length, 'cards', 1, MAX_BATCH_CARDS);
  const profile = await deps.profiles.get(profileName, 'profile');
  const keySet = namedKeySet ?? profileKeySet(profile);
  await requireKeys(profile, keySet, deps.keyStore);
  checkCards(profile, request.cards);
  return {
    profile: profileName,
    keySet,
    cards: request.cards.map((card) => ({ cardNumber: card.cardNumber, data: cardDataText(card) })),
    ...(id === undefined ? {} : { id }),
  };
}

/** The key set exists and its version for new cards holds every key the profile takes from it. */
async function requireKeys(profile: Profile, keySet: string, keyStore: KeyStore): Promise<void> {
  const [info, version] = await Promise.all([keyStore.keySet(keySet), keyVersionFor(profile, keySet, keyStore)]).catch((e: unknown) => {
    if (isKeyStoreError(e) && e.code === 'UNKNOWN_KEY_SET') throw notFound(`no key set "${keySet}" in the key store`, 'key_set');
    throw e;
  });
  const held = info.versions.find((v) => v.version === version)?.keyRefs ?? [];
  const card = profileForCard(profile, keySet, version);
  const needed: KeyRef[] = [
    ...(card.picc?.masterKey?.keySet === keySet ? ['picc' as const] : []),
    ...card.applications.flatMap((app) => app.keys.filter((k) => k.keySet === keySet).map(keyRefOf)),
  ];
  const missing = needed.filter((ref) => !held.includes(ref));
  if (missing.length > 0) {
    throw failedPrecondition(`key set "${keySet}" version ${version} lacks keys the profile needs: ${missing.join(', ')}`);
  }
}

/** Distinct card numbers, and each card's data as the profile's credential takes it. */
function checkCards(profile: Profile, cards: readonly CardData[]): void {
  const site = credentialSite(profile);
  const issues = new IssueList();
  const seen = new Map<bigint, number>();
  for (let i = 0; i < cards.length && issues.issues.length < MAX_ISSUES; i++) {
    const card = cards[i];
    const path = at('cards', i);
    const first = seen.get(card.cardNumber);
    if (first !== undefined) issues.add(at(path, 'card_number'), `${card.cardNumber} is also cards[${first}].card_number`);
    else seen.set(card.cardNumber, i);
    const before = issues.issues.length;
    checkCardData(site.template, card, issues, path);
    if (issues.issues.length > before) continue;
    try {
      encodeCredentialFile(site.template, card, site.file.size);
    } catch (e) {
      if (!isProfileError(e)) throw e;
      for (const issue of e.issues) issues.add(issue.path === '' ? path : at(path, issue.path), issue.message);
    }
  }
  issues.throwIfAny('batch request');
}
