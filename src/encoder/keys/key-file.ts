import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KeyStoreError } from './errors.js';

/**
 * The container of the encrypted key file, format version 1. A JSON object, written exactly as
 * `JSON.stringify(container, null, 2) + "\n"` with the fields in this order:
 *
 * ```json
 * {
 *   "format": "desfire-pacs-keys",
 *   "version": 1,
 *   "kdf": { "name": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": "<base64, 16 bytes>" },
 *   "cipher": { "name": "aes-256-gcm", "nonce": "<base64, 12 bytes>" },
 *   "tag": "<base64, 16 bytes>",
 *   "ciphertext": "<base64>"
 * }
 * ```
 *
 * - `kdf` says where the 32-byte key-encryption key (KEK) comes from: `scrypt` of the passphrase
 *   (UTF-8, NFC) with these parameters and salt, or `{ "name": "none" }` when the KEK is given as
 *   is (e.g. `DESFIRE_PACS_KEK`, from a secrets manager).
 * - The payload is encrypted with AES-256-GCM under the KEK, with a fresh random 96-bit nonce at
 *   every write; the additional authenticated data is the header: the UTF-8 bytes of
 *   `JSON.stringify({ format, version, kdf, cipher })` (compact, this field order).
 * - The payload (see `KeyRing.encodePayload`): u32 big-endian length, metadata JSON (key sets,
 *   versions, key refs; no secrets), then the 16-byte masters.
 * - A file that parses but is not byte for byte its canonical form is refused as altered, so
 *   every change to the file, down to whitespace, is caught: by the tag, by the header in the
 *   AAD, or by this check.
 */

export const KEY_FILE_FORMAT = 'desfire-pacs-keys';
export const KEY_FILE_VERSION = 1;
export const KEK_LENGTH = 32;
/** The shortest passphrase accepted for a new file. */
export const MIN_PASSPHRASE_LENGTH = 12;

/** scrypt cost: N (a power of two), r, p (RFC 7914). */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^17, r = 8, p = 1: 128 MiB and a few hundred ms per opening (OWASP's recommendation for scrypt). */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/** What unlocks a key file: a passphrase (through scrypt) or the key-encryption key itself. */
export type KeyFileSecret =
  | { readonly kind: 'passphrase'; readonly passphrase: string }
  | { readonly kind: 'kek'; readonly kek: Uint8Array };

type KdfHeader = { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: string } | { readonly name: 'none' };

interface Header {
  readonly format: typeof KEY_FILE_FORMAT;
  readonly version: typeof KEY_FILE_VERSION;
  readonly kdf: KdfHeader;
  readonly cipher: { readonly name: 'aes-256-gcm'; readonly nonce: string };
}

/** A KEK and the `kdf` header it belongs to: what a store keeps to write its file again. */
export interface Kek {
  readonly key: Uint8Array;
  readonly kdf: KdfHeader;
}

const SALT_LENGTH = 16;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const MAX_SCRYPT_N = 2 ** 20;
const MAX_SCRYPT_R = 32;
const MAX_SCRYPT_P = 16;
/** scrypt needs 128·N·r bytes; a file may not ask for more than this. */
const MAX_SCRYPT_MEMORY = 2 ** 30;

/** The KEK of a new file: a fresh salt and `params` for a passphrase, the KEK itself otherwise. */
export async function newKek(secret: KeyFileSecret, params: ScryptParams = DEFAULT_SCRYPT): Promise<Kek> {
  checkSecret(secret);
  if (secret.kind === 'kek') return { key: secret.kek.slice(), kdf: { name: 'none' } };
  if (secret.passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new KeyStoreError('BAD_SECRET', `a new key file needs a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  checkScrypt(params, (detail) => new KeyStoreError('INVALID_ARGUMENT', `scrypt parameters: ${detail}`));
  const kdf: KdfHeader = { name: 'scrypt', N: params.N, r: params.r, p: params.p, salt: randomBytes(SALT_LENGTH).toString('base64') };
  return { key: await deriveKek(secret.passphrase, kdf), kdf };
}

/** The KEK that opens `file`: checks the secret is the kind the file needs, runs scrypt if it asks. */
export async function kekFor(file: ParsedKeyFile, secret: KeyFileSecret): Promise<Kek> {
  checkSecret(secret);
  const { kdf } = file.header;
  if (kdf.name === 'none') {
    if (secret.kind !== 'kek') throw new KeyStoreError('BAD_SECRET', 'this key file is locked with a key-encryption key (DESFIRE_PACS_KEK), not a passphrase');
    return { key: secret.kek.slice(), kdf };
  }
  if (secret.kind !== 'passphrase') throw new KeyStoreError('BAD_SECRET', 'this key file is locked with a passphrase, not a key-encryption key');
  return { key: await deriveKek(secret.passphrase, kdf), kdf };
}

/** A key file read and checked, not yet decrypted. */
export interface ParsedKeyFile {
  readonly header: Header;
  readonly tag: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/**
 * Parses a key file strictly: exactly our fields, canonical base64, scrypt parameters within
 * bounds, and the text byte for byte as we write it.
 */
export function parseKeyFile(text: string): ParsedKeyFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw malformed('not JSON', error);
  }
  const root = object(value, 'the file');
  if (root.format !== KEY_FILE_FORMAT) throw malformed(`not a desfire-pacs key file (no "format": "${KEY_FILE_FORMAT}")`);
  if (root.version !== KEY_FILE_VERSION) {
    throw new KeyStoreError('UNSUPPORTED_FORMAT', `key file format version ${JSON.stringify(root.version)}; this program reads version ${KEY_FILE_VERSION}`);
  }
  fields(root, 'the file', ['format', 'version', 'kdf', 'cipher', 'tag', 'ciphertext']);

  const kdfValue = object(root.kdf, 'kdf');
  let kdf: KdfHeader;
  if (kdfValue.name === 'none') {
    fields(kdfValue, 'kdf', ['name']);
    kdf = { name: 'none' };
  } else if (kdfValue.name === 'scrypt') {
    fields(kdfValue, 'kdf', ['name', 'N', 'r', 'p', 'salt']);
    const params = { N: kdfValue.N, r: kdfValue.r, p: kdfValue.p } as ScryptParams;
    checkScrypt(params, (detail) => malformed(`kdf: ${detail}`));
    const salt = base64(kdfValue.salt, 'kdf.salt');
    if (salt.length < SALT_LENGTH || salt.length > 64) throw malformed(`kdf.salt must be ${SALT_LENGTH}..64 bytes`);
    kdf = { name: 'scrypt', N: params.N, r: params.r, p: params.p, salt: kdfValue.salt as string };
  } else {
    throw malformed(`kdf.name must be "scrypt" or "none", got ${JSON.stringify(kdfValue.name)}`);
  }

  const cipherValue = object(root.cipher, 'cipher');
  fields(cipherValue, 'cipher', ['name', 'nonce']);
  if (cipherValue.name !== 'aes-256-gcm') throw malformed(`cipher.name must be "aes-256-gcm", got ${JSON.stringify(cipherValue.name)}`);
  if (base64(cipherValue.nonce, 'cipher.nonce').length !== NONCE_LENGTH) throw malformed(`cipher.nonce must be ${NONCE_LENGTH} bytes`);

  const tag = base64(root.tag, 'tag');
  if (tag.length !== TAG_LENGTH) throw malformed(`tag must be ${TAG_LENGTH} bytes`);
  const ciphertext = base64(root.ciphertext, 'ciphertext');
  const header: Header = { format: KEY_FILE_FORMAT, version: KEY_FILE_VERSION, kdf, cipher: { name: 'aes-256-gcm', nonce: cipherValue.nonce as string } };
  if (serialize(header, root.tag as string, root.ciphertext as string) !== text) {
    throw new KeyStoreError('WRONG_SECRET_OR_TAMPERED', 'the key file was altered: it is not byte for byte what desfire-pacs writes');
  }
  return { header, tag, ciphertext };
}

/** Decrypts and authenticates the payload; the caller wipes it. */
export function openPayload(file: ParsedKeyFile, kek: Kek): Uint8Array {
  const decipher = createDecipheriv('aes-256-gcm', kek.key, Buffer.from(file.header.cipher.nonce, 'base64'), { authTagLength: TAG_LENGTH });
  decipher.setAAD(headerBytes(file.header));
  decipher.setAuthTag(file.tag);
  const first = decipher.update(file.ciphertext);
  try {
    const last = decipher.final();
    const out = new Uint8Array(first.length + last.length);
    out.set(first);
    out.set(last, first.length);
    return out;
  } catch (error) {
    throw new KeyStoreError('WRONG_SECRET_OR_TAMPERED', 'cannot decrypt the key file: wrong passphrase or key-encryption key, or the file was altered', { cause: error });
  } finally {
    // The unauthenticated plaintext is never used, whatever the tag said.
    first.fill(0);
  }
}

/** Encrypts `payload` under `kek` with a fresh nonce; returns the file's text. */
export function sealPayload(payload: Uint8Array, kek: Kek): string {
  const header: Header = {
    format: KEY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    kdf: kek.kdf,
    cipher: { name: 'aes-256-gcm', nonce: randomBytes(NONCE_LENGTH).toString('base64') },
  };
  const cipher = createCipheriv('aes-256-gcm', kek.key, Buffer.from(header.cipher.nonce, 'base64'), { authTagLength: TAG_LENGTH });
  cipher.setAAD(headerBytes(header));
  const ciphertext = Buffer.concat([cipher.update(payload), cipher.final()]);
  return serialize(header, cipher.getAuthTag().toString('base64'), ciphertext.toString('base64'));
}

/**
 * Writes `text` to `path` atomically, mode 0600: a temporary file beside it (created
 * exclusively), fsync, then rename over `path` (or, with `exclusive`, a hard link that fails if
 * `path` exists); a crash leaves the old file or the new one, never half of one.
 */
export async function writeFileAtomic(path: string, text: string, options: { exclusive?: boolean } = {}): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) {
      await link(temporary, path);
      await rm(temporary, { force: true });
    } else {
      await rename(temporary, path);
    }
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    throw error;
  }
  await syncDirectory(directory);
}

/** Makes the rename durable; best effort (not every platform can open a directory). */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The rename is done; only its durability across a power cut is not guaranteed here.
  }
}

function serialize(header: Header, tag: string, ciphertext: string): string {
  const kdf = header.kdf.name === 'none' ? { name: 'none' } : { name: 'scrypt', N: header.kdf.N, r: header.kdf.r, p: header.kdf.p, salt: header.kdf.salt };
  const container = {
    format: header.format,
    version: header.version,
    kdf,
    cipher: { name: header.cipher.name, nonce: header.cipher.nonce },
    tag,
    ciphertext,
  };
  return `${JSON.stringify(container, null, 2)}\n`;
}

function headerBytes(header: Header): Uint8Array {
  const kdf = header.kdf.name === 'none' ? { name: 'none' } : { name: 'scrypt', N: header.kdf.N, r: header.kdf.r, p: header.kdf.p, salt: header.kdf.salt };
  const canonical = { format: header.format, version: header.version, kdf, cipher: { name: header.cipher.name, nonce: header.cipher.nonce } };
  return new TextEncoder().encode(JSON.stringify(canonical));
}

async function deriveKek(passphrase: string, kdf: Extract<KdfHeader, { name: 'scrypt' }>): Promise<Uint8Array> {
  const secret = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  const options: ScryptOptions = { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 2 * 128 * kdf.N * kdf.r + 2 ** 20 };
  try {
    const key = await new Promise<Buffer>((resolve, reject) => {
      scryptCallback(secret, Buffer.from(kdf.salt, 'base64'), KEK_LENGTH, options, (error, derived) => (error ? reject(error) : resolve(derived)));
    });
    const out = new Uint8Array(key);
    key.fill(0);
    return out;
  } catch (error) {
    throw new KeyStoreError('IO_ERROR', `scrypt failed: ${(error as Error).message}`, { cause: error });
  } finally {
    secret.fill(0);
  }
}

function checkSecret(secret: KeyFileSecret): void {
  if (secret?.kind === 'kek') {
    if (!(secret.kek instanceof Uint8Array) || secret.kek.length !== KEK_LENGTH) {
      throw new KeyStoreError('BAD_SECRET', `a key-encryption key is ${KEK_LENGTH} bytes (${2 * KEK_LENGTH} hex digits)`);
    }
  } else if (secret?.kind === 'passphrase') {
    if (typeof secret.passphrase !== 'string' || secret.passphrase.length === 0) throw new KeyStoreError('BAD_SECRET', 'the passphrase is empty');
  } else {
    throw new KeyStoreError('BAD_SECRET', 'no passphrase or key-encryption key given');
  }
}

function checkScrypt(params: ScryptParams, fail: (detail: string) => KeyStoreError): void {
  const { N, r, p } = params ?? ({} as ScryptParams);
  if (!Number.isInteger(N) || N < 2 || N > MAX_SCRYPT_N || (N & (N - 1)) !== 0) throw fail(`N must be a power of two from 2 to 2^20, got ${String(N)}`);
  if (!Number.isInteger(r) || r < 1 || r > MAX_SCRYPT_R) throw fail(`r must be 1..${MAX_SCRYPT_R}, got ${String(r)}`);
  if (!Number.isInteger(p) || p < 1 || p > MAX_SCRYPT_P) throw fail(`p must be 1..${MAX_SCRYPT_P}, got ${String(p)}`);
  if (128 * N * r > MAX_SCRYPT_MEMORY) throw fail(`N·r asks for more than ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict, canonical base64 (Buffer.from alone skips invalid characters). */
function base64(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw malformed(`${field} is not base64`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw malformed(`${field} is not canonical base64`);
  return new Uint8Array(bytes);
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function fields(value: Record<string, unknown>, what: string, expected: readonly string[]): void {
  const keys = Object.keys(value);
  const missing = expected.filter((f) => !keys.includes(f));
  const extra = keys.filter((k) => !expected.includes(k));
  if (missing.length > 0) throw malformed(`${what} lacks ${missing.join(', ')}`);
  if (extra.length > 0) throw malformed(`${what} has unknown fields ${extra.join(', ')}`);
}

function malformed(detail: string, cause?: unknown): KeyStoreError {
  return new KeyStoreError('MALFORMED_FILE', `not a valid key file: ${detail}`, { cause });
}
