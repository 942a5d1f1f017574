import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileKeyStore, isKeyStoreError, type CardKeyRequest } from '../../src/encoder/keys/index.js';
import { runWithAudit } from '../../src/server/audit-context.js';
import { DATA_FILES, keySetsOf, openDataDir, type DataDir } from '../../src/server/data-dir.js';
import { loadShippedProfile } from '../../src/server/profiles/shipped-profiles.js';
import { captureLogs } from './support/capture-logs.js';

const WARN = 40;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-data-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function open(path: string, env: Record<string, string> = {}): Promise<{ data: DataDir; logs: ReturnType<typeof captureLogs> }> {
  const logs = captureLogs();
  const data = await openDataDir({ path, logger: logs.logger, env });
  cleanups.push(() => data.close());
  return { data, logs };
}

const doorKey: CardKeyRequest = { keySet: 'pacs', version: 1, keyRef: 1, uid: Uint8Array.from([4, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66]), aid: 0xf52a01, systemIdentifier: new TextEncoder().encode('pacs-v1') };

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('data directory', () => {
  it('is made on first start: directory 0700, development KEK 0600, key file with the pacs key set, generic-pacs-v1, journal', async () => {
    const path = join(await tempDir(), 'data');
    const { data, logs } = await open(path);
    expect(await mode(path)).toBe(0o700);
    expect(await mode(join(path, DATA_FILES.kek))).toBe(0o600);
    expect(await readFile(join(path, DATA_FILES.kek), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(await mode(join(path, DATA_FILES.keys))).toBe(0o600);
    expect(data.keys.path).toBe(join(path, DATA_FILES.keys));
    const [pacs, ...others] = await data.keys.listKeySets();
    expect(others).toEqual([]);
    expect(pacs).toMatchObject({ name: 'pacs', currentVersion: 1, versions: [{ version: 1, keyRefs: ['picc', 0, 1, 2] }] });
    expect(data.profiles.list().map((p) => p.name)).toEqual(['generic-pacs-v1']);
    expect(data.profiles.get('generic-pacs-v1')).toEqual(await loadShippedProfile('generic-pacs-v1'));
    expect(data.journal.path).toBe(join(path, DATA_FILES.journal));
    expect(data.virtualCardsPath).toBe(join(path, DATA_FILES.virtualCards));
    expect(logs.messages(WARN)).toEqual([expect.stringMatching(/^development setup: .*kek.*DESFIRE_PACS_KEK/)]);
    // The KEK is a secret: its value is in its file only, never in the logs.
    expect(logs.text()).not.toContain((await readFile(join(path, DATA_FILES.kek), 'utf8')).trim());
  });

  it('opens what exists on later starts: the same keys, profile and journal, nothing made again', async () => {
    const path = await tempDir();
    const first = await open(path);
    const before = await first.data.keys.cardKey(doorKey);
    const kek = await readFile(join(path, DATA_FILES.kek), 'utf8');
    const keyFile = await readFile(join(path, DATA_FILES.keys), 'utf8');
    await first.data.close();

    const { data, logs } = await open(path);
    expect(await data.keys.cardKey(doorKey)).toEqual(before);
    expect(await readFile(join(path, DATA_FILES.kek), 'utf8')).toBe(kek);
    expect(await readFile(join(path, DATA_FILES.keys), 'utf8')).toBe(keyFile);
    expect((await data.keys.listKeySets()).map((s) => s.name)).toEqual(['pacs']);
    expect(logs.messages()).toContain(`data directory ${path} opened`);
    expect(logs.messages().some((m) => m.includes('made with random masters'))).toBe(false);
  });

  it('audits every card key handed out in the journal, with the flow that asked', async () => {
    const { data } = await open(await tempDir());
    await runWithAudit({ actor: 'station-1', purpose: 'encode' }, () => data.keys.cardKey(doorKey));
    await data.keys.cardKey(doorKey);
    expect(data.journal.auditEvents().map((e) => [e.actor, e.purpose, e.keySet, e.keyRef, e.uid])).toEqual([
      ['station-1', 'encode', 'pacs', '1', '04112233445566'],
      ['unknown', 'unknown', 'pacs', '1', '04112233445566'],
    ]);
  });

  it('uses DESFIRE_PACS_KEK when set: no KEK file, and the key file opens with that key only', async () => {
    const path = await tempDir();
    const kek = randomBytes(32).toString('hex');
    const { data, logs } = await open(path, { DESFIRE_PACS_KEK: kek });
    expect(existsSync(join(path, DATA_FILES.kek))).toBe(false);
    expect(logs.messages(WARN)).toEqual([]);
    await data.close();
    const store = await FileKeyStore.open(join(path, DATA_FILES.keys), { kind: 'kek', kek: Buffer.from(kek, 'hex') });
    expect((await store.listKeySets()).map((s) => s.name)).toEqual(['pacs']);
    await store.close();
    const wrong = await openDataDir({ path, logger: captureLogs().logger, env: { DESFIRE_PACS_KEK: randomBytes(32).toString('hex') } }).catch((e: unknown) => e);
    expect(isKeyStoreError(wrong, 'WRONG_SECRET_OR_TAMPERED')).toBe(true);
  });

  it('refuses to make a new KEK for a key file that has one elsewhere', async () => {
    const path = await tempDir();
    await (await open(path)).data.close();
    await rm(join(path, DATA_FILES.kek));
    const error = await openDataDir({ path, logger: captureLogs().logger, env: {} }).catch((e: unknown) => e);
    expect(isKeyStoreError(error, 'BAD_SECRET')).toBe(true);
    expect((error as Error).message).toMatch(/set DESFIRE_PACS_KEK or DESFIRE_PACS_PASSPHRASE, or restore .*kek/);
    expect(existsSync(join(path, DATA_FILES.kek))).toBe(false);
  });

  it('finishes a first start cut short after the key file was written', async () => {
    const path = await tempDir();
    const kek = randomBytes(32);
    await writeFile(join(path, DATA_FILES.kek), `${kek.toString('hex')}\n`, { mode: 0o600 });
    await (await FileKeyStore.create(join(path, DATA_FILES.keys), { kind: 'kek', kek })).close();
    const { data } = await open(path);
    expect((await data.keys.listKeySets()).map((s) => s.name)).toEqual(['pacs']);
  });

  it('leaves a profile stored under the starter name as it is', async () => {
    const path = await tempDir();
    const first = await open(path);
    const own = { ...(await loadShippedProfile('generic-pacs-v1')), description: 'our own' };
    first.data.profiles.put(own);
    await first.data.close();
    const { data } = await open(path);
    expect(data.profiles.get('generic-pacs-v1').description).toBe('our own');
  });

  it('knows the key sets a profile needs', async () => {
    expect(keySetsOf(await loadShippedProfile('generic-pacs-v1'))).toEqual(new Map([['pacs', 3]]));
  });
});
