import { toHex } from '../../desfire/bytes.js';
import { isDesfireError } from '../../desfire/errors.js';
import { verifyOriginalitySignature } from '../../desfire/originality.js';
import { ProximityTimingError, systemTimer, type NanoTimer } from '../../desfire/proximity-check.js';
import { Status } from '../../desfire/status.js';
import { isDesfireEv3 } from '../client/card-version.js';
import type { DesfireClient } from '../client/desfire-client.js';
import type { VerifyVerdict } from '../personalize/personalizer.js';
import { TransportError } from '../transport-error.js';
import type { DenialReason, DoorResult } from './door-result.js';

/** A read key the door may try for a card: diversified for its UID, from a key set it knows. */
export interface ReadKeyCandidate {
  readonly keySet: string;
  readonly key: Uint8Array;
  /** False for key sets the door knows but does not accept (e.g. another site's): a match is refused. */
  readonly accepted: boolean;
}

/** What the door concludes from the credential bytes. */
export type CredentialVerdict<Fields> =
  | { readonly ok: true; readonly fields: Fields }
  | { readonly ok: false; readonly reason: 'credential-invalid' | 'not-yet-valid' | 'expired'; readonly detail: string };

export interface DoorPolicy {
  /** When to run the proximity check (relay protection): never, on EV3 cards, or on every card. */
  readonly proximityCheck: 'never' | 'ev3' | 'always';
  /** Refuse read keys older than this version. */
  readonly minKeyVersion: number;
  /** Allowed reader-path time on top of the card's publicised response time, per round (ns). */
  readonly proximityToleranceNs?: bigint;
  /** When set, the card's originality signature must verify under one of these public keys. */
  readonly trustedOriginalityKeys?: readonly Uint8Array[];
}

export interface DoorConfig<Fields> {
  readonly aid: number;
  readonly readKeyNo: number;
  readonly credentialFileNo: number;
  readonly credentialLength: number;
  readonly policy: DoorPolicy;
  /** Read keys to try for this UID and key version, accepted key sets first. */
  readonly readKeys: (uid: Uint8Array, keyVersion: number) => Promise<readonly ReadKeyCandidate[]> | readonly ReadKeyCandidate[];
  readonly checkCredential: (content: Uint8Array, now: Date) => CredentialVerdict<Fields>;
  readonly timer?: NanoTimer;
  readonly now?: () => Date;
}

/**
 * The door check as personalization's last step: passed when granted, else the denial reason; a
 * transport failure is not a verdict on the card, so it rejects (the step is retried with the
 * card, not failed).
 */
export function doorCheck<Fields>(client: DesfireClient, uid: Uint8Array, config: DoorConfig<Fields>): () => Promise<VerifyVerdict> {
  return async () => {
    const result = await authenticateAtDoor(client, uid, config);
    if (result.granted) return { passed: true };
    if (result.reason === 'transport-failed') throw new TransportError(result.detail);
    return { passed: false, why: `${result.reason} (${result.detail})` };
  };
}

class Denied extends Error {
  constructor(
    readonly reason: DenialReason,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * Originality signatures already verified, by UID and signature (a card's signature never changes),
 * so the slow verification runs once per card; bounded, oldest forgotten first.
 */
const verifiedSignatures = new Set<string>();
const MAX_VERIFIED_SIGNATURES = 10_000;

/**
 * The door flow: select the application → [originality] → the read key's version → AuthenticateEV2First
 * with the card's diversified read key → [GetVersion in the session, proximity check on EV3] → full-enciphered ReadData of the
 * credential → the credential's own checks. Granted only when all pass; otherwise the first reason.
 */
export async function authenticateAtDoor<Fields>(client: DesfireClient, uid: Uint8Array, config: DoorConfig<Fields>): Promise<DoorResult<Fields>> {
  try {
    return await runDoorFlow(client, uid, config);
  } catch (e) {
    client.dropSession();
    if (e instanceof Denied) return { granted: false, uid, reason: e.reason, detail: e.message };
    if (e instanceof TransportError) return { granted: false, uid, reason: 'transport-failed', detail: e.message };
    throw e;
  }
}

async function runDoorFlow<Fields>(client: DesfireClient, uid: Uint8Array, config: DoorConfig<Fields>): Promise<DoorResult<Fields>> {
  const { policy } = config;
  if (uid.length !== 7) throw new Denied('random-uid', 'the card shows a random ID: its keys cannot be derived');
  // Selecting first also ends whatever session the card was left in by its last reader.
  await refusalAs('not-encoded', () => client.selectApplication(config.aid));
  if (policy.trustedOriginalityKeys) await checkOriginality(client, uid, policy.trustedOriginalityKeys);
  const keyVersion = await refusalAs('not-encoded', () => client.getKeyVersion(config.readKeyNo));
  if (keyVersion < policy.minKeyVersion) throw new Denied('key-version-too-old', `read key version ${keyVersion} < ${policy.minKeyVersion}`);
  const candidates = await config.readKeys(uid, keyVersion);
  if (candidates.length === 0) throw new Denied('unknown-key-version', `no known key set has read key version ${keyVersion}`);
  const keySet = await authenticateWithAny(client, config, candidates);

  // Whether it is an EV3 is asked inside the session, where the answer is MACed: a relay that
  // rewrote a plain GetVersion to claim an older card would otherwise skip the proximity check.
  const proximity =
    policy.proximityCheck === 'always' || (policy.proximityCheck === 'ev3' && isDesfireEv3(await refusalAs('proximity-check-failed', () => client.getVersion())));
  if (proximity) {
    try {
      await client.proximityCheck({ timer: config.timer ?? systemTimer, toleranceNs: policy.proximityToleranceNs });
    } catch (e) {
      if (e instanceof ProximityTimingError) throw new Denied('relay-suspected', e.message);
      if (isDesfireError(e)) throw new Denied('proximity-check-failed', e.message);
      throw e;
    }
  }
  const content = await refusalAs('credential-unreadable', () => client.readData(config.credentialFileNo, 0, config.credentialLength, 'full'));
  const verdict = config.checkCredential(content, (config.now ?? (() => new Date()))());
  if (!verdict.ok) throw new Denied(verdict.reason, verdict.detail);
  return { granted: true, uid, keySet, keyVersion, credential: verdict.fields };
}

/** Tries each candidate read key; a card that refuses them all is not ours. A match from a set not accepted is refused. */
async function authenticateWithAny<Fields>(client: DesfireClient, config: DoorConfig<Fields>, candidates: readonly ReadKeyCandidate[]): Promise<string> {
  for (const candidate of candidates) {
    try {
      await client.authenticate('ev2', config.readKeyNo, { type: 'aes', key: candidate.key });
    } catch (e) {
      if (!isDesfireError(e) || e.status !== Status.AUTHENTICATION_ERROR) throw e instanceof TransportError ? e : new Denied('authentication-failed', String(e));
      await client.selectApplication(config.aid); // a failed attempt ended nothing but the attempt; start clean
      continue;
    }
    if (!candidate.accepted) throw new Denied('key-set-not-accepted', `the card belongs to key set "${candidate.keySet}", which this door does not accept`);
    return candidate.keySet;
  }
  throw new Denied('authentication-failed', 'the card did not prove knowledge of any accepted read key');
}

async function checkOriginality(client: DesfireClient, uid: Uint8Array, trusted: readonly Uint8Array[]): Promise<void> {
  const signature = await refusalAs('not-genuine', () => client.readSignature());
  const id = `${toHex(uid)}:${toHex(signature)}`;
  if (verifiedSignatures.has(id)) return;
  if (!trusted.some((key) => verifyOriginalitySignature(uid, signature, key))) {
    throw new Denied('not-genuine', 'the originality signature does not verify under any trusted key');
  }
  verifiedSignatures.add(id);
  if (verifiedSignatures.size > MAX_VERIFIED_SIGNATURES) verifiedSignatures.delete(verifiedSignatures.values().next().value as string);
}

/** Runs a card command; a refusal by the card becomes a denial with `reason`. */
async function refusalAs<T>(reason: DenialReason, command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (e) {
    if (isDesfireError(e)) throw new Denied(reason, e.message);
    throw e;
  }
}
