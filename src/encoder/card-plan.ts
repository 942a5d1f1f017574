import type { CardData, Credential, Profile } from '../gen/desfirepacs/v1/profile_pb.js';
import { DiversificationMethod, FileType } from '../gen/desfirepacs/v1/profile_pb.js';
import type { DoorConfig, DoorPolicy, ReadKeyCandidate } from './door/authenticator.js';
import type { KeyStore } from './keys/index.js';
import type { CardKeys, CardLayout, FileLayout } from './personalize/card-layout.js';
import {
  accessRightsOf,
  commModeOf,
  credentialSite,
  doorSettings,
  encodeCredentialFile,
  keyRefOf,
  keySettingsByte,
  verifyCredential,
} from './profile/index.js';

/**
 * From a validated profile to what personalization and doors work with: the card's layout and its
 * diversified keys (from the key store, for its UID), and a door configuration.
 */

export interface CardPlan {
  readonly layout: CardLayout;
  readonly keys: CardKeys;
}

const FILE_KINDS: Partial<Record<FileType, FileLayout['kind']>> = { [FileType.STANDARD]: 'standard', [FileType.BACKUP]: 'backup' };

/**
 * The plan for one card. The personalizer encodes one application of standard and backup files
 * (what generic-pacs-v1 needs); a profile asking for more is refused here, before any card is touched.
 */
export async function planCard(profile: Profile, card: CardData, keyStore: KeyStore, uid: Uint8Array): Promise<CardPlan> {
  if (profile.applications.length !== 1) throw new RangeError(`the personalizer encodes one application; the profile has ${profile.applications.length}`);
  const [app] = profile.applications;
  const site = credentialSite(profile);
  const piccKey = profile.picc?.masterKey;
  if (!piccKey?.diversification) throw new RangeError('the profile names no PICC master key');
  // The key store diversifies every card key (AN10922); a profile asking for undiversified keys is not encoded.
  for (const d of [piccKey.diversification, ...app.keys.map((k) => k.diversification)]) {
    if (d?.method !== DiversificationMethod.AN10922_AES128) throw new RangeError('the personalizer encodes AN10922-diversified keys only');
  }
  const versionOf = async (keySet: string, version?: number) => version ?? (await keyStore.currentVersion(keySet));
  const piccVersion = await versionOf(piccKey.keySet, piccKey.keyVersion);
  const picc = await keyStore.cardKey({ keySet: piccKey.keySet, version: piccVersion, keyRef: 'picc', uid, aid: 0, systemIdentifier: piccKey.diversification.systemIdentifier });
  const keyVersions: number[] = [];
  const application: Uint8Array[] = [];
  for (const key of [...app.keys].sort((a, b) => a.number - b.number)) {
    const version = await versionOf(key.keySet, key.keyVersion);
    keyVersions.push(version);
    application.push(await keyStore.cardKey({ keySet: key.keySet, version, keyRef: keyRefOf(key), uid, aid: app.aid, systemIdentifier: key.diversification?.systemIdentifier ?? new Uint8Array(0) }));
  }
  const files = app.files.map((file): FileLayout => {
    const kind = FILE_KINDS[file.type];
    if (!kind) throw new RangeError(`file ${file.number}: the personalizer writes standard and backup files only`);
    const content = file === site.file ? encodeCredentialFile(site.template, card, file.size) : undefined;
    return { fileNo: file.number, kind, commMode: commModeOf(file.commMode), access: accessRightsOf(file.access), size: file.size, ...(content ? { content } : {}) };
  });
  return {
    layout: {
      piccKeyVersion: piccVersion,
      piccKeySettings: keySettingsByte(profile.picc?.keySettings),
      application: {
        aid: app.aid,
        ...(app.isoFid !== undefined ? { isoFid: app.isoFid } : {}),
        ...(app.isoDfName.length > 0 ? { dfName: app.isoDfName } : {}),
        keySettings: keySettingsByte(app.keySettings),
        keyVersions,
      },
      files,
    },
    keys: { picc, application },
  };
}

export interface DoorOptions {
  /** Key sets whose cards this door opens for (default: the profile's read-key set). */
  readonly acceptedKeySets?: readonly string[];
  /** Key sets this door knows but refuses (their cards are denied as "key-set-not-accepted"). */
  readonly refusedKeySets?: readonly string[];
  readonly trustedOriginalityKeys?: readonly Uint8Array[];
  readonly proximityToleranceNs?: bigint;
  readonly timer?: DoorConfig<Credential>['timer'];
  readonly now?: () => Date;
}

/** A door configured from the profile's door policy, with read keys from the key store. */
export function doorConfigOf(profile: Profile, keyStore: KeyStore, options: DoorOptions = {}): DoorConfig<Credential> {
  const door = doorSettings(profile);
  const accepted = options.acceptedKeySets ?? [door.readKeySet];
  const policy: DoorPolicy = {
    proximityCheck: door.proximityCheck,
    minKeyVersion: door.minimumKeyVersion,
    ...(options.proximityToleranceNs !== undefined ? { proximityToleranceNs: options.proximityToleranceNs } : {}),
    ...(options.trustedOriginalityKeys ? { trustedOriginalityKeys: options.trustedOriginalityKeys } : {}),
  };
  const candidates = async (uid: Uint8Array, version: number): Promise<ReadKeyCandidate[]> => {
    const out: ReadKeyCandidate[] = [];
    for (const [keySet, isAccepted] of [...accepted.map((s) => [s, true] as const), ...(options.refusedKeySets ?? []).map((s) => [s, false] as const)]) {
      const info = await keyStore.keySet(keySet);
      if (!info.versions.some((v) => v.version === version)) continue;
      const key = await keyStore.cardKey({ keySet, version, keyRef: door.readKeyRef, uid, aid: door.aid, systemIdentifier: door.readKeyDiversification.systemIdentifier });
      out.push({ keySet, key, accepted: isAccepted });
    }
    return out;
  };
  return {
    aid: door.aid,
    readKeyNo: door.readKeyNo,
    credentialFileNo: door.credentialFileNo,
    credentialLength: door.credentialLength,
    policy,
    readKeys: candidates,
    checkCredential: (content, now) => verifyCredential(content, { issuer: door.issuer }, now),
    ...(options.timer ? { timer: options.timer } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
}
