import { create } from '@bufbuild/protobuf';
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt';
import { toHex } from '../../desfire/bytes.js';
import {
  CredentialExtensionSchema,
  CredentialSchema,
  type CardData,
  type Credential,
  type CredentialExtension,
  type CredentialTemplate,
} from '../../gen/desfirepacs/v1/profile_pb.js';
import { at, IssueList } from './profile-error.js';

/**
 * The credential's byte layout (format version 1), the same on every card of every vendor:
 *
 *   record  = tag (1 byte) || length (1 byte, 0x00..0x7F) || value (length bytes)
 *   file    = records, tags strictly ascending || 0x00 padding up to the file size
 *
 * | tag  | field          | length | value                                                 |
 * | 0x01 | format version | 1      | 0x01; the first record                                |
 * | 0x02 | issuer         | 1..32  | printable ASCII, 0x20..0x7E                           |
 * | 0x03 | card number    | 8      | unsigned, most significant byte first, at least 1     |
 * | 0x04 | valid from     | 4      | Unix time (seconds since 1970-01-01T00:00:00Z), MSB first |
 * | 0x05 | valid to       | 4      | Unix time, last valid second, not before valid from   |
 * | 0x06 | site code      | 4      | unsigned, MSB first                                   |
 * | 0x40..0x7F | extension | 0..127 | issuer-defined; readers skip the ones they do not know |
 *
 * Tags 0x01..0x06 are all required. A 0x00 tag byte starts the padding: it and every byte after
 * it must be 0x00. Any other tag (0x07..0x3F, 0x80..0xFF), a length byte of 0x80 or more (BER
 * long form), a record running past the end, a field of the wrong length, a repeated or
 * out-of-order tag, or a format version other than 1 makes the credential invalid.
 * docs/generic-pacs-v1.md documents it for vendors, with a worked example.
 */

export const CREDENTIAL_FORMAT_VERSION = 1;

export const CredentialTag = {
  PADDING: 0x00,
  FORMAT_VERSION: 0x01,
  ISSUER: 0x02,
  CARD_NUMBER: 0x03,
  VALID_FROM: 0x04,
  VALID_TO: 0x05,
  SITE_CODE: 0x06,
} as const;

/** Extension tags: readers skip those they do not know. */
export const FIRST_EXTENSION_TAG = 0x40;
export const LAST_EXTENSION_TAG = 0x7f;
/** Short-form BER lengths only. */
export const MAX_VALUE_LENGTH = 0x7f;
export const MAX_ISSUER_LENGTH = 32;
/** Unix times are 4 bytes: valid until 2106-02-07T06:28:15Z. */
export const MAX_UNIX_TIME = 0xffffffff;

const FIELD_NAMES: Readonly<Record<number, string>> = {
  [CredentialTag.FORMAT_VERSION]: 'format version',
  [CredentialTag.ISSUER]: 'issuer',
  [CredentialTag.CARD_NUMBER]: 'card number',
  [CredentialTag.VALID_FROM]: 'valid from',
  [CredentialTag.VALID_TO]: 'valid to',
  [CredentialTag.SITE_CODE]: 'site code',
};

/** Fixed value lengths; the issuer is 1..32. */
const FIXED_LENGTH: Readonly<Record<number, number>> = {
  [CredentialTag.FORMAT_VERSION]: 1,
  [CredentialTag.CARD_NUMBER]: 8,
  [CredentialTag.VALID_FROM]: 4,
  [CredentialTag.VALID_TO]: 4,
  [CredentialTag.SITE_CODE]: 4,
};

const REQUIRED_TAGS = [
  CredentialTag.FORMAT_VERSION,
  CredentialTag.ISSUER,
  CredentialTag.CARD_NUMBER,
  CredentialTag.VALID_FROM,
  CredentialTag.VALID_TO,
  CredentialTag.SITE_CODE,
] as const;

/** Bytes of the standard records for an issuer of `issuerLength` bytes: 3 + (2 + n) + 10 + 6 + 6 + 6. */
export function standardRecordsLength(issuerLength: number): number {
  return 3 + (2 + issuerLength) + 10 + 6 + 6 + 6;
}

/**
 * Why a credential is refused. The first group is the card's content itself (the door's
 * "credential-invalid"); the last three are checks against the door's expectations and clock.
 */
export type CredentialErrorCode =
  | 'truncated'
  | 'bad-length'
  | 'unknown-tag'
  | 'duplicate-tag'
  | 'tag-order'
  | 'missing-field'
  | 'unsupported-version'
  | 'bad-value'
  | 'bad-padding'
  | 'wrong-issuer'
  | 'not-yet-valid'
  | 'expired';

export class CredentialError extends Error {
  override readonly name = 'CredentialError';
  readonly code: CredentialErrorCode;
  /** Byte offset in the file content where the problem is, when it is about a place. */
  readonly offset: number | undefined;

  constructor(code: CredentialErrorCode, message: string, offset?: number) {
    super(offset === undefined ? `${code}: ${message}` : `${code} at offset ${offset}: ${message}`);
    this.code = code;
    this.offset = offset;
  }
}

export function isCredentialError(e: unknown): e is CredentialError {
  return e instanceof CredentialError;
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

function isPrintableAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return false;
  return true;
}

function uintBE(value: number | bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt(value);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function readUintBE(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function record(tag: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + value.length);
  out[0] = tag;
  out[1] = value.length;
  out.set(value, 2);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Issuer side: card data -> file content.

/** Whole seconds of a timestamp within 1970..2106, or a message saying why not. */
function unixSeconds(ts: Timestamp | undefined): number | string {
  if (!ts) return 'required';
  if (ts.nanos !== 0) return 'must be whole seconds (the credential stores seconds)';
  if (ts.seconds < 0n || ts.seconds > BigInt(MAX_UNIX_TIME)) return 'must be between 1970-01-01T00:00:00Z and 2106-02-07T06:28:15Z (4-byte Unix time)';
  return Number(ts.seconds);
}

/**
 * Checks one card's data against the credential template; issues are collected under `path`
 * (field names of CardData).
 */
export function checkCardData(template: CredentialTemplate, card: CardData, issues: IssueList, path = ''): void {
  if (card.cardNumber === 0n) issues.add(at(path, 'card_number'), 'required: 1..18446744073709551615 (0 is not a card number)');
  const from = unixSeconds(card.validFrom);
  const to = unixSeconds(card.validTo);
  if (typeof from === 'string') issues.add(at(path, 'valid_from'), from);
  if (typeof to === 'string') issues.add(at(path, 'valid_to'), to);
  if (typeof from === 'number' && typeof to === 'number' && to < from) {
    issues.add(at(path, 'valid_to'), `is before valid_from (${new Date(to * 1000).toISOString()} < ${new Date(from * 1000).toISOString()})`);
  }
  if (card.siteCode === undefined && template.siteCode === undefined) {
    issues.add(at(path, 'site_code'), 'required: the profile\'s credential template gives no default site code');
  }
  let previous = -1;
  card.extensions.forEach((ext, i) => {
    const p = at(at(path, 'extensions'), i);
    if (ext.tag < FIRST_EXTENSION_TAG || ext.tag > LAST_EXTENSION_TAG) {
      issues.add(at(p, 'tag'), `0x${ext.tag.toString(16)} is not an extension tag (0x40..0x7F)`);
    } else if (ext.tag <= previous) {
      issues.add(at(p, 'tag'), `0x${hex2(ext.tag)} ${ext.tag === previous ? 'repeats the previous extension\'s tag' : 'is not after the previous extension\'s tag'}: tags must be ascending and distinct`);
    }
    previous = Math.max(previous, ext.tag);
    if (ext.value.length > MAX_VALUE_LENGTH) issues.add(at(p, 'value'), `${ext.value.length} bytes; an extension holds at most ${MAX_VALUE_LENGTH}`);
  });
}

/**
 * The credential records (TLV) for one card, without padding. Throws ProfileError (subject
 * "card data") when the card data is incomplete or out of range. The template is assumed valid
 * (validateProfile checked it).
 */
export function encodeCredentialRecords(template: CredentialTemplate, card: CardData): Uint8Array {
  const issues = new IssueList();
  checkCardData(template, card, issues);
  issues.throwIfAny('card data');
  const issuer = new TextEncoder().encode(template.issuer);
  const parts = [
    record(CredentialTag.FORMAT_VERSION, Uint8Array.of(template.formatVersion)),
    record(CredentialTag.ISSUER, issuer),
    record(CredentialTag.CARD_NUMBER, uintBE(card.cardNumber, 8)),
    record(CredentialTag.VALID_FROM, uintBE(card.validFrom!.seconds, 4)),
    record(CredentialTag.VALID_TO, uintBE(card.validTo!.seconds, 4)),
    record(CredentialTag.SITE_CODE, uintBE(card.siteCode ?? template.siteCode ?? 0, 4)),
    ...card.extensions.map((ext) => record(ext.tag, ext.value)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * The credential file's content for one card: the records, then zeros up to `fileSize`. Throws
 * ProfileError (subject "card data") when the card data is invalid or the records do not fit.
 */
export function encodeCredentialFile(template: CredentialTemplate, card: CardData, fileSize: number): Uint8Array {
  const records = encodeCredentialRecords(template, card);
  if (records.length > fileSize) {
    const issues = new IssueList();
    issues.add(card.extensions.length > 0 ? 'extensions' : '', `the credential takes ${records.length} bytes, its file holds ${fileSize}`);
    issues.throwIfAny('card data');
  }
  const out = new Uint8Array(fileSize);
  out.set(records);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Door side: file content -> credential.

/**
 * Parses a credential file's content (records then zero padding, or records up to the end).
 * Structural checks only: the layout rules above. Throws CredentialError.
 */
export function decodeCredential(content: Uint8Array): Credential {
  const seen = new Map<number, Uint8Array>();
  const extensions: CredentialExtension[] = [];
  let previous = -1;
  let offset = 0;
  while (offset < content.length) {
    const tag = content[offset];
    if (tag === CredentialTag.PADDING) {
      for (let i = offset + 1; i < content.length; i++) {
        if (content[i] !== 0) throw new CredentialError('bad-padding', `byte 0x${hex2(content[i])} after the end of the records (padding is 0x00)`, i);
      }
      break;
    }
    if (offset + 2 > content.length) throw new CredentialError('truncated', `record 0x${hex2(tag)} has no length byte`, offset);
    const length = content[offset + 1];
    if (length > MAX_VALUE_LENGTH) throw new CredentialError('bad-length', `record 0x${hex2(tag)} has length byte 0x${hex2(length)} (long form not used; at most 0x7F)`, offset + 1);
    if (offset + 2 + length > content.length) {
      throw new CredentialError('truncated', `record 0x${hex2(tag)} announces ${length} bytes, ${content.length - offset - 2} remain`, offset);
    }
    const value = content.subarray(offset + 2, offset + 2 + length);
    const known = FIELD_NAMES[tag] !== undefined;
    const extension = tag >= FIRST_EXTENSION_TAG && tag <= LAST_EXTENSION_TAG;
    if (previous === -1 && tag !== CredentialTag.FORMAT_VERSION) {
      throw new CredentialError('missing-field', `the first record must be the format version (tag 01), found tag ${hex2(tag)}`, offset);
    }
    if (!known && !extension) throw new CredentialError('unknown-tag', `tag 0x${hex2(tag)} is not defined by format version 1 and is not an extension (0x40..0x7F)`, offset);
    if (tag === previous) throw new CredentialError('duplicate-tag', `tag 0x${hex2(tag)} appears twice`, offset);
    if (tag < previous) throw new CredentialError('tag-order', `tag 0x${hex2(tag)} follows tag 0x${hex2(previous)} (tags are ascending)`, offset);
    previous = tag;
    if (known) {
      const fixed = FIXED_LENGTH[tag];
      if (fixed !== undefined && length !== fixed) {
        throw new CredentialError('bad-length', `${FIELD_NAMES[tag]} (tag ${hex2(tag)}) is ${fixed} byte${fixed === 1 ? '' : 's'}, got ${length}`, offset + 1);
      }
      if (tag === CredentialTag.FORMAT_VERSION && value[0] !== CREDENTIAL_FORMAT_VERSION) {
        throw new CredentialError('unsupported-version', `format version ${value[0]}; this reader knows version ${CREDENTIAL_FORMAT_VERSION}`, offset + 2);
      }
      if (tag === CredentialTag.ISSUER && (length < 1 || length > MAX_ISSUER_LENGTH || !isPrintableAscii(value))) {
        throw new CredentialError('bad-value', `the issuer must be 1..${MAX_ISSUER_LENGTH} printable ASCII characters, got ${toHex(value) || 'nothing'}`, offset + 2);
      }
      seen.set(tag, value);
    } else {
      extensions.push(create(CredentialExtensionSchema, { tag, value: value.slice() }));
    }
    offset += 2 + length;
  }
  const missing = REQUIRED_TAGS.filter((t) => !seen.has(t));
  if (missing.length > 0) {
    throw new CredentialError('missing-field', `no ${missing.map((t) => `${FIELD_NAMES[t]} (tag ${hex2(t)})`).join(', ')}`);
  }
  const cardNumber = readUintBE(seen.get(CredentialTag.CARD_NUMBER)!);
  if (cardNumber === 0n) throw new CredentialError('bad-value', 'card number 0');
  const validFrom = readUintBE(seen.get(CredentialTag.VALID_FROM)!);
  const validTo = readUintBE(seen.get(CredentialTag.VALID_TO)!);
  if (validTo < validFrom) throw new CredentialError('bad-value', `valid to (${validTo}) is before valid from (${validFrom})`);
  return create(CredentialSchema, {
    formatVersion: CREDENTIAL_FORMAT_VERSION,
    issuer: new TextDecoder().decode(seen.get(CredentialTag.ISSUER)!),
    cardNumber,
    validFrom: create(TimestampSchema, { seconds: validFrom }),
    validTo: create(TimestampSchema, { seconds: validTo }),
    siteCode: Number(readUintBE(seen.get(CredentialTag.SITE_CODE)!)),
    extensions,
  });
}

/** What a door expects of a credential besides its layout. */
export interface CredentialExpectation {
  /** The issuer of the profile's credential template. */
  readonly issuer: string;
}

/**
 * The door's checks on a decoded credential: the issuer, and the validity window
 * (valid from <= now <= valid to, whole seconds, UTC). Throws CredentialError.
 */
export function checkCredential(credential: Credential, expected: CredentialExpectation, now: Date): void {
  if (credential.issuer !== expected.issuer) throw new CredentialError('wrong-issuer', `issued by "${credential.issuer}", this door accepts "${expected.issuer}"`);
  const t = BigInt(Math.floor(now.getTime() / 1000));
  const from = credential.validFrom?.seconds ?? 0n;
  const to = credential.validTo?.seconds ?? 0n;
  if (t < from) throw new CredentialError('not-yet-valid', `valid from ${isoSeconds(from)}, now ${isoSeconds(t)}`);
  if (t > to) throw new CredentialError('expired', `valid to ${isoSeconds(to)}, now ${isoSeconds(t)}`);
}

function isoSeconds(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

/** A door's verdict on the credential file's content, in the shape the door authenticator takes. */
export type CredentialVerdict =
  | { readonly ok: true; readonly fields: Credential }
  | {
      readonly ok: false;
      /** The denial reason: the two validity outcomes, everything else is an invalid credential. */
      readonly reason: 'credential-invalid' | 'not-yet-valid' | 'expired';
      /** The precise cause. */
      readonly code: CredentialErrorCode;
      readonly detail: string;
    };

/** Decodes and checks a credential file's content; never throws for bad content. */
export function verifyCredential(content: Uint8Array, expected: CredentialExpectation, now: Date): CredentialVerdict {
  try {
    const fields = decodeCredential(content);
    checkCredential(fields, expected, now);
    return { ok: true, fields };
  } catch (e) {
    if (!isCredentialError(e)) throw e;
    const reason = e.code === 'expired' || e.code === 'not-yet-valid' ? e.code : 'credential-invalid';
    return { ok: false, reason, code: e.code, detail: e.message };
  }
}
