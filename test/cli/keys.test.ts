import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA_DIR_ENV, defaultKeyFile, runKeys, type KeysIo } from '../../src/cli/keys.js';
import { FileKeyStore } from '../../src/encoder/keys/index.js';

const PASSPHRASE = 'a passphrase long enough';
const KEK_HEX = 'f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-keys-cli-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function harness(env: Record<string, string> = { DESFIRE_PACS_PASSPHRASE: PASSPHRASE }) {
  const cwd = await tempDir();
  const out: string[] = [];
  const err: string[] = [];
  const io: KeysIo = { write: (line) => out.push(line), error: (line) => err.push(line), env, cwd, scrypt: { N: 16, r: 1, p: 1 } };
  const run = async (...args: string[]) => {
    out.length = 0;
    err.length = 0;
    return runKeys(args, io);
  };
  return { io, out, err, cwd, run, file: join(cwd, 'desfire-pacs-data', 'keys.json') };
}

/** Output never shows a key: no 16-byte value in hex or base64, no secret from the environment. */
function expectNoSecrets(lines: string[], ...secrets: string[]): void {
  const text = lines.join('\n');
  expect(text).not.toMatch(/[0-9a-f]{32}/i);
  expect(text).not.toMatch(/[A-Za-z0-9+/]{22}==/);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('desfire-pacs keys: usage', () => {
  it('--help prints the usage and exits 0, saying which secret wins', async () => {
    const { run, out } = await harness();
    expect(await run('--help')).toBe(0);
    expect(out.join('\n')).toMatch(/^usage: desfire-pacs keys/);
    expect(out.join('\n')).toMatch(/first found wins:\n\s+--passphrase-env NAME[^\n]*\n\s+DESFIRE_PACS_KEK[^\n]*\n\s+DESFIRE_PACS_PASSPHRASE/);
  });

  it.each([
    [[], /a command is needed/],
    [['rotate', 'dev'], /unknown command "rotate"/],
    [['create'], /"create" takes one key set name/],
    [['create', 'a', 'b'], /"create" takes one key set name/],
    [['create', 'dev', '--application-keys', '0'], /--application-keys must be an integer from 1 to 14, got "0"/],
    [['create', 'dev', '--application-keys', 'x'], /--application-keys must be an integer from 1 to 14/],
    [['create', 'dev', '--make-current'], /--make-current does not apply to "create"/],
    [['add-version'], /"add-version" takes one key set name/],
    [['set-current', 'dev'], /"set-current" takes a key set name and a version/],
    [['set-current', 'dev', '0'], /the version must be an integer from 1 to 255, got "0"/],
    [['list', 'dev'], /"list" takes no arguments/],
    [['list', '--bogus'], /Unknown option '--bogus'/],
    [['list', '--file', ''], /--file needs a file name/],
  ])('%j is a usage error (exit 2), nothing written', async (args, message) => {
    const { run, err, cwd } = await harness();
    expect(await run(...(args as string[]))).toBe(2);
    expect(err[0]).toMatch(message);
    expect(err.join('\n')).toContain('usage: desfire-pacs keys');
    expect(await readdir(cwd)).toEqual([]);
  });
});

describe('desfire-pacs keys: create, add-version, set-current, list', () => {
  it('manages key sets in the service data directory (desfire-pacs-data/keys.json), printing names and versions, never a key', async () => {
    const { run, out, err, file } = await harness();
    expect(await run('create', 'dev')).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toBe(`new key file ${file} (mode 0600), locked with the passphrase from DESFIRE_PACS_PASSPHRASE`);
    expect(out[1]).toMatch(/^key set "dev" created: version 1 \(current\), created \S+, keys PICC master, 0, 1, 2$/);
    expectNoSecrets(out, PASSPHRASE);

    expect(await run('create', 'site-a', '--application-keys', '5')).toBe(0);
    expect(out).toEqual([expect.stringMatching(/^key set "site-a" created: .* keys PICC master, 0, 1, 2, 3, 4$/)]);

    expect(await run('add-version', 'dev')).toBe(0);
    expect(out[0]).toMatch(/^key set "dev": version 2, created/);
    expect(out[1]).toBe('the current version stays 1; make the new one current with: desfire-pacs keys set-current dev 2');
    expect(await run('add-version', 'dev', '--make-current')).toBe(0);
    expect(out).toEqual([expect.stringMatching(/^key set "dev": version 3 \(current\), created/)]);
    expect(await run('set-current', 'dev', '2')).toBe(0);
    expect(out).toEqual(['key set "dev": version 2 is now current']);

    expect(await run('list')).toBe(0);
    expect(out[0]).toBe(`key file ${file}`);
    expect(out.slice(1).map((l) => l.replace(/created [^,]+/, 'created T'))).toEqual([
      'dev: current version 2, 3 versions',
      '  version 1, created T, keys PICC master, 0, 1, 2',
      '  version 2 (current), created T, keys PICC master, 0, 1, 2',
      '  version 3, created T, keys PICC master, 0, 1, 2',
      'site-a: current version 1, 1 version',
      '  version 1 (current), created T, keys PICC master, 0, 1, 2, 3, 4',
    ]);
    expectNoSecrets(out, PASSPHRASE);

    expect(await run('list', '--json')).toBe(0);
    const listing = JSON.parse(out.join('\n'));
    expect(listing.file).toBe(file);
    expect(listing.keySets.map((s: { name: string; currentVersion: number }) => [s.name, s.currentVersion])).toEqual([['dev', 2], ['site-a', 1]]);
    expect(listing.keySets[0].versions[0].keyRefs).toEqual(['picc', 0, 1, 2]);
    expectNoSecrets(out, PASSPHRASE);

    // The library reads what the CLI wrote, with the same passphrase.
    const store = await FileKeyStore.open(file, { kind: 'passphrase', passphrase: PASSPHRASE });
    expect(await store.currentVersion('dev')).toBe(2);
    await store.close();
  });

  it('an empty key file lists as such', async () => {
    const { run, out, file } = await harness();
    await (await FileKeyStore.create(file, { kind: 'passphrase', passphrase: PASSPHRASE }, { scrypt: { N: 16, r: 1, p: 1 } })).close();
    expect(await run('list')).toBe(0);
    expect(out).toEqual([`key file ${file}`, 'no key sets yet; make one with: desfire-pacs keys create <set>']);
  });

  it('--file (relative to the working directory) and $DESFIRE_PACS_DATA_DIR choose the file', async () => {
    const { run, cwd } = await harness({ DESFIRE_PACS_PASSPHRASE: PASSPHRASE, [DATA_DIR_ENV]: 'state' });
    expect(await run('create', 'dev')).toBe(0);
    expect(existsSync(join(cwd, 'state', 'keys.json'))).toBe(true);
    expect(await run('create', 'other', '--file', 'elsewhere/k.json')).toBe(0);
    expect(existsSync(join(cwd, 'elsewhere', 'k.json'))).toBe(true);
    expect(defaultKeyFile({}, '/srv')).toBe('/srv/desfire-pacs-data/keys.json');
    expect(defaultKeyFile({ [DATA_DIR_ENV]: '/var/lib/desfire-pacs' }, '/srv')).toBe('/var/lib/desfire-pacs/keys.json');
  });

  it("manages the service's key file: the data directory's development KEK unlocks it when the environment has no secret", async () => {
    const { run, out, cwd } = await harness({});
    const data = join(cwd, 'desfire-pacs-data');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, 'kek'), `${KEK_HEX}\n`, { mode: 0o600 });
    await (await FileKeyStore.create(join(data, 'keys.json'), { kind: 'kek', kek: Buffer.from(KEK_HEX, 'hex') })).close();
    expect(await run('create', 'site-b')).toBe(0);
    expect(await run('list')).toBe(0);
    expect(out.join('\n')).toContain('site-b');
    expectNoSecrets(out, KEK_HEX);
    await rm(join(data, 'kek'));
    expect(await run('list')).toBe(1);
  });

  it('DESFIRE_PACS_KEK wins over DESFIRE_PACS_PASSPHRASE; --passphrase-env over both', async () => {
    const env = { DESFIRE_PACS_PASSPHRASE: PASSPHRASE, DESFIRE_PACS_KEK: KEK_HEX, OPERATOR_PASS: 'the operator passphrase' };
    const { run, out, err } = await harness(env);
    expect(await run('create', 'dev')).toBe(0);
    expect(out[0]).toContain('locked with the key-encryption key from DESFIRE_PACS_KEK');
    expectNoSecrets(out, KEK_HEX, PASSPHRASE);
    // The same file refuses a passphrase: it is locked with the KEK.
    expect(await run('list', '--passphrase-env', 'OPERATOR_PASS')).toBe(1);
    expect(err[0]).toBe('desfire-pacs keys: this key file is locked with a key-encryption key (DESFIRE_PACS_KEK), not a passphrase');

    expect(await run('create', 'dev', '--file', 'op.json', '--passphrase-env', 'OPERATOR_PASS')).toBe(0);
    expect(out[0]).toContain('locked with the passphrase from OPERATOR_PASS');
    expect(await run('list', '--file', 'op.json')).toBe(1);
    expect(err[0]).toMatch(/locked with a passphrase, not a key-encryption key/);
  });

  it('a wrong passphrase: exit 1, the file untouched, the passphrase not echoed', async () => {
    const first = await harness();
    expect(await first.run('create', 'dev')).toBe(0);
    const before = await readFile(first.file, 'utf8');
    const wrong = 'not the passphrase at all';
    // The same working directory (so the same file), another secret.
    const io: KeysIo = { ...first.io, env: { DESFIRE_PACS_PASSPHRASE: wrong } };
    const err: string[] = [];
    const code = await runKeys(['add-version', 'dev'], { ...io, error: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(err[0]).toBe('desfire-pacs keys: cannot decrypt the key file: wrong passphrase or key-encryption key, or the file was altered');
    expectNoSecrets(err, wrong, PASSPHRASE);
    expect(await readFile(first.file, 'utf8')).toBe(before);
  });

  it.each([
    ['no secret in the environment', {}, ['list'], /no secret for the key file: set DESFIRE_PACS_KEK/],
    ['a malformed KEK', { DESFIRE_PACS_KEK: 'abcd' }, ['list'], /DESFIRE_PACS_KEK must be 64 hex digits/],
    ['an unset --passphrase-env variable', { DESFIRE_PACS_PASSPHRASE: PASSPHRASE }, ['list', '--passphrase-env', 'NOPE'], /NOPE \(--passphrase-env\) is not set/],
    ['a short passphrase for a new file', { DESFIRE_PACS_PASSPHRASE: 'short' }, ['create', 'dev'], /at least 12 characters/],
  ])('%s: exit 1 with a clear message', async (_, env, args, message) => {
    const { run, err, cwd } = await harness(env as Record<string, string>);
    expect(await run(...args)).toBe(1);
    expect(err[0]).toMatch(message);
    expect(await readdir(cwd)).toEqual([]);
  });

  it('no key file yet: list says how to make one', async () => {
    const { run, err, file } = await harness();
    expect(await run('list')).toBe(1);
    expect(err).toEqual([`desfire-pacs keys: no key file ${file}`, 'create one with: desfire-pacs keys create <set>']);
  });

  it('refusals of the store: exit 1 with its message', async () => {
    const { run, err } = await harness();
    expect(await run('create', 'dev')).toBe(0);
    expect(await run('create', 'dev')).toBe(1);
    expect(err).toEqual(['desfire-pacs keys: key set "dev" already exists']);
    expect(await run('add-version', 'prod')).toBe(1);
    expect(err).toEqual(['desfire-pacs keys: no key set "prod"']);
    expect(await run('set-current', 'dev', '7')).toBe(1);
    expect(err).toEqual(['desfire-pacs keys: key set "dev" has no version 7']);
  });

  it('a bad key set name on a new file leaves no file behind', async () => {
    const { run, err, file } = await harness();
    expect(await run('create', 'bad name')).toBe(1);
    expect(err[0]).toBe(`the new key file ${file} was removed again`);
    expect(err[1]).toMatch(/^desfire-pacs keys: key set name "bad name": 1\.\.64 characters/);
    expect(existsSync(file)).toBe(false);
  });
});
