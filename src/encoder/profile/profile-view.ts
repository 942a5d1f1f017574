import { FREE_ACCESS, NO_ACCESS, type AccessRights as CardAccessRights } from '../../desfire/access-rights.js';
import type { CommMode as CardCommMode } from '../../desfire/comm-mode.js';
import { cardDiversificationInput } from '../../desfire/crypto/an10922.js';
import { CommMode, SecureMessaging } from '../../gen/desfirepacs/v1/desfire_pb.js';
import {
  DiversificationMethod,
  FileType,
  ProximityCheck,
  type AccessRight,
  type AccessRights,
  type ApplicationSpec,
  type CredentialTemplate,
  type Diversification,
  type FileSpec,
  type KeySettings,
  type KeySpec,
  type Profile,
} from '../../gen/desfirepacs/v1/profile_pb.js';

/**
 * A validated profile seen as the card and the door see it: the bytes and nibbles DESFire
 * commands take, and where the credential is. Every function here expects a profile that passed
 * `validateProfile` and throws a plain Error (a bug) when it meets one that did not.
 */

/** The comm mode of `src/desfire` for a profile's CommMode. */
export function commModeOf(mode: CommMode): CardCommMode {
  switch (mode) {
    case CommMode.PLAIN:
      return 'plain';
    case CommMode.MAC:
      return 'mac';
    case CommMode.FULL:
      return 'full';
    default:
      throw new Error(`comm mode ${mode} is not set: validate the profile first`);
  }
}

/** One access-right nibble: a key number 0x0..0xD, 0xE free, 0xF never. */
export function accessNibble(right: AccessRight | undefined): number {
  const r = right?.right;
  switch (r?.case) {
    case 'key':
      return r.value;
    case 'free':
      return FREE_ACCESS;
    case 'never':
      return NO_ACCESS;
    default:
      throw new Error('access right not set: validate the profile first');
  }
}

/** The four nibbles of a file's access rights, as CreateStdDataFile / ChangeFileSettings take them. */
export function accessRightsOf(access: AccessRights | undefined): CardAccessRights {
  return {
    read: accessNibble(access?.read),
    write: accessNibble(access?.write),
    readWrite: accessNibble(access?.readWrite),
    change: accessNibble(access?.change),
  };
}

/**
 * Key settings 1 as ChangeKeySettings / CreateApplication take it: bits 7..4 the ChangeKey access
 * (0 master key, 1..D that key, E the key itself, F frozen; 0 for the PICC), bit 3 configuration
 * changeable, bit 2 free create/delete, bit 1 free listing, bit 0 master key changeable.
 */
export function keySettingsByte(ks: KeySettings | undefined): number {
  if (!ks) throw new Error('key settings not set: validate the profile first');
  const right = ks.changeKey?.right;
  const access = right?.case === 'key' ? right.value : right?.case === 'sameKey' ? 0xe : right?.case === 'frozen' ? 0xf : 0;
  return (
    (access << 4) |
    (ks.configurationChangeable ? 0x08 : 0) |
    (ks.freeCreateDelete ? 0x04 : 0) |
    (ks.freeListing ? 0x02 : 0) |
    (ks.masterKeyChangeable ? 0x01 : 0)
  );
}

/** The file-type code of GetFileSettings (standard 0, backup 1, value 2, linear 3, cyclic 4). */
export function fileTypeCode(type: FileType): number {
  switch (type) {
    case FileType.STANDARD:
      return 0x00;
    case FileType.BACKUP:
      return 0x01;
    case FileType.VALUE:
      return 0x02;
    case FileType.LINEAR_RECORD:
      return 0x03;
    case FileType.CYCLIC_RECORD:
      return 0x04;
    default:
      throw new Error(`file type ${type} is not set: validate the profile first`);
  }
}

/** Which application master of the key set a key is diversified from (its `key_ref`, or its own number). */
export function keyRefOf(key: KeySpec): number {
  return key.keyRef ?? key.number;
}

/**
 * The AN10922 diversification input M for a card key: UID || AID (LSB first) || system identifier;
 * undefined when the key is not diversified (the master itself is the card key). `aid` is 0 for the
 * PICC master key.
 */
export function diversificationInputOf(d: Diversification | undefined, uid: Uint8Array, aid: number): Uint8Array | undefined {
  switch (d?.method) {
    case DiversificationMethod.AN10922_AES128:
      return cardDiversificationInput(uid, aid, d.systemIdentifier);
    case DiversificationMethod.NONE:
      return undefined;
    default:
      throw new Error('diversification not set: validate the profile first');
  }
}

/** Where the credential lives and which keys guard it. */
export interface CredentialSite {
  readonly application: ApplicationSpec;
  readonly file: FileSpec;
  readonly template: CredentialTemplate;
  /** The door read key (the file's read right). */
  readonly readKey: KeySpec;
  /** The issuer write key (the file's write right). */
  readonly writeKey: KeySpec;
}

export function credentialSite(profile: Profile): CredentialSite {
  for (const application of profile.applications) {
    for (const file of application.files) {
      const content = file.content?.content;
      if (content?.case !== 'credential') continue;
      const readKey = keyNamed(application, file.access?.read);
      const writeKey = keyNamed(application, file.access?.write);
      return { application, file, template: content.value, readKey, writeKey };
    }
  }
  throw new Error('no credential file: validate the profile first');
}

function keyNamed(app: ApplicationSpec, right: AccessRight | undefined): KeySpec {
  const r = right?.right;
  const key = r?.case === 'key' ? app.keys.find((k) => k.number === r.value) : undefined;
  if (!key) throw new Error('credential access right names no declared key: validate the profile first');
  return key;
}

/** When doors run the proximity check. */
export type ProximityRule = 'never' | 'ev3' | 'always';

/** Everything a door needs from a profile. */
export interface DoorSettings {
  readonly aid: number;
  readonly credentialFileNo: number;
  /** Bytes to read: the whole credential file. */
  readonly credentialLength: number;
  /** The read key: its number on the card and its master in the key store. */
  readonly readKeyNo: number;
  readonly readKeySet: string;
  readonly readKeyRef: number;
  readonly readKeyDiversification: Diversification;
  /** AuthenticateEV2First (ev2, the default) or AuthenticateAES (ev1). */
  readonly authMode: 'ev2' | 'ev1';
  readonly proximityCheck: ProximityRule;
  readonly minimumKeyVersion: number;
  /** The issuer a credential must name. */
  readonly issuer: string;
}

/** Fails closed: an unset rule is a profile that was not validated, not "never". */
function proximityRule(rule: ProximityCheck): ProximityRule {
  switch (rule) {
    case ProximityCheck.REQUIRED:
      return 'always';
    case ProximityCheck.REQUIRED_ON_EV3:
      return 'ev3';
    case ProximityCheck.NOT_REQUIRED:
      return 'never';
    default:
      throw new Error('proximity check rule not set: validate the profile first');
  }
}

export function doorSettings(profile: Profile): DoorSettings {
  const site = credentialSite(profile);
  const policy = profile.doorPolicy;
  if (!policy || !site.readKey.diversification) throw new Error('door policy or read key diversification not set: validate the profile first');
  return {
    aid: site.application.aid,
    credentialFileNo: site.file.number,
    credentialLength: site.file.size,
    readKeyNo: site.readKey.number,
    readKeySet: site.readKey.keySet,
    readKeyRef: keyRefOf(site.readKey),
    readKeyDiversification: site.readKey.diversification,
    authMode: policy.authMode === SecureMessaging.EV1 ? 'ev1' : 'ev2',
    proximityCheck: proximityRule(policy.proximityCheck),
    minimumKeyVersion: policy.minimumKeyVersion,
    issuer: site.template.issuer,
  };
}
