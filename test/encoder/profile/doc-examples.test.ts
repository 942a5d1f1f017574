import { readFileSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { encodeAccessRights } from '../../../src/desfire/access-rights.js';
import { fromHex, toHex, uintLE, xor } from '../../../src/desfire/bytes.js';
import { commModeToByte } from '../../../src/desfire/comm-mode.js';
import { cardDiversificationInput, diversificationBlock, diversifyAes128 } from '../../../src/desfire/crypto/an10922.js';
import { Cmac, cmacSubkeys } from '../../../src/desfire/crypto/cmac.js';
import { createBlockCipher } from '../../../src/desfire/crypto/key-type.js';
import { CardDataSchema } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import {
  accessRightsOf,
  commModeOf,
  credentialSite,
  diversificationInputOf,
  doorSettings,
  encodeCredentialFile,
  keySettingsByte,
  loadProfile,
  profileFootprint,
} from '../../../src/encoder/profile/index.js';
import { hex as vectorHex, loadVectors } from '../../support/vectors.js';
import { genericProfileText } from './support.js';

/**
 * docs/generic-pacs-v1.md is what vendors implement from: every `label = hex` line of its `text`
 * blocks must be what our code computes, so the page's examples are test vectors.
 */
const DOC = readFileSync(new URL('../../../docs/generic-pacs-v1.md', import.meta.url), 'utf8');

function docValues(): Map<string, string> {
  const values = new Map<string, string>();
  for (const block of DOC.matchAll(/```text\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n')) {
      const m = /^([^=]+?)\s+=\s+([0-9A-F]{2}(?: [0-9A-F]{2})*)\s*$/.exec(line);
      if (!m) continue;
      if (values.has(m[1])) throw new Error(`label "${m[1]}" appears twice in the doc`);
      values.set(m[1], m[2]);
    }
  }
  return values;
}

const values = docValues();

/** The doc's bytes for `label`, lower-case hex without spaces. */
function doc(label: string): string {
  const v = values.get(label);
  if (v === undefined) throw new Error(`the doc has no line "${label} = …"`);
  return v.replace(/ /g, '').toLowerCase();
}

const profile = loadProfile(genericProfileText(), 'yaml');
const ascii = (s: string) => new TextEncoder().encode(s);

describe('docs/generic-pacs-v1.md worked examples', () => {
  it('every hex line of the doc is checked by a test below', () => {
    // The inventory: a line added to the doc without a check here fails.
    expect([...values.keys()].sort()).toEqual(
      [
        'AN10922 M',
        'AN10922 diversified key',
        'AN10922 master key',
        'Application AID as sent',
        'Application key settings',
        'CMAC subkey K1',
        'CMAC subkey K2',
        'Card UID',
        'Card key 1',
        'Credential file access rights as sent',
        'Credential file comm settings',
        'Credential file content',
        'Credential file settings (GetFileSettings)',
        'D',
        'Door read master key (TEST KEY)',
        'Last block of D XOR K2',
        'M',
        'PICC M',
        'PICC card key',
        'PICC key settings',
        'Record card number',
        'Record format version',
        'Record issuer',
        'Record site code',
        'Record valid from',
        'Record valid to',
      ].sort(),
    );
  });

  it("NXP's AN10922 §2.2.1 vector: the doc quotes it as published, our AID byte order reproduces it", () => {
    const vector = loadVectors('an10922-diversification.json').vectors.find((v) => v.name === 'AN10922 AES-128 key diversification example')!;
    expect(doc('AN10922 master key')).toBe(toHex(vectorHex(vector, 'masterKey')));
    expect(doc('AN10922 M')).toBe(toHex(vectorHex(vector, 'divInput')));
    expect(doc('AN10922 diversified key')).toBe(toHex(vectorHex(vector, 'diversifiedKey')));
    // AID F54230 sent LSB first (30 42 F5), system identifier "NXP Abu": the same rule as ours.
    const m = cardDiversificationInput(fromHex('04782e21801d80'), 0xf54230, ascii('NXP Abu'));
    expect(toHex(m)).toBe(doc('AN10922 M'));
    const master = new Cmac(createBlockCipher('aes', fromHex(doc('AN10922 master key'))));
    expect(toHex(diversifyAes128(master, m))).toBe(doc('AN10922 diversified key'));
  });

  it('the worked example of key 1: M, subkeys, D, the K2-masked last block and the card key', () => {
    const masterKey = fromHex(doc('Door read master key (TEST KEY)'));
    const uid = fromHex(doc('Card UID'));
    const settings = doorSettings(profile);
    const m = diversificationInputOf(settings.readKeyDiversification, uid, settings.aid)!;
    expect(toHex(m)).toBe(doc('M'));
    const cipher = createBlockCipher('aes', masterKey);
    const { k1, k2 } = cmacSubkeys(cipher);
    expect(toHex(k1)).toBe(doc('CMAC subkey K1'));
    expect(toHex(k2)).toBe(doc('CMAC subkey K2'));
    const block = diversificationBlock(0x01, m, 16);
    expect(block.subkey).toBe('k2');
    expect(toHex(block.input)).toBe(doc('D'));
    expect(toHex(xor(block.input.subarray(16), k2))).toBe(doc('Last block of D XOR K2'));
    expect(toHex(diversifyAes128(new Cmac(cipher), m))).toBe(doc('Card key 1'));
  });

  it('the PICC master key example uses AID 000000', () => {
    const uid = fromHex(doc('Card UID'));
    const m = diversificationInputOf(profile.picc!.masterKey!.diversification, uid, 0)!;
    expect(toHex(m)).toBe(doc('PICC M'));
    const master = new Cmac(createBlockCipher('aes', fromHex(doc('Door read master key (TEST KEY)'))));
    expect(toHex(diversifyAes128(master, m))).toBe(doc('PICC card key'));
  });

  it('the layout bytes: key settings, AID, comm settings, access rights, file settings', () => {
    const site = credentialSite(profile);
    expect(toHex(Uint8Array.of(keySettingsByte(profile.picc!.keySettings)))).toBe(doc('PICC key settings'));
    expect(toHex(Uint8Array.of(keySettingsByte(site.application.keySettings)))).toBe(doc('Application key settings'));
    expect(toHex(uintLE(site.application.aid, 3))).toBe(doc('Application AID as sent'));
    const comm = commModeToByte(commModeOf(site.file.commMode));
    expect(toHex(Uint8Array.of(comm))).toBe(doc('Credential file comm settings'));
    const access = encodeAccessRights(accessRightsOf(site.file.access));
    expect(toHex(access)).toBe(doc('Credential file access rights as sent'));
    // GetFileSettings of a standard data file: type 00 || comm || access || size (3, LSB first).
    expect(toHex(Uint8Array.of(0x00, comm, ...access, ...uintLE(site.file.size, 3)))).toBe(doc('Credential file settings (GetFileSettings)'));
  });

  it('the credential example: each record and the whole 64-byte file', () => {
    const site = credentialSite(profile);
    const card = create(CardDataSchema, {
      cardNumber: 1234567n,
      validFrom: timestampFromDate(new Date('2026-01-01T00:00:00Z')),
      validTo: timestampFromDate(new Date('2030-12-31T23:59:59Z')),
    });
    expect(card.validFrom!.seconds).toBe(1767225600n);
    expect(card.validTo!.seconds).toBe(1924991999n);
    const file = encodeCredentialFile(site.template, card, site.file.size);
    expect(toHex(file)).toBe(doc('Credential file content'));
    const records = [
      'Record format version',
      'Record issuer',
      'Record card number',
      'Record valid from',
      'Record valid to',
      'Record site code',
    ].map(doc);
    expect(toHex(file.subarray(0, 47))).toBe(records.join(''));
    expect(file.subarray(47).every((b) => b === 0)).toBe(true);
    expect(DOC).toContain('The records take 47 bytes (33 plus the issuer\'s length); the 17 bytes after them are padding.');
  });

  it('the memory estimate the doc quotes', () => {
    expect(profileFootprint(profile.applications)).toBe(448);
    expect(DOC).toContain('generic-pacs-v1 takes about 256 + 64 + 64 + 64 = 448 bytes');
  });

  it('the at-a-glance table matches the shipped profile', () => {
    const settings = doorSettings(profile);
    expect(settings).toMatchObject({ aid: 0xf52a01, credentialFileNo: 1, credentialLength: 64, readKeyNo: 1, authMode: 'ev2', proximityCheck: 'ev3', minimumKeyVersion: 1, issuer: 'example-issuer' });
    expect(toHex(settings.readKeyDiversification.systemIdentifier)).toBe(toHex(ascii('pacs-v1')));
    expect(DOC).toContain('| application | AID `F52A01`, sent as `01 2A F5` |');
    expect(DOC).toContain('| credential | file 1, standard data file, 64 bytes, communication mode full (enciphered), read with key 1 only |');
  });
});
