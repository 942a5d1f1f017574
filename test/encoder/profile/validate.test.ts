import { describe, expect, it } from 'vitest';
import { isProfileError, loadProfile, profileFromJson, profileIssues, ProfileError, type ProfileIssue } from '../../../src/encoder/profile/index.js';
import { parseProfile } from '../../../src/encoder/profile/load.js';
import { genericProfileJson, genericProfileText } from './support.js';

/** The shipped profile as JSON, changed by `mutate`, through the JSON loader; the ProfileError it must raise. */
function rejection(mutate: (p: Record<string, any>) => void): ProfileError {
  const p = genericProfileJson();
  mutate(p);
  try {
    loadProfile(JSON.stringify(p), 'json');
  } catch (e) {
    if (isProfileError(e)) return e;
    throw e;
  }
  throw new Error('the profile was accepted');
}

const app = (p: Record<string, any>) => p.applications[0];
const credentialFile = (p: Record<string, any>) => app(p).files[0];
const base64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');
const extraFile = (number: number, more: Record<string, unknown> = {}) => ({
  number,
  type: 'FILE_TYPE_STANDARD',
  comm_mode: 'COMM_MODE_PLAIN',
  access: { read: { free: true }, write: { key: 2 }, read_write: { key: 2 }, change: { key: 0 } },
  size: 32,
  ...more,
});

interface Row {
  readonly name: string;
  readonly mutate: (p: Record<string, any>) => void;
  /** The path the error must name ... */
  readonly path: string;
  /** ... and what it must say. */
  readonly message: RegExp;
}

const ROWS: Row[] = [
  { name: 'AID zero', mutate: (p) => (app(p).aid = 0), path: 'applications[0].aid', message: /000000 is the PICC level/ },
  { name: 'AID beyond 3 bytes', mutate: (p) => (app(p).aid = 0x1000000), path: 'applications[0].aid', message: /out of range: an AID is 3 bytes/ },
  {
    name: 'duplicate AIDs',
    mutate: (p) => p.applications.push({ ...structuredClone(app(p)), files: [] }),
    path: 'applications[1].aid',
    message: /AID F52A01 is also the AID of applications\[0\]/,
  },
  { name: 'duplicate file numbers', mutate: (p) => app(p).files.push(extraFile(1)), path: 'applications[0].files[1].number', message: /file number 1 is also files\[0\]'s/ },
  { name: 'file number above 31', mutate: (p) => app(p).files.push(extraFile(32)), path: 'applications[0].files[1].number', message: /files are 0\.\.31/ },
  { name: 'key number beyond the key count', mutate: (p) => (app(p).keys[2].number = 3), path: 'applications[0].keys[2].number', message: /key 3 is beyond the application's key count \(3: keys 0\.\.2\)/ },
  { name: 'a key left undeclared', mutate: (p) => (app(p).key_count = 4), path: 'applications[0].keys', message: /key 3 of 4 not declared/ },
  { name: 'key count above 14', mutate: (p) => (app(p).key_count = 15), path: 'applications[0].key_count', message: /1\.\.14 keys/ },
  { name: 'two keys with one number', mutate: (p) => (app(p).keys[2].number = 1), path: 'applications[0].keys[2].number', message: /key 1 is also keys\[1\]/ },
  {
    name: 'access right naming a missing key',
    mutate: (p) => (credentialFile(p).access.read = { key: 5 }),
    path: 'applications[0].files[0].access.read.key',
    message: /names key 5, but the application has 3 keys \(0\.\.2\)/,
  },
  {
    name: 'change right naming a missing key',
    mutate: (p) => (credentialFile(p).access.change = { key: 13 }),
    path: 'applications[0].files[0].access.change.key',
    message: /names key 13, but the application has 3 keys/,
  },
  { name: 'access right not set', mutate: (p) => delete credentialFile(p).access.change, path: 'applications[0].files[0].access.change', message: /required: key .*, free or never/ },
  { name: 'never: false', mutate: (p) => (credentialFile(p).access.read_write = { never: false }), path: 'applications[0].files[0].access.read_write.never', message: /must be true/ },
  { name: 'ChangeKey right naming a missing key', mutate: (p) => (app(p).key_settings.change_key = { key: 3 }), path: 'applications[0].key_settings.change_key.key', message: /names key 3/ },
  { name: 'ChangeKey right not set', mutate: (p) => delete app(p).key_settings.change_key, path: 'applications[0].key_settings.change_key', message: /^required/ },
  {
    name: 'file larger than card memory',
    mutate: (p) => app(p).files.push(extraFile(2, { size: 4000 })),
    path: 'applications[0].files[1].size',
    message: /about 4000 bytes of card memory, more than a 2 KB card has for it \(about 1664 bytes/,
  },
  {
    name: 'record file larger than card memory',
    mutate: (p) => app(p).files.push({ ...extraFile(2), size: 0, type: 'FILE_TYPE_LINEAR_RECORD', record: { record_size: 100, max_records: 100 } }),
    path: 'applications[0].files[1].record.max_records',
    message: /more than a 2 KB card/,
  },
  {
    name: 'files that fit one by one but not together',
    mutate: (p) => app(p).files.push(extraFile(2, { size: 1200 }), extraFile(3, { size: 1200 })),
    path: 'capacity',
    message: /the profile takes about 2880 bytes of card memory, a 2 KB card has 2048/,
  },
  { name: 'credential not fitting its file', mutate: (p) => (credentialFile(p).size = 40), path: 'applications[0].files[0].size', message: /40 bytes cannot hold the credential: it needs 47/ },
  { name: 'credential file not full', mutate: (p) => (credentialFile(p).comm_mode = 'COMM_MODE_MAC'), path: 'applications[0].files[0].comm_mode', message: /must be COMM_MODE_FULL/ },
  { name: 'credential readable by anyone', mutate: (p) => (credentialFile(p).access.read = { free: true }), path: 'applications[0].files[0].access.read', message: /must be a key \(the door read key\), not free/ },
  { name: 'credential also readable through read&write', mutate: (p) => (credentialFile(p).access.read_write = { key: 2 }), path: 'applications[0].files[0].access.read_write', message: /must be never: read&write also grants reading/ },
  { name: 'door read key is the application master', mutate: (p) => (credentialFile(p).access.read = { key: 0 }), path: 'applications[0].files[0].access.read.key', message: /must not be the application master key/ },
  { name: 'door read key can write', mutate: (p) => (credentialFile(p).access.write = { key: 1 }), path: 'applications[0].files[0].access.write.key', message: /must not be the door read key/ },
  { name: 'credential writable by nobody', mutate: (p) => (credentialFile(p).access.write = { never: true }), path: 'applications[0].files[0].access.write', message: /must be a key: the issuer writes/ },
  { name: 'file settings changeable by anyone', mutate: (p) => (credentialFile(p).access.change = { free: true }), path: 'applications[0].files[0].access.change', message: /must not be free/ },
  { name: 'credential in a value file', mutate: (p) => (credentialFile(p).type = 'FILE_TYPE_VALUE'), path: 'applications[0].files[0].type', message: /needs a standard \(or backup\) data file/ },
  {
    name: 'free file creation in the credential application',
    mutate: (p) => (app(p).key_settings.free_create_delete = true),
    path: 'applications[0].key_settings.free_create_delete',
    message: /anyone could delete the credential file and create a forged one/,
  },
  { name: 'door read key changes keys', mutate: (p) => (app(p).key_settings.change_key = { key: 1 }), path: 'applications[0].key_settings.change_key.key', message: /must not be the door read key/ },
  { name: 'credential format version 2', mutate: (p) => (credentialFile(p).content.credential.format_version = 2), path: 'applications[0].files[0].content.credential.format_version', message: /unsupported version 2/ },
  { name: 'issuer not ASCII', mutate: (p) => (credentialFile(p).content.credential.issuer = 'exämple'), path: 'applications[0].files[0].content.credential.issuer', message: /printable ASCII/ },
  { name: 'issuer longer than 32', mutate: (p) => (credentialFile(p).content.credential.issuer = 'x'.repeat(33)), path: 'applications[0].files[0].content.credential.issuer', message: /1\.\.32 printable ASCII/ },
  { name: 'no issuer', mutate: (p) => delete credentialFile(p).content.credential.issuer, path: 'applications[0].files[0].content.credential.issuer', message: /^required/ },
  { name: 'no credential file', mutate: (p) => delete credentialFile(p).content, path: 'applications', message: /no file holds the credential/ },
  {
    name: 'two credential files',
    mutate: (p) => app(p).files.push({ ...structuredClone(credentialFile(p)), number: 2 }),
    path: 'applications[0].files[1].content.credential',
    message: /a second credential file \(the first is applications\[0\]\.files\[0\]\)/,
  },
  { name: 'empty key set name', mutate: (p) => (app(p).keys[1].key_set = ''), path: 'applications[0].keys[1].key_set', message: /required: the name of a key set/ },
  { name: 'malformed key set name', mutate: (p) => (app(p).keys[1].key_set = 'my keys!'), path: 'applications[0].keys[1].key_set', message: /"my keys!" is not a key set name/ },
  { name: 'key ref beyond 13', mutate: (p) => (app(p).keys[2].key_ref = 14), path: 'applications[0].keys[2].key_ref', message: /application masters are 0\.\.13/ },
  { name: 'key version 0', mutate: (p) => (app(p).keys[2].key_version = 0), path: 'applications[0].keys[2].key_version', message: /1\.\.255 \(0 is the factory version\)/ },
  { name: 'PICC key version 256', mutate: (p) => (p.picc.master_key.key_version = 256), path: 'picc.master_key.key_version', message: /256 is not a key version/ },
  {
    name: 'the door read master serving another key',
    mutate: (p) => (app(p).keys[2].key_ref = 1),
    path: 'applications[0].keys[2]',
    message: /uses the master of the door read key \(applications\[0\]\.keys\[1\]\); doors hold that master and could derive key 2/,
  },
  {
    name: 'two keys deriving the same card key',
    mutate: (p) => (app(p).keys[0].key_ref = 2),
    path: 'applications[0].keys[2]',
    message: /derives the same card key as applications\[0\]\.keys\[0\]/,
  },
  { name: 'DES application keys', mutate: (p) => (app(p).key_type = 'KEY_TYPE_DES'), path: 'applications[0].key_type', message: /must be KEY_TYPE_AES_128/ },
  { name: 'PICC key type missing', mutate: (p) => delete p.picc.master_key.key_type, path: 'picc.master_key.key_type', message: /must be KEY_TYPE_AES_128/ },
  { name: 'PICC ChangeKey right', mutate: (p) => (p.picc.key_settings.change_key = { key: 0 }), path: 'picc.key_settings.change_key', message: /must be unset/ },
  { name: 'no PICC', mutate: (p) => delete p.picc, path: 'picc', message: /^required/ },
  { name: 'no diversification method', mutate: (p) => delete app(p).keys[0].diversification.method, path: 'applications[0].keys[0].diversification.method', message: /^required: one of DIVERSIFICATION_METHOD_NONE/ },
  {
    name: 'system identifier too long',
    mutate: (p) => (app(p).keys[1].diversification.system_identifier = base64(Array(22).fill(0x41))),
    path: 'applications[0].keys[1].diversification.system_identifier',
    message: /22 bytes; at most 21/,
  },
  {
    name: 'system identifier without diversification',
    mutate: (p) => (app(p).keys[0].diversification.method = 'DIVERSIFICATION_METHOD_NONE'),
    path: 'applications[0].keys[0].diversification.system_identifier',
    message: /must be empty/,
  },
  { name: 'random UID with a UID-diversified read key', mutate: (p) => (p.picc.random_uid = true), path: 'picc.random_uid', message: /a random UID hides the UID the door read key/ },
  { name: 'DF name without ISO FID', mutate: (p) => (app(p).iso_df_name = base64([0xd2, 0x76])), path: 'applications[0].iso_df_name', message: /needs iso_fid/ },
  { name: 'DF name of 17 bytes', mutate: (p) => Object.assign(app(p), { iso_fid: 0x1001, iso_df_name: base64(Array(17).fill(1)) }), path: 'applications[0].iso_df_name', message: /17 bytes; a DF name has 1\.\.16/ },
  { name: 'reserved ISO FID', mutate: (p) => (app(p).iso_fid = 0x3f00), path: 'applications[0].iso_fid', message: /3F00 is reserved/ },
  { name: 'file ISO FID without application ISO FID', mutate: (p) => (credentialFile(p).iso_fid = 0x1001), path: 'applications[0].files[0].iso_fid', message: /the application has no iso_fid/ },
  {
    name: 'cyclic record file of one record',
    mutate: (p) => app(p).files.push({ ...extraFile(2), size: 0, type: 'FILE_TYPE_CYCLIC_RECORD', record: { record_size: 16, max_records: 1 } }),
    path: 'applications[0].files[1].record.max_records',
    message: /cyclic record file keeps 2\.\./,
  },
  {
    name: 'value file limits reversed',
    mutate: (p) => app(p).files.push({ ...extraFile(2), size: 0, type: 'FILE_TYPE_VALUE', value: { lower_limit: 10, upper_limit: 0 } }),
    path: 'applications[0].files[1].value.lower_limit',
    message: /10 is above upper_limit 0/,
  },
  {
    name: 'record file given a size',
    mutate: (p) => app(p).files.push({ ...extraFile(2), type: 'FILE_TYPE_LINEAR_RECORD', record: { record_size: 16, max_records: 4 } }),
    path: 'applications[0].files[1].size',
    message: /only standard and backup files have a size/,
  },
  { name: 'fixed content larger than the file', mutate: (p) => app(p).files.push(extraFile(2, { content: { fixed: base64(Array(33).fill(7)) } })), path: 'applications[0].files[1].content.fixed', message: /33 bytes do not fit the file's 32/ },
  { name: 'file type missing', mutate: (p) => delete credentialFile(p).type, path: 'applications[0].files[0].type', message: /^required: one of FILE_TYPE_STANDARD/ },
  { name: 'comm mode missing', mutate: (p) => delete credentialFile(p).comm_mode, path: 'applications[0].files[0].comm_mode', message: /^required: one of COMM_MODE_PLAIN/ },
  { name: 'proximity check not stated', mutate: (p) => delete p.door_policy.proximity_check, path: 'door_policy.proximity_check', message: /^required: one of PROXIMITY_CHECK_NOT_REQUIRED/ },
  { name: 'D40 authentication', mutate: (p) => (p.door_policy.auth_mode = 'SECURE_MESSAGING_D40'), path: 'door_policy.auth_mode', message: /DES-only/ },
  {
    name: 'minimum key version above the encoded read key version',
    mutate: (p) => Object.assign(app(p).keys[1], { key_version: 2 }) && (p.door_policy.minimum_key_version = 3),
    path: 'door_policy.minimum_key_version',
    message: /3 is above the read key version this profile encodes \(applications\[0\]\.keys\[1\]\.key_version = 2\)/,
  },
  { name: 'minimum key version beyond a byte', mutate: (p) => (p.door_policy.minimum_key_version = 256), path: 'door_policy.minimum_key_version', message: /key versions are 0\.\.255/ },
  { name: 'no door policy', mutate: (p) => delete p.door_policy, path: 'door_policy', message: /^required/ },
  { name: 'malformed profile name', mutate: (p) => (p.name = 'Generic PACS'), path: 'name', message: /1\.\.64 characters of a-z/ },
  { name: 'no applications', mutate: (p) => (p.applications = []), path: 'applications', message: /at least one application/ },
];

describe('profile validation: each invalid profile is rejected with a message naming its field', () => {
  it.each(ROWS)('$name → $path', ({ mutate, path, message }) => {
    const error = rejection(mutate);
    const issue = error.issues.find((i) => i.path === path);
    expect(issue, `issues were:\n${error.message}`).toBeDefined();
    expect(issue!.message).toMatch(message);
    // The path and the explanation are both in the error's message, which is what people see.
    expect(error.message).toContain(`${path}: ${issue!.message}`);
  });

  it('the table has at least 10 rows and every row names a distinct problem', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(10);
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });
});

describe('profile validation: reporting', () => {
  it('the shipped profile is valid', () => {
    expect(profileIssues(parseProfile(genericProfileText(), 'yaml'))).toEqual([]);
  });

  it('reports every problem at once, each with its path', () => {
    const error = rejection((p) => {
      app(p).aid = 0;
      credentialFile(p).size = 40;
      p.door_policy.auth_mode = 'SECURE_MESSAGING_D40';
    });
    const paths = error.issues.map((i: ProfileIssue) => i.path);
    expect(paths).toEqual(['applications[0].aid', 'applications[0].files[0].size', 'door_policy.auth_mode']);
    expect(error.subject).toBe('profile "generic-pacs-v1"');
    expect(error.message).toMatch(/^invalid profile "generic-pacs-v1": 3 problems\n {2}applications\[0\]\.aid: /);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ProfileError');
  });

  it('validates profiles given in their JSON mapping (the API form) the same way', () => {
    const p = genericProfileJson();
    credentialFile(p).comm_mode = 'COMM_MODE_PLAIN';
    expect(() => profileFromJson(p)).toThrowError(/applications\[0\]\.files\[0\]\.comm_mode: must be COMM_MODE_FULL/);
  });

  it('a mistake in one field does not hide the cross-field checks of the others', () => {
    // key_count invalid: key numbers are not checked against it, the rest still is.
    const error = rejection((p) => {
      app(p).key_count = 0;
      credentialFile(p).comm_mode = 'COMM_MODE_MAC';
    });
    expect(error.issues.map((i) => i.path)).toEqual(['applications[0].key_count', 'applications[0].files[0].comm_mode']);
  });
});
