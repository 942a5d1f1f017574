import type { DescEnum } from '@bufbuild/protobuf';
import { CommMode, CommModeSchema, KeyType, SecureMessaging } from '../../gen/desfirepacs/v1/desfire_pb.js';
import {
  CardCapacitySchema,
  DiversificationMethod,
  DiversificationMethodSchema,
  FileType,
  FileTypeSchema,
  ProximityCheckSchema,
  type AccessRight,
  type ApplicationSpec,
  type CredentialTemplate,
  type Diversification,
  type FileSpec,
  type KeySettings,
  type Profile,
} from '../../gen/desfirepacs/v1/profile_pb.js';
import { applicationBaseFootprint, capacityBytes, capacityName, fileFootprint, PICC_RESERVE, profileFootprint } from './capacity.js';
import { CREDENTIAL_FORMAT_VERSION, MAX_ISSUER_LENGTH, standardRecordsLength } from './credential-tlv.js';
import {
  KEY_SET_NAME,
  MAX_AID,
  MAX_APPLICATION_KEYS,
  MAX_APPLICATIONS,
  MAX_DF_NAME_LENGTH,
  MAX_FILE_NO,
  MAX_FILE_SIZE,
  MAX_FILES,
  MAX_KEY_VERSION,
  MAX_SYSTEM_IDENTIFIER_LENGTH,
  PROFILE_NAME,
  RESERVED_ISO_FIDS,
} from './limits.js';
import { at, IssueList, type ProfileIssue } from './profile-error.js';

/**
 * Profile validation: every rule a profile must follow before a card is touched, each problem
 * reported with the path of its field (proto field names, as profile files spell them) and what
 * is wrong. The rules per field are also written in proto/desfirepacs/v1/profile.proto.
 */

/** Every problem of `profile`; empty when it is valid. */
export function profileIssues(profile: Profile): ProfileIssue[] {
  const out = new IssueList();
  new ProfileChecker(profile, out).run();
  return [...out.issues];
}

/**
 * Returns `profile` when it is valid; throws ProfileError listing every problem otherwise.
 * `subject` names it in the error (default: its name).
 */
export function validateProfile(profile: Profile, subject?: string): Profile {
  const out = new IssueList();
  new ProfileChecker(profile, out).run();
  out.throwIfAny(subject ?? (profile.name ? `profile "${profile.name}"` : 'profile'));
  return profile;
}

export function aidHex(aid: number): string {
  return aid.toString(16).toUpperCase().padStart(6, '0');
}

function hex(value: number, digits: number): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

function isPrintableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/** The values a profile file may name, as it names them (proto names), UNSPECIFIED left out. */
function enumNames(e: DescEnum): string {
  return e.values
    .filter((v) => v.number !== 0)
    .map((v) => v.name)
    .join(', ');
}

/** What is wrong with an enum field that is not `known`. */
function enumProblem(e: DescEnum, value: number): string {
  return `${value === 0 ? 'required' : `unknown value ${value}`}: one of ${enumNames(e)}`;
}

/** A set value the enum defines (proto3 enums are open: JSON may carry any number). */
function known(e: DescEnum, value: number): boolean {
  return value !== 0 && e.values.some((v) => v.number === value);
}

/** A key of the profile, for the checks that look across keys. */
interface KeyUse {
  /** Path of the key message (e.g. `applications[0].keys[1]`, `picc.master_key`). */
  readonly path: string;
  /** Key store master: key set and key ref ('picc' or an application key ref). */
  readonly master: string;
  /** Everything that makes the card key: master, version, diversification input. */
  readonly cardKey: string;
  readonly description: string;
}

/** Where the credential is: application and file indexes. */
interface CredentialSite {
  readonly app: number;
  readonly file: number;
}

const PICC_KEY_TYPE_HELP = 'must be KEY_TYPE_AES_128: desfire-pacs encodes AES keys only';

class ProfileChecker {
  readonly #p: Profile;
  readonly #out: IssueList;
  readonly #keys: KeyUse[] = [];
  readonly #credentials: CredentialSite[] = [];
  /** Some file's size or record count already reported as too large for the card. */
  #fileTooLarge = false;

  constructor(profile: Profile, out: IssueList) {
    this.#p = profile;
    this.#out = out;
  }

  #add(path: string, message: string): void {
    this.#out.add(path, message);
  }

  run(): void {
    const p = this.#p;
    if (p.name === '') this.#add('name', 'required, e.g. "generic-pacs-v1"');
    else if (!PROFILE_NAME.test(p.name)) this.#add('name', `"${p.name}": 1..64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit`);
    if (p.capacity !== 0 && !known(CardCapacitySchema, p.capacity)) this.#add('capacity', enumProblem(CardCapacitySchema, p.capacity));
    this.#picc();
    this.#applications();
    this.#credential();
    this.#keyUses();
    this.#doorPolicy();
    this.#randomUid();
    this.#capacity();
  }

  // --- PICC ------------------------------------------------------------------------------------

  #picc(): void {
    const picc = this.#p.picc;
    if (!picc) {
      this.#add('picc', 'required: the PICC master key and key settings');
      return;
    }
    const key = picc.masterKey;
    const path = 'picc.master_key';
    if (!key) {
      this.#add(path, 'required: the PICC master key that replaces the factory key');
    } else {
      if (key.keyType !== KeyType.AES_128) this.#add(at(path, 'key_type'), PICC_KEY_TYPE_HELP);
      this.#keySet(at(path, 'key_set'), key.keySet);
      this.#keyVersion(at(path, 'key_version'), key.keyVersion);
      this.#diversification(at(path, 'diversification'), key.diversification);
      this.#keys.push({
        path,
        master: `${key.keySet}\u0000picc`,
        cardKey: cardKeyIdentity(key.keySet, 'picc', key.keyVersion, key.diversification, 0),
        description: 'the PICC master key',
      });
    }
    if (!picc.keySettings) this.#add('picc.key_settings', 'required: the PICC key settings once the card is encoded');
    else if (picc.keySettings.changeKey) this.#add('picc.key_settings.change_key', 'must be unset: bits 7..4 of the PICC key settings are reserved');
  }

  #keySet(path: string, name: string): void {
    if (name === '') this.#add(path, 'required: the name of a key set in the key store');
    else if (!KEY_SET_NAME.test(name)) this.#add(path, `"${name}" is not a key set name: 1..64 characters of A-Z, a-z, 0-9, ".", "_", "-", starting with a letter or digit`);
  }

  #keyVersion(path: string, version: number | undefined): void {
    if (version === undefined) return;
    if (version < 1 || version > MAX_KEY_VERSION) {
      this.#add(path, `${version} is not a key version to encode: 1..${MAX_KEY_VERSION} (0 is the factory version), or unset for the key set's current version`);
    }
  }

  #diversification(path: string, d: Diversification | undefined): void {
    if (!d) {
      this.#add(path, 'required: method DIVERSIFICATION_METHOD_AN10922_AES128 (per-card keys) or DIVERSIFICATION_METHOD_NONE');
      return;
    }
    switch (d.method) {
      case DiversificationMethod.AN10922_AES128:
        if (d.systemIdentifier.length > MAX_SYSTEM_IDENTIFIER_LENGTH) {
          this.#add(
            at(path, 'system_identifier'),
            `${d.systemIdentifier.length} bytes; at most ${MAX_SYSTEM_IDENTIFIER_LENGTH} (AN10922 input UID(7) || AID(3) || system identifier is at most 31 bytes)`,
          );
        }
        break;
      case DiversificationMethod.NONE:
        if (d.systemIdentifier.length > 0) this.#add(at(path, 'system_identifier'), 'must be empty: DIVERSIFICATION_METHOD_NONE uses no diversification input');
        break;
      default:
        this.#add(at(path, 'method'), enumProblem(DiversificationMethodSchema, d.method));
    }
  }

  // --- Applications ----------------------------------------------------------------------------

  #applications(): void {
    const apps = this.#p.applications;
    if (apps.length === 0) this.#add('applications', 'at least one application is required');
    if (apps.length > MAX_APPLICATIONS) this.#add('applications', `${apps.length} applications; a DESFire card holds at most ${MAX_APPLICATIONS}`);
    const aids = new Map<number, number>();
    const fids = new Map<number, number>();
    const names = new Map<string, number>();
    apps.forEach((app, i) => {
      const path = at('applications', i);
      this.#application(app, path);
      const sameAid = aids.get(app.aid);
      if (sameAid !== undefined) this.#add(at(path, 'aid'), `AID ${aidHex(app.aid)} is also the AID of applications[${sameAid}]`);
      else aids.set(app.aid, i);
      if (app.isoFid !== undefined) {
        const same = fids.get(app.isoFid);
        if (same !== undefined) this.#add(at(path, 'iso_fid'), `ISO file ID ${hex(app.isoFid, 4)} is also applications[${same}]'s`);
        else fids.set(app.isoFid, i);
      }
      if (app.isoDfName.length > 0) {
        const name = Buffer.from(app.isoDfName).toString('hex');
        const same = names.get(name);
        if (same !== undefined) this.#add(at(path, 'iso_df_name'), `DF name ${name.toUpperCase()} is also applications[${same}]'s`);
        else names.set(name, i);
      }
    });
  }

  #application(app: ApplicationSpec, path: string): void {
    if (app.aid === 0) this.#add(at(path, 'aid'), 'AID 000000 is the PICC level, not an application: 000001..FFFFFF');
    else if (app.aid > MAX_AID) this.#add(at(path, 'aid'), `${app.aid} (0x${app.aid.toString(16).toUpperCase()}) is out of range: an AID is 3 bytes, 000001..FFFFFF`);
    if (app.isoFid !== undefined) this.#isoFid(at(path, 'iso_fid'), app.isoFid);
    if (app.isoDfName.length > MAX_DF_NAME_LENGTH) this.#add(at(path, 'iso_df_name'), `${app.isoDfName.length} bytes; a DF name has 1..${MAX_DF_NAME_LENGTH}`);
    if (app.isoDfName.length > 0 && app.isoFid === undefined) this.#add(at(path, 'iso_df_name'), 'needs iso_fid: DESFire sends the DF name after the ISO file ID');
    if (app.keyType !== KeyType.AES_128) this.#add(at(path, 'key_type'), PICC_KEY_TYPE_HELP);
    const keyCount = app.keyCount;
    const keyCountValid = keyCount >= 1 && keyCount <= MAX_APPLICATION_KEYS;
    if (!keyCountValid) this.#add(at(path, 'key_count'), `${keyCount}; an application has 1..${MAX_APPLICATION_KEYS} keys`);
    this.#applicationKeys(app, path, keyCountValid);
    this.#keySettings(at(path, 'key_settings'), app.keySettings, keyCountValid ? keyCount : undefined);
    if (app.files.length > MAX_FILES) this.#add(at(path, 'files'), `${app.files.length} files; an application holds at most ${MAX_FILES}`);
    const numbers = new Map<number, number>();
    const fids = new Map<number, number>();
    app.files.forEach((file, j) => {
      const filePath = at(at(path, 'files'), j);
      this.#file(app, file, filePath, keyCountValid ? keyCount : undefined);
      const same = numbers.get(file.number);
      if (same !== undefined) this.#add(at(filePath, 'number'), `file number ${file.number} is also files[${same}]'s`);
      else numbers.set(file.number, j);
      if (file.isoFid !== undefined) {
        const sameFid = fids.get(file.isoFid);
        if (sameFid !== undefined) this.#add(at(filePath, 'iso_fid'), `ISO file ID ${hex(file.isoFid, 4)} is also files[${sameFid}]'s`);
        else fids.set(file.isoFid, j);
      }
    });
  }

  #isoFid(path: string, fid: number): void {
    if (fid > 0xffff) this.#add(path, `${fid} is not a 2-byte ISO file ID`);
    else if (RESERVED_ISO_FIDS.has(fid)) this.#add(path, `${hex(fid, 4)} is reserved by ISO/IEC 7816-4 (0000, 3F00, 3FFF, FFFF)`);
  }

  #applicationKeys(app: ApplicationSpec, path: string, keyCountValid: boolean): void {
    const declared = new Map<number, number>();
    app.keys.forEach((key, k) => {
      const keyPath = at(at(path, 'keys'), k);
      if (keyCountValid && key.number >= app.keyCount) {
        this.#add(at(keyPath, 'number'), `key ${key.number} is beyond the application's key count (${app.keyCount}: keys 0..${app.keyCount - 1})`);
      } else if (key.number >= MAX_APPLICATION_KEYS) {
        this.#add(at(keyPath, 'number'), `key ${key.number}; application keys are 0..${MAX_APPLICATION_KEYS - 1}`);
      }
      const same = declared.get(key.number);
      if (same !== undefined) this.#add(at(keyPath, 'number'), `key ${key.number} is also keys[${same}]`);
      else declared.set(key.number, k);
      this.#keySet(at(keyPath, 'key_set'), key.keySet);
      if (key.keyRef !== undefined && key.keyRef >= MAX_APPLICATION_KEYS) {
        this.#add(at(keyPath, 'key_ref'), `${key.keyRef}; a key set's application masters are 0..${MAX_APPLICATION_KEYS - 1}`);
      }
      this.#keyVersion(at(keyPath, 'key_version'), key.keyVersion);
      this.#diversification(at(keyPath, 'diversification'), key.diversification);
      const ref = key.keyRef ?? key.number;
      this.#keys.push({
        path: keyPath,
        master: `${key.keySet}\u0000${ref}`,
        cardKey: cardKeyIdentity(key.keySet, ref, key.keyVersion, key.diversification, app.aid),
        description: `key ${key.number} of application ${aidHex(app.aid)}`,
      });
    });
    if (keyCountValid) {
      const missing: number[] = [];
      for (let n = 0; n < app.keyCount; n++) if (!declared.has(n)) missing.push(n);
      if (missing.length > 0) {
        this.#add(
          at(path, 'keys'),
          `key${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${app.keyCount} not declared: every key needs a master key (a key left out would keep the card's default key)`,
        );
      }
    }
  }

  /** `keyCount` undefined: the application's key count is itself invalid, so key numbers are not checked against it. */
  #keySettings(path: string, ks: KeySettings | undefined, keyCount: number | undefined): void {
    if (!ks) {
      this.#add(path, 'required: the key settings once the card is encoded');
      return;
    }
    const right = ks.changeKey?.right;
    const rightPath = at(path, 'change_key');
    if (!right || right.case === undefined) {
      this.#add(rightPath, 'required: key (0 = application master key, or 1..13), same_key or frozen');
    } else if (right.case === 'key') {
      if (right.value >= MAX_APPLICATION_KEYS) this.#add(at(rightPath, 'key'), `key ${right.value}; application keys are 0..${MAX_APPLICATION_KEYS - 1}`);
      else if (keyCount !== undefined && right.value >= keyCount) {
        this.#add(at(rightPath, 'key'), `names key ${right.value}, but the application has ${keyCount} key${keyCount === 1 ? '' : 's'} (0..${keyCount - 1})`);
      }
    } else if (!right.value) {
      this.#add(at(rightPath, right.case === 'sameKey' ? 'same_key' : 'frozen'), 'must be true when set (use key, same_key or frozen)');
    }
  }

  // --- Files -----------------------------------------------------------------------------------

  #file(app: ApplicationSpec, file: FileSpec, path: string, keyCount: number | undefined): void {
    if (file.number > MAX_FILE_NO) this.#add(at(path, 'number'), `file number ${file.number}; files are 0..${MAX_FILE_NO}`);
    if (!known(FileTypeSchema, file.type)) {
      this.#add(at(path, 'type'), enumProblem(FileTypeSchema, file.type));
    }
    if (!known(CommModeSchema, file.commMode)) {
      this.#add(at(path, 'comm_mode'), enumProblem(CommModeSchema, file.commMode));
    }
    if (file.isoFid !== undefined) {
      if (app.isoFid === undefined) this.#add(at(path, 'iso_fid'), 'the application has no iso_fid, so its files cannot have ISO file IDs');
      else if (file.type === FileType.VALUE) this.#add(at(path, 'iso_fid'), 'value files have no ISO file ID');
      else this.#isoFid(at(path, 'iso_fid'), file.isoFid);
    }
    const accessPath = at(path, 'access');
    if (!file.access) {
      this.#add(accessPath, 'required: read, write, read_write and change');
    } else {
      this.#right(at(accessPath, 'read'), file.access.read, keyCount);
      this.#right(at(accessPath, 'write'), file.access.write, keyCount);
      this.#right(at(accessPath, 'read_write'), file.access.readWrite, keyCount);
      this.#right(at(accessPath, 'change'), file.access.change, keyCount);
    }
    this.#fileShape(file, path);
    const content = file.content?.content;
    if (content?.case !== undefined && file.type !== FileType.STANDARD && file.type !== FileType.BACKUP) {
      this.#add(at(path, 'content'), 'only standard and backup files have content');
    } else if (content?.case === 'fixed' && content.value.length > file.size) {
      this.#add(at(at(path, 'content'), 'fixed'), `${content.value.length} bytes do not fit the file's ${file.size}`);
    }
    if (content?.case === 'credential') {
      const appIndex = this.#p.applications.indexOf(app);
      this.#credentials.push({ app: appIndex, file: app.files.indexOf(file) });
    }
  }

  #right(path: string, right: AccessRight | undefined, keyCount: number | undefined): void {
    const r = right?.right;
    if (!r || r.case === undefined) {
      this.#add(path, 'required: key (a key number of the application), free or never');
    } else if (r.case === 'key') {
      if (r.value >= MAX_APPLICATION_KEYS) this.#add(at(path, 'key'), `key ${r.value}; application keys are 0..${MAX_APPLICATION_KEYS - 1}`);
      else if (keyCount !== undefined && r.value >= keyCount) {
        this.#add(at(path, 'key'), `names key ${r.value}, but the application has ${keyCount} key${keyCount === 1 ? '' : 's'} (0..${keyCount - 1})`);
      }
    } else if (!r.value) {
      this.#add(at(path, r.case), 'must be true when set (use key, free or never)');
    }
  }

  #fileShape(file: FileSpec, path: string): void {
    const dataFile = file.type === FileType.STANDARD || file.type === FileType.BACKUP;
    const recordFile = file.type === FileType.LINEAR_RECORD || file.type === FileType.CYCLIC_RECORD;
    if (dataFile) {
      if (file.size === 0) this.#add(at(path, 'size'), 'required: a data file has at least 1 byte');
      else if (file.size > MAX_FILE_SIZE) this.#add(at(path, 'size'), `${file.size} bytes; a file size is 3 bytes (at most ${MAX_FILE_SIZE})`);
    } else if (file.size !== 0) {
      this.#add(at(path, 'size'), 'only standard and backup files have a size (record files: record; value files: value)');
    }
    if (recordFile) {
      const r = file.record;
      if (!r) {
        this.#add(at(path, 'record'), 'required for record files: record_size and max_records');
      } else {
        if (r.recordSize === 0 || r.recordSize > MAX_FILE_SIZE) this.#add(at(at(path, 'record'), 'record_size'), `${r.recordSize}; 1..${MAX_FILE_SIZE} bytes`);
        const min = file.type === FileType.CYCLIC_RECORD ? 2 : 1;
        if (r.maxRecords < min || r.maxRecords > MAX_FILE_SIZE) {
          this.#add(at(at(path, 'record'), 'max_records'), `${r.maxRecords}; a ${min === 2 ? 'cyclic' : 'linear'} record file keeps ${min}..${MAX_FILE_SIZE} records${min === 2 ? ' (one is the card\'s backup)' : ''}`);
        }
      }
    } else if (file.record) {
      this.#add(at(path, 'record'), 'only record files have record settings');
    }
    if (file.type === FileType.VALUE) {
      const v = file.value;
      if (!v) {
        this.#add(at(path, 'value'), 'required for value files: lower_limit, upper_limit, initial_value');
      } else {
        if (v.lowerLimit > v.upperLimit) this.#add(at(at(path, 'value'), 'lower_limit'), `${v.lowerLimit} is above upper_limit ${v.upperLimit}`);
        else if (v.initialValue < v.lowerLimit || v.initialValue > v.upperLimit) {
          this.#add(at(at(path, 'value'), 'initial_value'), `${v.initialValue} is outside the limits ${v.lowerLimit}..${v.upperLimit}`);
        }
      }
    } else if (file.value) {
      this.#add(at(path, 'value'), 'only value files have value settings');
    }
  }

  // --- The credential --------------------------------------------------------------------------

  #credential(): void {
    const sites = this.#credentials;
    if (sites.length === 0) {
      if (this.#p.applications.length > 0) this.#add('applications', 'no file holds the credential: one standard file needs content.credential');
      return;
    }
    sites.slice(1).forEach((s) => {
      this.#add(at(this.#filePath(s), 'content.credential'), `a second credential file (the first is ${this.#filePath(sites[0])}): a profile has exactly one`);
    });
    const site = sites[0];
    const app = this.#p.applications[site.app];
    const file = app.files[site.file];
    const path = this.#filePath(site);
    if (file.type !== FileType.STANDARD && file.type !== FileType.BACKUP && known(FileTypeSchema, file.type)) {
      this.#add(at(path, 'type'), 'the credential needs a standard (or backup) data file');
    }
    if (file.commMode !== CommMode.FULL) {
      this.#add(at(path, 'comm_mode'), 'must be COMM_MODE_FULL: the credential travels enciphered at every door');
    }
    const access = file.access;
    const read = access?.read?.right;
    let readKey: number | undefined;
    if (read?.case === 'key') {
      readKey = read.value;
      if (readKey === 0) this.#add(at(path, 'access.read.key'), 'the door read key must not be the application master key (0): doors would hold the key that administers the application');
    } else if (read?.case === 'free' || read?.case === 'never') {
      this.#add(at(path, 'access.read'), `must be a key (the door read key), not ${read.case}: the credential is readable with the read key only`);
    }
    const readWrite = access?.readWrite?.right;
    if (readWrite && readWrite.case !== undefined && readWrite.case !== 'never') {
      this.#add(at(path, 'access.read_write'), 'must be never: read&write also grants reading, and only the read key may read the credential');
    }
    const write = access?.write?.right;
    if (write?.case === 'free') this.#add(at(path, 'access.write'), 'must not be free: anyone could write a credential');
    else if (write?.case === 'never') this.#add(at(path, 'access.write'), 'must be a key: the issuer writes the credential with it');
    else if (write?.case === 'key' && write.value === readKey) this.#add(at(path, 'access.write.key'), 'must not be the door read key: doors must not be able to write credentials');
    const change = access?.change?.right;
    if (change?.case === 'free') this.#add(at(path, 'access.change'), 'must not be free: anyone could change the file\'s access rights and write a credential');
    else if (change?.case === 'key' && change.value === readKey) this.#add(at(path, 'access.change.key'), 'must not be the door read key: doors could change the file\'s access rights');
    const ks = app.keySettings;
    const appPath = at('applications', site.app);
    if (ks?.freeCreateDelete) {
      this.#add(at(appPath, 'key_settings.free_create_delete'), 'must be false in the credential\'s application: anyone could delete the credential file and create a forged one that the read key reads');
    }
    if (ks?.changeKey?.right.case === 'key' && ks.changeKey.right.value === readKey && readKey !== undefined) {
      this.#add(at(appPath, 'key_settings.change_key.key'), 'must not be the door read key: doors could change the write key and write credentials');
    }
    const template = file.content?.content.case === 'credential' ? file.content.content.value : undefined;
    if (template) this.#template(at(path, 'content.credential'), template, file, path);
  }

  #filePath(site: CredentialSite): string {
    return at(at(at('applications', site.app), 'files'), site.file);
  }

  #template(path: string, t: CredentialTemplate, file: FileSpec, filePath: string): void {
    if (t.formatVersion !== CREDENTIAL_FORMAT_VERSION) {
      this.#add(at(path, 'format_version'), `${t.formatVersion === 0 ? 'required' : `unsupported version ${t.formatVersion}`}: the credential layout version is ${CREDENTIAL_FORMAT_VERSION}`);
    }
    const issuerBytes = new TextEncoder().encode(t.issuer).length;
    if (t.issuer === '') this.#add(at(path, 'issuer'), `required: 1..${MAX_ISSUER_LENGTH} printable ASCII characters naming the issuer`);
    else if (!isPrintableAscii(t.issuer) || issuerBytes > MAX_ISSUER_LENGTH) {
      this.#add(at(path, 'issuer'), `"${t.issuer}": 1..${MAX_ISSUER_LENGTH} printable ASCII characters (0x20..0x7E)`);
    }
    const needed = standardRecordsLength(Math.min(issuerBytes, MAX_ISSUER_LENGTH));
    if (file.size > 0 && file.size < needed) {
      this.#add(at(filePath, 'size'), `${file.size} bytes cannot hold the credential: it needs ${needed} (format version 3, issuer ${2 + issuerBytes}, card number 10, valid from 6, valid to 6, site code 6)`);
    }
  }

  // --- Keys across the profile -----------------------------------------------------------------

  #keyUses(): void {
    const readKey = this.#doorReadKey();
    const readUse = readKey ? this.#keys.find((k) => k.path === readKey.path) : undefined;
    const seen = new Map<string, KeyUse>();
    for (const use of this.#keys) {
      if (readUse && use !== readUse && use.master === readUse.master) {
        this.#add(use.path, `uses the master of the door read key (${readUse.path}); doors hold that master and could derive ${use.description}`);
        continue;
      }
      const same = seen.get(use.cardKey);
      if (same) this.#add(use.path, `derives the same card key as ${same.path} (same master, version and diversification input): give it its own key_ref`);
      else seen.set(use.cardKey, use);
    }
  }

  /** The door read key: the key number reading the credential file, and its KeySpec path. */
  #doorReadKey(): { app: number; number: number; path: string } | undefined {
    const site = this.#credentials[0];
    if (!site) return undefined;
    const app = this.#p.applications[site.app];
    const read = app.files[site.file].access?.read?.right;
    if (read?.case !== 'key') return undefined;
    const k = app.keys.findIndex((key) => key.number === read.value);
    if (k < 0) return undefined;
    return { app: site.app, number: read.value, path: at(at(at('applications', site.app), 'keys'), k) };
  }

  // --- Door policy ----------------------------------------------------------------------------

  #doorPolicy(): void {
    const policy = this.#p.doorPolicy;
    if (!policy) {
      this.#add('door_policy', 'required: auth_mode, proximity_check, minimum_key_version');
      return;
    }
    const mode = policy.authMode;
    if (mode === SecureMessaging.D40) this.#add('door_policy.auth_mode', 'SECURE_MESSAGING_D40 is DES-only: use SECURE_MESSAGING_EV2 (default) or SECURE_MESSAGING_EV1');
    else if (mode !== SecureMessaging.UNSPECIFIED && mode !== SecureMessaging.EV1 && mode !== SecureMessaging.EV2) {
      this.#add('door_policy.auth_mode', `unknown mode ${mode}: SECURE_MESSAGING_EV2 (default) or SECURE_MESSAGING_EV1`);
    }
    if (!known(ProximityCheckSchema, policy.proximityCheck)) {
      this.#add('door_policy.proximity_check', enumProblem(ProximityCheckSchema, policy.proximityCheck));
    }
    if (policy.minimumKeyVersion > MAX_KEY_VERSION) {
      this.#add('door_policy.minimum_key_version', `${policy.minimumKeyVersion}; key versions are 0..${MAX_KEY_VERSION}`);
    } else {
      const read = this.#doorReadKey();
      if (read) {
        const spec = this.#p.applications[read.app].keys.find((k) => k.number === read.number);
        if (spec?.keyVersion !== undefined && spec.keyVersion < policy.minimumKeyVersion) {
          this.#add(
            'door_policy.minimum_key_version',
            `${policy.minimumKeyVersion} is above the read key version this profile encodes (${read.path}.key_version = ${spec.keyVersion}): its own cards would be denied`,
          );
        }
      }
    }
  }

  #randomUid(): void {
    if (!this.#p.picc?.randomUid) return;
    const read = this.#doorReadKey();
    if (!read) return;
    const spec = this.#p.applications[read.app].keys.find((k) => k.number === read.number);
    if (spec?.diversification?.method === DiversificationMethod.AN10922_AES128) {
      this.#add(
        'picc.random_uid',
        `a random UID hides the UID the door read key (${read.path}) is diversified with: a door could not derive it before authenticating. Use random_uid: false, or an undiversified read key`,
      );
    }
  }

  // --- Capacity -------------------------------------------------------------------------------

  #capacity(): void {
    const bytes = capacityBytes(this.#p.capacity);
    const name = capacityName(this.#p.capacity);
    this.#p.applications.forEach((app, i) => {
      const room = bytes - PICC_RESERVE - applicationBaseFootprint(app.keyCount);
      app.files.forEach((file, j) => {
        const footprint = fileFootprint(file);
        if (footprint <= room) return;
        this.#fileTooLarge = true;
        const field = file.type === FileType.LINEAR_RECORD || file.type === FileType.CYCLIC_RECORD ? 'record.max_records' : 'size';
        this.#add(
          at(at(at(at('applications', i), 'files'), j), field),
          `the file takes about ${footprint} bytes of card memory, more than a ${name} card has for it (about ${room} bytes beside the PICC and the application's keys; capacity estimate, see docs/generic-pacs-v1.md)`,
        );
      });
    });
    const total = profileFootprint(this.#p.applications);
    if (!this.#fileTooLarge && total > bytes) {
      this.#add('capacity', `the profile takes about ${total} bytes of card memory, a ${name} card has ${bytes} (capacity estimate): choose a larger capacity or smaller files`);
    }
  }
}

/** Everything that determines a card key; equal strings derive equal keys on every card. */
function cardKeyIdentity(keySet: string, ref: number | 'picc', version: number | undefined, d: Diversification | undefined, aid: number): string {
  const method = d?.method ?? 0;
  const input = method === DiversificationMethod.AN10922_AES128 ? `${aid}\u0000${Buffer.from(d?.systemIdentifier ?? []).toString('hex')}` : '';
  return [keySet, ref, version ?? 'current', method, input].join('\u0000');
}
