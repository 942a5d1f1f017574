import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate, TimestampSchema } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from '../../../src/desfire/bytes.js';
import { CardDataSchema, CredentialTemplateSchema, type CardData } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import {
  checkCredential,
  CredentialError,
  decodeCredential,
  encodeCredentialFile,
  encodeCredentialRecords,
  isCredentialError,
  isProfileError,
  standardRecordsLength,
  verifyCredential,
  type CredentialErrorCode,
} from '../../../src/encoder/profile/index.js';

const TEMPLATE = create(CredentialTemplateSchema, { formatVersion: 1, issuer: 'example-issuer', siteCode: 1 });
const FROM = new Date('2026-01-01T00:00:00Z');
const TO = new Date('2030-12-31T23:59:59Z');

function card(init: Omit<MessageInitShape<typeof CardDataSchema>, '$typeName'> = {}): CardData {
  return create(CardDataSchema, { cardNumber: 1234567n, validFrom: timestampFromDate(FROM), validTo: timestampFromDate(TO), ...init });
}

/** One TLV record, from a hex value. */
const rec = (tag: number, valueHex: string, length?: number) => {
  const value = fromHex(valueHex);
  return concat(Uint8Array.of(tag, length ?? value.length), value);
};
const VERSION = rec(0x01, '01');
const ISSUER = rec(0x02, toHex(new TextEncoder().encode('example-issuer')));
const NUMBER = rec(0x03, '000000000012d687');
const VALID_FROM = rec(0x04, '6955b900');
const VALID_TO = rec(0x05, '72bd0bff');
const SITE = rec(0x06, '00000001');
const STANDARD = [VERSION, ISSUER, NUMBER, VALID_FROM, VALID_TO, SITE];
const GOOD = concat(...STANDARD, new Uint8Array(17));

describe('credential TLV: issuer side', () => {
  it('encodes the standard records in tag order, then zeros up to the file size', () => {
    const file = encodeCredentialFile(TEMPLATE, card(), 64);
    expect(toHex(file)).toBe(toHex(GOOD));
    expect(encodeCredentialRecords(TEMPLATE, card())).toHaveLength(standardRecordsLength(14));
  });

  it("uses the card's site code over the template's", () => {
    const records = encodeCredentialRecords(TEMPLATE, card({ siteCode: 0xa1b2c3d4 }));
    expect(toHex(records.subarray(-6))).toBe('0604a1b2c3d4');
  });

  it('appends extensions after the standard records', () => {
    const records = encodeCredentialRecords(TEMPLATE, card({ extensions: [{ tag: 0x40, value: fromHex('aa') }, { tag: 0x7f, value: new Uint8Array(0) }] }));
    expect(toHex(records.subarray(-5))).toBe('4001aa7f00');
  });

  interface CardDataRow {
    readonly name: string;
    readonly data: CardData;
    readonly path: string;
    readonly message: RegExp;
    readonly template?: typeof TEMPLATE;
  }
  const ROWS: CardDataRow[] = [
    { name: 'card number 0', data: card({ cardNumber: 0n }), path: 'card_number', message: /0 is not a card number/ },
    { name: 'no valid from', data: card({ validFrom: undefined }), path: 'valid_from', message: /^required$/ },
    { name: 'fractions of a second', data: card({ validTo: create(TimestampSchema, { seconds: 1924991999n, nanos: 5 }) }), path: 'valid_to', message: /whole seconds/ },
    { name: 'before 1970', data: card({ validFrom: create(TimestampSchema, { seconds: -1n }) }), path: 'valid_from', message: /4-byte Unix time/ },
    { name: 'after 2106', data: card({ validTo: create(TimestampSchema, { seconds: 0x100000000n }) }), path: 'valid_to', message: /2106-02-07T06:28:15Z/ },
    { name: 'valid to before valid from', data: card({ validTo: timestampFromDate(new Date('2025-01-01T00:00:00Z')) }), path: 'valid_to', message: /is before valid_from/ },
    { name: 'no site code anywhere', data: card(), template: create(CredentialTemplateSchema, { formatVersion: 1, issuer: 'x' }), path: 'site_code', message: /gives no default site code/ },
    { name: 'extension tag in the standard range', data: card({ extensions: [{ tag: 0x07, value: new Uint8Array(1) }] }), path: 'extensions[0].tag', message: /not an extension tag \(0x40\.\.0x7F\)/ },
    { name: 'extension tag beyond 0x7F', data: card({ extensions: [{ tag: 0x80, value: new Uint8Array(1) }] }), path: 'extensions[0].tag', message: /not an extension tag/ },
    {
      name: 'extension tags out of order',
      data: card({ extensions: [{ tag: 0x42, value: new Uint8Array(0) }, { tag: 0x41, value: new Uint8Array(0) }] }),
      path: 'extensions[1].tag',
      message: /tags must be ascending/,
    },
    { name: 'extension of 128 bytes', data: card({ extensions: [{ tag: 0x40, value: new Uint8Array(128) }] }), path: 'extensions[0].value', message: /at most 127/ },
  ];

  it.each(ROWS)('card data: $name → $path', ({ data, path, message, template }) => {
    let error: unknown;
    try {
      encodeCredentialFile(template ?? TEMPLATE, data, 64);
    } catch (e) {
      error = e;
    }
    expect(isProfileError(error)).toBe(true);
    if (!isProfileError(error)) return;
    expect(error.subject).toBe('card data');
    const issue = error.issues.find((i) => i.path === path);
    expect(issue, error.message).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('card data: a credential larger than its file names the extensions', () => {
    expect(() => encodeCredentialFile(TEMPLATE, card({ extensions: [{ tag: 0x40, value: new Uint8Array(20) }] }), 64)).toThrowError(
      /extensions: the credential takes 69 bytes, its file holds 64/,
    );
  });
});

describe('credential TLV: door side', () => {
  it('decodes the example', () => {
    const c = decodeCredential(GOOD);
    expect(c.formatVersion).toBe(1);
    expect(c.issuer).toBe('example-issuer');
    expect(c.cardNumber).toBe(1234567n);
    expect(c.validFrom?.seconds).toBe(1767225600n);
    expect(c.validTo?.seconds).toBe(1924991999n);
    expect(c.siteCode).toBe(1);
    expect(c.extensions).toEqual([]);
  });

  it('accepts records up to the last byte, with no padding', () => {
    expect(decodeCredential(concat(...STANDARD)).cardNumber).toBe(1234567n);
  });

  it('skips extensions it does not know but returns them, in card order', () => {
    const c = decodeCredential(concat(...STANDARD, rec(0x41, '0102'), rec(0x7f, ''), new Uint8Array(3)));
    expect(c.extensions.map((e) => [e.tag, toHex(e.value)])).toEqual([
      [0x41, '0102'],
      [0x7f, ''],
    ]);
  });

  interface MalformedRow {
    readonly name: string;
    readonly content: Uint8Array;
    readonly code: CredentialErrorCode;
    readonly offset?: number;
    readonly message: RegExp;
  }
  const [, , , , , ...rest] = STANDARD;
  const MALFORMED: MalformedRow[] = [
    { name: 'empty file', content: new Uint8Array(0), code: 'missing-field', message: /no format version \(tag 01\), issuer/ },
    { name: 'all zeros (an unwritten file)', content: new Uint8Array(64), code: 'missing-field', message: /no format version/ },
    { name: 'truncated: tag without length', content: Uint8Array.of(0x01), code: 'truncated', offset: 0, message: /has no length byte/ },
    { name: 'truncated: value runs past the end', content: concat(VERSION, fromHex('02056162')), code: 'truncated', offset: 3, message: /announces 5 bytes, 2 remain/ },
    { name: 'truncated: the last record cut short', content: concat(...STANDARD).subarray(0, 46), code: 'truncated', offset: 41, message: /announces 4 bytes, 3 remain/ },
    { name: 'long-form length', content: concat(VERSION, fromHex('028101'), new Uint8Array(1)), code: 'bad-length', offset: 4, message: /length byte 0x81/ },
    { name: 'card number of 7 bytes', content: concat(VERSION, ISSUER, rec(0x03, '0000000012d687'), VALID_FROM, VALID_TO, SITE), code: 'bad-length', message: /card number \(tag 03\) is 8 bytes, got 7/ },
    { name: 'format version of 2 bytes', content: concat(rec(0x01, '0100'), ISSUER), code: 'bad-length', offset: 1, message: /format version \(tag 01\) is 1 byte, got 2/ },
    { name: 'format version 2', content: concat(rec(0x01, '02'), fromHex('ff')), code: 'unsupported-version', offset: 2, message: /format version 2; this reader knows version 1/ },
    { name: 'first record not the version', content: concat(ISSUER, VERSION), code: 'missing-field', offset: 0, message: /first record must be the format version/ },
    { name: 'unknown tag 07', content: concat(...STANDARD, rec(0x07, '00')), code: 'unknown-tag', offset: 47, message: /tag 0x07 is not defined by format version 1/ },
    { name: 'unknown tag 3F', content: concat(...STANDARD, rec(0x3f, '')), code: 'unknown-tag', message: /tag 0x3f/ },
    { name: 'reserved tag 80', content: concat(...STANDARD, rec(0x80, '')), code: 'unknown-tag', message: /tag 0x80/ },
    { name: 'reserved tag FF', content: concat(...STANDARD, rec(0xff, '')), code: 'unknown-tag', message: /tag 0xff/ },
    { name: 'issuer twice', content: concat(VERSION, ISSUER, ISSUER), code: 'duplicate-tag', offset: 19, message: /tag 0x02 appears twice/ },
    { name: 'card number before issuer', content: concat(VERSION, NUMBER, ISSUER), code: 'tag-order', offset: 13, message: /tag 0x02 follows tag 0x03/ },
    { name: 'standard record after an extension', content: concat(VERSION, ISSUER, NUMBER, VALID_FROM, VALID_TO, rec(0x40, ''), SITE), code: 'tag-order', message: /tag 0x06 follows tag 0x40/ },
    { name: 'bytes after the padding starts', content: concat(...STANDARD, fromHex('000005')), code: 'bad-padding', offset: 49, message: /byte 0x05 after the end of the records/ },
    { name: 'issuer with a control character', content: concat(VERSION, rec(0x02, '417f')), code: 'bad-value', offset: 5, message: /printable ASCII/ },
    { name: 'empty issuer', content: concat(VERSION, rec(0x02, '')), code: 'bad-value', message: /1\.\.32 printable ASCII/ },
    { name: 'issuer of 33 characters', content: concat(VERSION, rec(0x02, '41'.repeat(33))), code: 'bad-value', message: /1\.\.32/ },
    { name: 'card number 0', content: concat(VERSION, ISSUER, rec(0x03, '0000000000000000'), VALID_FROM, VALID_TO, SITE), code: 'bad-value', message: /card number 0/ },
    { name: 'valid to before valid from', content: concat(VERSION, ISSUER, NUMBER, VALID_TO.map((b, i) => (i === 0 ? 0x04 : b)), VALID_FROM.map((b, i) => (i === 0 ? 0x05 : b)), SITE), code: 'bad-value', message: /valid to \(1767225600\) is before valid from \(1924991999\)/ },
    { name: 'no site code', content: concat(VERSION, ISSUER, NUMBER, VALID_FROM, VALID_TO, new Uint8Array(8)), code: 'missing-field', message: /^missing-field: no site code \(tag 06\)$/ },
    { name: 'no validity', content: concat(VERSION, ISSUER, NUMBER, ...rest), code: 'missing-field', message: /no valid from \(tag 04\), valid to \(tag 05\)/ },
  ];

  it.each(MALFORMED)('malformed: $name → $code', ({ content, code, offset, message }) => {
    let error: unknown;
    try {
      decodeCredential(content);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CredentialError);
    if (!isCredentialError(error)) return;
    expect(error.code).toBe(code);
    if (offset !== undefined) expect(error.offset).toBe(offset);
    expect(error.message).toMatch(message);
  });

  it('checks the issuer', () => {
    const c = decodeCredential(GOOD);
    expect(() => checkCredential(c, { issuer: 'other' }, FROM)).toThrowError(/^wrong-issuer: issued by "example-issuer", this door accepts "other"$/);
  });

  it('checks validity inclusively at both ends, in whole seconds', () => {
    const c = decodeCredential(GOOD);
    const at = (iso: string) => () => checkCredential(c, { issuer: 'example-issuer' }, new Date(iso));
    expect(at('2026-01-01T00:00:00.000Z')).not.toThrow();
    expect(at('2030-12-31T23:59:59.999Z')).not.toThrow();
    expect(at('2025-12-31T23:59:59.999Z')).toThrowError(/^not-yet-valid: valid from 2026-01-01T00:00:00Z, now 2025-12-31T23:59:59Z$/);
    expect(at('2031-01-01T00:00:00Z')).toThrowError(/^expired: valid to 2030-12-31T23:59:59Z, now 2031-01-01T00:00:00Z$/);
  });

  it('verifyCredential gives the door a verdict and never throws for card content', () => {
    const ok = verifyCredential(GOOD, { issuer: 'example-issuer' }, new Date('2027-06-01T00:00:00Z'));
    expect(ok.ok && ok.fields.cardNumber).toBe(1234567n);
    expect(verifyCredential(GOOD, { issuer: 'example-issuer' }, new Date('2040-01-01T00:00:00Z'))).toMatchObject({ ok: false, reason: 'expired', code: 'expired' });
    expect(verifyCredential(GOOD, { issuer: 'example-issuer' }, new Date('2020-01-01T00:00:00Z'))).toMatchObject({ ok: false, reason: 'not-yet-valid' });
    expect(verifyCredential(GOOD, { issuer: 'x' }, new Date('2027-01-01T00:00:00Z'))).toMatchObject({ ok: false, reason: 'credential-invalid', code: 'wrong-issuer' });
    expect(verifyCredential(new Uint8Array(64), { issuer: 'x' }, FROM)).toMatchObject({ ok: false, reason: 'credential-invalid', code: 'missing-field' });
  });
});

describe('credential TLV: round trip', () => {
  const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 32 });
  const seconds = fc.bigInt({ min: 0n, max: 0xffffffffn });
  const extensions = fc
    .uniqueArray(fc.integer({ min: 0x40, max: 0x7f }), { maxLength: 4 })
    .chain((tags) => fc.tuple(...[...tags].sort((a, b) => a - b).map((tag) => fc.uint8Array({ maxLength: 20 }).map((value) => ({ tag, value })))));

  it('decode(encode(card)) gives back every field, for any valid card data', () => {
    fc.assert(
      fc.property(
        printable,
        fc.bigInt({ min: 1n, max: 0xffffffffffffffffn }),
        seconds,
        seconds,
        fc.integer({ min: 0, max: 0xffffffff }),
        extensions,
        (issuer, cardNumber, a, b, siteCode, exts) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          const template = create(CredentialTemplateSchema, { formatVersion: 1, issuer });
          const data = create(CardDataSchema, {
            cardNumber,
            validFrom: create(TimestampSchema, { seconds: from }),
            validTo: create(TimestampSchema, { seconds: to }),
            siteCode,
            extensions: exts,
          });
          const records = encodeCredentialRecords(template, data);
          const size = records.length + 7;
          const c = decodeCredential(encodeCredentialFile(template, data, size));
          expect(c.issuer).toBe(issuer);
          expect(c.cardNumber).toBe(cardNumber);
          expect(c.validFrom?.seconds).toBe(from);
          expect(c.validTo?.seconds).toBe(to);
          expect(c.siteCode).toBe(siteCode);
          expect(c.extensions.map((e) => [e.tag, toHex(e.value)])).toEqual(exts.map((e) => [e.tag, toHex(e.value)]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a credential with any one byte changed decodes or fails with CredentialError, nothing else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: GOOD.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, delta) => {
        const bad = GOOD.slice();
        bad[index] = (bad[index] + delta) & 0xff;
        try {
          decodeCredential(bad);
        } catch (e) {
          expect(isCredentialError(e)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
