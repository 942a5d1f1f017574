import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/desfire/bytes.js';
import {
  FileKeyStore,
  KEY_FILE_FORMAT,
  isKeyStoreError,
  type CardKeyRequest,
  type KeyFileSecret,
  type KeyStoreErrorCode,
} from '../../../src/encoder/keys/index.js';
import { FAST_SCRYPT, PASSPHRASE, recordingRandom, rejectsWith, secretSpellings, tempDir } from './support.js';

const SECRET: KeyFileSecret = { kind: 'passphrase', passphrase: PASSPHRASE };
const KEK: KeyFileSecret = { kind: 'kek', kek: fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f') };
const OPTIONS = { scrypt: FAST_SCRYPT };
const UID = fromHex('04a1b2c3d4e5f6');
const request = (over: Partial<CardKeyRequest> = {}): CardKeyRequest => ({
  keySet: 'dev', version: 1, keyRef: 1, uid: UID, aid: 0xf48010, systemIdentifier: fromHex('0102'), ...over,
});

async function newFile(secret: KeyFileSecret = SECRET): Promise<{ file: string; dir: string }> {
  const dir = await tempDir();
  const file = join(dir, 'keys.json');
  const store = await FileKeyStore.create(file, secret, OPTIONS);
  await store.createKeySet('dev');
  await store.close();
  return { file, dir };
}

/** Every card key of every version of every set, as hex, to compare stores. */
async function allKeys(store: FileKeyStore): Promise<string[]> {
  const out: string[] = [];
  for (const set of await store.listKeySets()) {
    for (const version of set.versions) {
      for (const keyRef of version.keyRefs) out.push(`${set.name}/${version.version}/${keyRef}:${toHex(await store.cardKey(request({ keySet: set.name, version: version.version, keyRef })))}`);
    }
  }
  return out;
}

describe('FileKeyStore: round trip', () => {
  it('create -> close -> reopen gives the same key sets and the same diversified keys', async () => {
    const dir = await tempDir();
    const file = join(dir, 'keys.json');
    const store = await FileKeyStore.create(file, SECRET, OPTIONS);
    await store.createKeySet('dev');
    await store.createKeySet('site-a', { applicationKeys: 5 });
    await store.addVersion('dev', { makeCurrent: true });
    await store.addVersion('dev');
    const listing = await store.listKeySets();
    const keys = await allKeys(store);
    await store.close();

    const reopened = await FileKeyStore.open(file, SECRET);
    expect(await reopened.listKeySets()).toEqual(listing);
    expect(await reopened.currentVersion('dev')).toBe(2);
    expect(await allKeys(reopened)).toEqual(keys);
    expect(keys).toHaveLength(4 * 3 + 6);
    await reopened.close();
  });

  it('with a raw key-encryption key (kdf "none")', async () => {
    const { file } = await newFile(KEK);
    const container = JSON.parse(await readFile(file, 'utf8'));
    expect(container.kdf).toEqual({ name: 'none' });
    const store = await FileKeyStore.open(file, KEK);
    expect((await store.listKeySets()).map((s) => s.name)).toEqual(['dev']);
    await store.close();
  });

  it('changes made by one store are seen by the next, each written before it is visible', async () => {
    const { file } = await newFile();
    const a = await FileKeyStore.open(file, SECRET);
    await Promise.all([a.createKeySet('one'), a.createKeySet('two'), a.addVersion('dev', { makeCurrent: true })]);
    await a.close();
    const b = await FileKeyStore.open(file, SECRET);
    expect((await b.listKeySets()).map((s) => `${s.name}@${s.currentVersion}`)).toEqual(['dev@2', 'one@1', 'two@1']);
    await b.close();
  });
});

describe('FileKeyStore: the file', () => {
  it('is the documented container: JSON, format version 1, scrypt parameters, AES-256-GCM, mode 0600', async () => {
    const { file, dir } = await newFile();
    const text = await readFile(file, 'utf8');
    const container = JSON.parse(text);
    expect(Object.keys(container)).toEqual(['format', 'version', 'kdf', 'cipher', 'tag', 'ciphertext']);
    expect(container.format).toBe(KEY_FILE_FORMAT);
    expect(container.version).toBe(1);
    expect(container.kdf).toMatchObject({ name: 'scrypt', ...FAST_SCRYPT });
    expect(Buffer.from(container.kdf.salt, 'base64')).toHaveLength(16);
    expect(container.cipher.name).toBe('aes-256-gcm');
    expect(Buffer.from(container.cipher.nonce, 'base64')).toHaveLength(12);
    expect(Buffer.from(container.tag, 'base64')).toHaveLength(16);
    expect(text).toBe(`${JSON.stringify(container, null, 2)}\n`);
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    // Atomic writes leave no temporary file behind.
    expect(await readdir(dir)).toEqual(['keys.json']);
  });

  it('holds no master in clear, and every write draws a fresh nonce', async () => {
    const { random, drawn } = recordingRandom();
    const dir = await tempDir();
    const file = join(dir, 'keys.json');
    const store = await FileKeyStore.create(file, SECRET, { ...OPTIONS, random });
    await store.createKeySet('dev');
    const first = JSON.parse(await readFile(file, 'utf8'));
    await store.setCurrentVersion('dev', 1);
    const second = JSON.parse(await readFile(file, 'utf8'));
    await store.close();
    const text = await readFile(file, 'latin1');
    for (const secret of secretSpellings(drawn)) expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(drawn[0]).toString('latin1'));
    expect(second.cipher.nonce).not.toBe(first.cipher.nonce);
    expect(second.kdf).toEqual(first.kdf);
  });

  it.skipIf(process.platform === 'win32')('keeps mode 0600 when rewritten, whatever mode the old file had (POSIX modes)', async () => {
    const { file } = await newFile();
    await chmod(file, 0o644);
    const store = await FileKeyStore.open(file, SECRET);
    await store.addVersion('dev');
    await store.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('creates its directory', async () => {
    const file = join(await tempDir(), 'data', 'nested', 'keys.json');
    const store = await FileKeyStore.create(file, SECRET, OPTIONS);
    await store.close();
    expect((await stat(file)).isFile()).toBe(true);
  });
});

describe('FileKeyStore: refusals', () => {
  it('a wrong passphrase: WRONG_SECRET_OR_TAMPERED, never keys', async () => {
    const { file } = await newFile();
    const error = await rejectsWith(FileKeyStore.open(file, { kind: 'passphrase', passphrase: `${PASSPHRASE}!` }), 'WRONG_SECRET_OR_TAMPERED');
    expect(error.message).not.toContain(PASSPHRASE);
  });

  it('a wrong key-encryption key: WRONG_SECRET_OR_TAMPERED', async () => {
    const { file } = await newFile(KEK);
    const other = new Uint8Array(32).fill(7);
    await rejectsWith(FileKeyStore.open(file, { kind: 'kek', kek: other }), 'WRONG_SECRET_OR_TAMPERED');
  });

  it('the wrong kind of secret for the file: BAD_SECRET', async () => {
    const { file } = await newFile();
    await rejectsWith(FileKeyStore.open(file, KEK), 'BAD_SECRET');
    const { file: kekFile } = await newFile(KEK);
    await rejectsWith(FileKeyStore.open(kekFile, SECRET), 'BAD_SECRET');
  });

  it.each([
    ['a short passphrase for a new file', { kind: 'passphrase', passphrase: 'short' }],
    ['an empty passphrase', { kind: 'passphrase', passphrase: '' }],
    ['a 16-byte KEK', { kind: 'kek', kek: new Uint8Array(16) }],
    ['no secret', undefined],
  ])('%s: BAD_SECRET, no file made', async (_, secret) => {
    const dir = await tempDir();
    await rejectsWith(FileKeyStore.create(join(dir, 'keys.json'), secret as KeyFileSecret, OPTIONS), 'BAD_SECRET');
    expect(await readdir(dir)).toEqual([]);
  });

  it('bad scrypt parameters for a new file: INVALID_ARGUMENT', async () => {
    const dir = await tempDir();
    await rejectsWith(FileKeyStore.create(join(dir, 'keys.json'), SECRET, { scrypt: { N: 1000, r: 1, p: 1 } }), 'INVALID_ARGUMENT');
  });

  it('an existing file is never overwritten by create: FILE_EXISTS', async () => {
    const { file } = await newFile();
    const before = await readFile(file, 'utf8');
    await rejectsWith(FileKeyStore.create(file, SECRET, OPTIONS), 'FILE_EXISTS');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('a missing file: FILE_NOT_FOUND', async () => {
    await rejectsWith(FileKeyStore.open(join(await tempDir(), 'none.json'), SECRET), 'FILE_NOT_FOUND');
  });

  it.each([
    ['not JSON', 'hello'],
    ['a JSON list', '[]'],
    ['another JSON object', '{"keys": []}'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
  ])('%s: MALFORMED_FILE', async (_, content) => {
    const file = join(await tempDir(), 'keys.json');
    await writeFile(file, content);
    await rejectsWith(FileKeyStore.open(file, SECRET), 'MALFORMED_FILE');
  });

  it('a later format version: UNSUPPORTED_FORMAT', async () => {
    const { file } = await newFile();
    const container = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, `${JSON.stringify({ ...container, version: 2 }, null, 2)}\n`);
    await rejectsWith(FileKeyStore.open(file, SECRET), 'UNSUPPORTED_FORMAT');
  });

  it.each([
    ['a weaker scrypt N', (c: any) => ({ ...c, kdf: { ...c.kdf, N: c.kdf.N / 2 } })],
    ['another salt', (c: any) => ({ ...c, kdf: { ...c.kdf, salt: Buffer.alloc(16, 1).toString('base64') } })],
    ['another nonce', (c: any) => ({ ...c, cipher: { ...c.cipher, nonce: Buffer.alloc(12, 1).toString('base64') } })],
    ['the ciphertext of another file', (c: any, other: any) => ({ ...c, tag: other.tag, ciphertext: other.ciphertext })],
    ['a truncated ciphertext', (c: any) => ({ ...c, ciphertext: Buffer.from(c.ciphertext, 'base64').subarray(0, 32).toString('base64') })],
  ])('a valid-looking file with %s: WRONG_SECRET_OR_TAMPERED (the header is authenticated)', async (_, edit) => {
    const { file } = await newFile();
    const { file: otherFile } = await newFile();
    const container = JSON.parse(await readFile(file, 'utf8'));
    const other = JSON.parse(await readFile(otherFile, 'utf8'));
    await writeFile(file, `${JSON.stringify(edit(container, other), null, 2)}\n`);
    await rejectsWith(FileKeyStore.open(file, SECRET), 'WRONG_SECRET_OR_TAMPERED');
  });

  it('a reformatted file (same JSON, other whitespace): WRONG_SECRET_OR_TAMPERED', async () => {
    const { file } = await newFile();
    const container = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify(container));
    await rejectsWith(FileKeyStore.open(file, SECRET), 'WRONG_SECRET_OR_TAMPERED');
  });

  it('a flipped byte anywhere in the file is refused with a typed error, never opened', async () => {
    const { file } = await newFile();
    const original = await readFile(file);
    const codes = new Map<KeyStoreErrorCode, number>();
    const opened: string[] = [];
    for (let i = 0; i < original.length; i++) {
      for (const mask of [0x01, 0x20, 0x2a, 0x80]) {
        const copy = Buffer.from(original);
        copy[i] ^= mask;
        await writeFile(file, copy);
        try {
          const store = await FileKeyStore.open(file, SECRET);
          await store.close();
          opened.push(`byte ${i} ^ 0x${mask.toString(16)}`);
        } catch (error) {
          if (!isKeyStoreError(error)) throw error;
          codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
        }
      }
    }
    expect(opened).toEqual([]);
    expect([...codes.keys()].sort()).toEqual(expect.arrayContaining(['MALFORMED_FILE', 'WRONG_SECRET_OR_TAMPERED']));
    for (const code of codes.keys()) expect(['MALFORMED_FILE', 'UNSUPPORTED_FORMAT', 'WRONG_SECRET_OR_TAMPERED']).toContain(code);
    // The untouched file still opens.
    await writeFile(file, original);
    await (await FileKeyStore.open(file, SECRET)).close();
  });

  it('a file changed by another process since opening is not overwritten: FILE_CHANGED, nothing applied', async () => {
    const { file } = await newFile();
    const a = await FileKeyStore.open(file, SECRET);
    const b = await FileKeyStore.open(file, SECRET);
    await a.createKeySet('from-a');
    await rejectsWith(b.createKeySet('from-b'), 'FILE_CHANGED');
    await rejectsWith(b.addVersion('dev', { makeCurrent: true }), 'FILE_CHANGED');
    // b's memory is as before the failed changes.
    expect((await b.listKeySets()).map((s) => `${s.name}@${s.currentVersion}/${s.versions.length}`)).toEqual(['dev@1/1']);
    await rejectsWith(b.cardKey(request({ version: 2 })), 'UNKNOWN_VERSION');
    await a.close();
    await b.close();
    const c = await FileKeyStore.open(file, SECRET);
    expect((await c.listKeySets()).map((s) => s.name)).toEqual(['dev', 'from-a']);
    await c.close();
  });

  // Skipped where a read-only directory does not stop the writer: Windows, and root (which ignores permissions).
  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)('a change that cannot be written is not applied and the old file stays', async () => {
    const { file, dir } = await newFile();
    const before = await readFile(file, 'utf8');
    const store = await FileKeyStore.open(file, SECRET);
    await chmod(dir, 0o500);
    try {
      await rejectsWith(store.addVersion('dev', { makeCurrent: true }), 'IO_ERROR');
    } finally {
      await chmod(dir, 0o700);
    }
    expect(await store.currentVersion('dev')).toBe(1);
    expect((await store.keySet('dev')).versions).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe(before);
    // The store still works once the directory is writable again.
    expect((await store.addVersion('dev')).version).toBe(2);
    await store.close();
  });

  it('a change under way is not visible before it is written', async () => {
    const { file } = await newFile();
    const store = await FileKeyStore.open(file, SECRET);
    const pending = store.addVersion('dev', { makeCurrent: true });
    expect(await store.currentVersion('dev')).toBe(1);
    await pending;
    expect(await store.currentVersion('dev')).toBe(2);
    await store.close();
  });
});
