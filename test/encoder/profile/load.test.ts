import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { equals, toJson, toJsonString } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { CommMode, KeyType, SecureMessaging } from '../../../src/gen/desfirepacs/v1/desfire_pb.js';
import { DiversificationMethod, FileType, ProfileSchema, ProximityCheck } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import {
  accessRightsOf,
  credentialSite,
  doorSettings,
  fileTypeCode,
  formatOfPath,
  isProfileError,
  keySettingsByte,
  loadProfile,
  loadProfileFile,
  parseCardData,
  parseProfile,
  ProfileError,
} from '../../../src/encoder/profile/index.js';
import { GENERIC_PROFILE_PATH, genericProfileJson, genericProfileText } from './support.js';

function loadError(text: string, format: 'json' | 'yaml'): ProfileError {
  try {
    loadProfile(text, format);
  } catch (e) {
    if (isProfileError(e)) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('the shipped profile, profiles/generic-pacs-v1.yaml', () => {
  it('loads and validates', async () => {
    const p = await loadProfileFile(GENERIC_PROFILE_PATH);
    expect(p.name).toBe('generic-pacs-v1');
    expect(p.applications).toHaveLength(1);
  });

  it('is ARCHITECTURE.md §4: one application, three AES keys 0 master / 1 door read / 2 issuer write, frozen settings', () => {
    const p = loadProfile(genericProfileText(), 'yaml');
    const [app] = p.applications;
    expect(app.aid).toBe(0xf52a01);
    expect(app.keyType).toBe(KeyType.AES_128);
    expect(app.keyCount).toBe(3);
    expect(app.keys.map((k) => [k.number, k.keySet, k.keyRef])).toEqual([
      [0, 'pacs', 0],
      [1, 'pacs', 1],
      [2, 'pacs', 2],
    ]);
    for (const key of [...app.keys, p.picc!.masterKey!]) {
      expect(key.diversification?.method).toBe(DiversificationMethod.AN10922_AES128);
      expect(new TextDecoder().decode(key.diversification?.systemIdentifier)).toBe('pacs-v1');
    }
    expect(p.picc!.masterKey!.keyType).toBe(KeyType.AES_128);
    expect(p.picc!.randomUid).toBe(false);
    expect(app.keySettings?.configurationChangeable).toBe(false);
    expect(p.picc!.keySettings?.configurationChangeable).toBe(false);
    expect(keySettingsByte(app.keySettings)).toBe(0x01);
    expect(keySettingsByte(p.picc!.keySettings)).toBe(0x03);
  });

  it('has one full-enciphered credential file readable with key 1 only', () => {
    const p = loadProfile(genericProfileText(), 'yaml');
    const site = credentialSite(p);
    expect(site.file.number).toBe(1);
    expect(site.file.type).toBe(FileType.STANDARD);
    expect(fileTypeCode(site.file.type)).toBe(0x00);
    expect(site.file.commMode).toBe(CommMode.FULL);
    expect(accessRightsOf(site.file.access)).toEqual({ read: 1, write: 2, readWrite: 0xf, change: 0 });
    expect(site.readKey.number).toBe(1);
    expect(site.writeKey.number).toBe(2);
    expect(site.template).toMatchObject({ formatVersion: 1, issuer: 'example-issuer', siteCode: 1 });
  });

  it('asks doors for EV2 secure messaging, the proximity check on EV3 cards and key version 1 or later', () => {
    const p = loadProfile(genericProfileText(), 'yaml');
    expect(p.doorPolicy).toMatchObject({ authMode: SecureMessaging.EV2, proximityCheck: ProximityCheck.REQUIRED_ON_EV3, minimumKeyVersion: 1 });
    expect(doorSettings(p)).toMatchObject({ authMode: 'ev2', proximityCheck: 'ev3', minimumKeyVersion: 1, readKeySet: 'pacs', readKeyRef: 1 });
  });

  it('reads the same from its JSON mapping, in proto or JSON field names', () => {
    const fromYaml = loadProfile(genericProfileText(), 'yaml');
    const camel = toJsonString(ProfileSchema, fromYaml);
    const snake = JSON.stringify(toJson(ProfileSchema, fromYaml, { useProtoFieldName: true }));
    expect(camel).toContain('"commMode"');
    expect(snake).toContain('"comm_mode"');
    expect(equals(ProfileSchema, loadProfile(camel, 'json'), fromYaml)).toBe(true);
    expect(equals(ProfileSchema, loadProfile(snake, 'json'), fromYaml)).toBe(true);
  });
});

interface SchemaRow {
  readonly name: string;
  readonly text: string;
  readonly format: 'json' | 'yaml';
  readonly path: string;
  readonly message: RegExp;
}

const yamlWith = (mutate: (p: Record<string, any>) => void): string => {
  const p = genericProfileJson();
  mutate(p);
  return JSON.stringify(p);
};

const SCHEMA_ROWS: SchemaRow[] = [
  { name: 'YAML syntax error', text: 'name: [generic', format: 'yaml', path: '', message: /^not YAML: .*line 1/ },
  { name: 'JSON syntax error', text: '{"name": }', format: 'json', path: '', message: /^not JSON: / },
  { name: 'duplicate keys', text: 'name: a\nname: b\n', format: 'yaml', path: '', message: /Map keys must be unique/ },
  { name: 'a list instead of a mapping', text: '- name: a', format: 'yaml', path: '', message: /must be a mapping/ },
  {
    name: 'unknown field (a typo)',
    text: yamlWith((p) => (p.applications[0].files[0].sise = 64)),
    format: 'json',
    path: 'applications[0].files[0].sise',
    message: /^unknown field; FileSpec has number, label, iso_fid, type, comm_mode, access, size/,
  },
  { name: 'wrong type', text: yamlWith((p) => (p.applications[0].aid = 'F52A01')), format: 'json', path: 'applications[0].aid', message: /expected number \(uint32\), got "F52A01"/ },
  { name: 'negative number', text: yamlWith((p) => (p.applications[0].key_count = -1)), format: 'json', path: 'applications[0].key_count', message: /-1 out of range/ },
  {
    name: 'unknown enum value',
    text: yamlWith((p) => (p.applications[0].files[0].type = 'FILE_TYPE_STD')),
    format: 'json',
    path: 'applications[0].files[0].type',
    message: /^unknown value "FILE_TYPE_STD": one of FILE_TYPE_STANDARD, FILE_TYPE_BACKUP, FILE_TYPE_VALUE/,
  },
  {
    name: 'two members of a oneof',
    text: yamlWith((p) => (p.applications[0].files[0].access.read = { key: 1, free: true })),
    format: 'json',
    path: 'applications[0].files[0].access.read',
    message: /^both key and free are set: give exactly one$/,
  },
  {
    name: 'bytes not in base64',
    text: yamlWith((p) => (p.picc.master_key.diversification.system_identifier = 'pacs-v1!')),
    format: 'json',
    path: 'picc.master_key.diversification.system_identifier',
    message: /base64/,
  },
  { name: 'a list that is not a list', text: yamlWith((p) => (p.applications = {})), format: 'json', path: 'applications', message: /expected Array/ },
  { name: 'an item of a list', text: yamlWith((p) => (p.applications[0].keys[1] = 7)), format: 'json', path: 'applications[0].keys[1]', message: /7/ },
];

describe('profile files: errors of form name their field too', () => {
  it.each(SCHEMA_ROWS)('$name → "$path"', ({ text, format, path, message }) => {
    const error = loadError(text, format);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].path).toBe(path);
    expect(error.issues[0].message).toMatch(message);
  });

  it('YAML: hexadecimal numbers, comments, and camelCase field names are read', () => {
    const text = genericProfileText().replace('comm_mode: COMM_MODE_FULL', 'commMode: COMM_MODE_FULL');
    const p = parseProfile(text, 'yaml');
    expect(p.applications[0].aid).toBe(0xf52a01);
    expect(p.applications[0].files[0].commMode).toBe(CommMode.FULL);
  });

  it('the file extension picks the format', async () => {
    expect(formatOfPath('a/b.JSON')).toBe('json');
    expect(formatOfPath('b.yml')).toBe('yaml');
    expect(() => formatOfPath('b.txt')).toThrowError(/unknown extension ".txt"/);
    const dir = await mkdtemp(join(tmpdir(), 'profile-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, yamlWith((p) => (p.applications[0].aid = 0)));
    await expect(loadProfileFile(file)).rejects.toThrowError(new RegExp(`invalid profile file ${file}: 1 problem\\n {2}applications\\[0\\]\\.aid: AID 000000`));
  });
});

describe('card data files', () => {
  it('keeps every digit of a 64-bit card number written as a YAML integer', () => {
    const card = parseCardData('card_number: 18446744073709551615\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: "2027-01-01T00:00:00Z"\n', 'yaml');
    expect(card.cardNumber).toBe(18446744073709551615n);
    expect(card.validFrom?.seconds).toBe(1767225600n);
  });

  it('names the field of a malformed value', () => {
    expect(() => parseCardData('card_number: 1\nvalid_from: 2026-01-01\n', 'yaml')).toThrowError(/valid_from: .*RFC 3339/);
    expect(() => parseCardData('{"card_number": "x"}', 'json')).toThrowError(/card_number: /);
    expect(() => parseCardData('{"extensions": [{"tag": 64, "valu": ""}]}', 'json')).toThrowError(/extensions\[0\]\.valu: unknown field/);
  });
});
