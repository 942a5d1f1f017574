import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  FileKeyStore,
  KEK_ENV,
  MAX_APPLICATION_KEYS,
  MAX_KEY_VERSION,
  PASSPHRASE_ENV,
  isKeyStoreError,
  parseKek,
  secretFromEnvironment,
  type KeyRef,
  type KeySetInfo,
  type KeyVersionInfo,
  type ResolvedSecret,
  type ScryptParams,
} from '../encoder/keys/index.js';
import { DATA_FILES } from '../server/data-dir.js';

/**
 * Where the key file is when `--file` is not given: the service's own, in its data directory
 * (`$DESFIRE_PACS_DATA_DIR`, else `./desfire-pacs-data`), so these commands manage the key sets
 * the service uses.
 */
export const DATA_DIR_ENV = 'DESFIRE_PACS_DATA_DIR';
const DEFAULT_DATA_DIR = 'desfire-pacs-data';
const KEY_FILE_NAME = DATA_FILES.keys;

export interface KeysIo {
  /** A line of normal output (stdout). */
  write(line: string): void;
  /** A line of error output (stderr). */
  error(line: string): void;
  /** Where secrets and the data directory are read from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Resolves relative paths and the default data directory (default `process.cwd()`). */
  readonly cwd?: string;
  /** scrypt cost of a new key file (default `DEFAULT_SCRYPT`; tests lower it). */
  readonly scrypt?: ScryptParams;
}

export const KEYS_USAGE = `usage: desfire-pacs keys <command> [options]

Manages the key sets in the encrypted key file. Prints names, versions and key refs, never a key.

commands:
  create <set>                  a new key set of random AES-128 masters, version 1 (current);
                                creates the key file if there is none
      --application-keys <n>    application keys 0..n-1 (1..${MAX_APPLICATION_KEYS}, default 3: application
                                master, door read, issuer write), besides the PICC master key
  add-version <set>             a new version of random masters, same keys as the current one
      --make-current            and make it the version new cards get
  set-current <set> <version>   the version new cards get
  list                          key sets, versions and key refs
      --json                    as JSON

options:
  --file <path>                 the key file (default: the service's, $${DATA_DIR_ENV}/${KEY_FILE_NAME}, else ${DEFAULT_DATA_DIR}/${KEY_FILE_NAME})
  --passphrase-env <NAME>       take the passphrase from the environment variable NAME
  -h, --help                    this help

The secret that unlocks the key file, first found wins:
  --passphrase-env NAME         a passphrase (scrypt), from the variable NAME
  ${KEK_ENV}              the key-encryption key itself, 64 hex digits (AES-256-GCM)
  ${PASSPHRASE_ENV}       a passphrase (scrypt; at least 12 characters for a new file)
A file made with a passphrase opens only with it, one made with ${KEK_ENV} only with that key.
`;

type Command =
  | { readonly name: 'create'; readonly keySet: string; readonly applicationKeys: number | undefined }
  | { readonly name: 'add-version'; readonly keySet: string; readonly makeCurrent: boolean }
  | { readonly name: 'set-current'; readonly keySet: string; readonly version: number }
  | { readonly name: 'list'; readonly json: boolean };

interface KeysOptions {
  readonly command: Command;
  readonly file: string;
  readonly passphraseEnv: string | undefined;
}

/** The usage error of one option: printed with the usage, exit code 2. */
class UsageError extends Error {}

/**
 * `desfire-pacs keys`: returns the exit code, 0 on success, 2 on a usage error, 1 when the key
 * file cannot be made, opened or changed (the message says why; it never holds a secret).
 */
export async function runKeys(args: string[], io: KeysIo): Promise<number> {
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  let options: KeysOptions;
  try {
    const parsed = parseKeysArgs(args, env, cwd);
    if (parsed === 'help') {
      io.write(KEYS_USAGE.trimEnd());
      return 0;
    }
    options = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.error(`desfire-pacs keys: ${error.message}`);
    io.error(KEYS_USAGE.trimEnd());
    return 2;
  }

  let store: FileKeyStore | undefined;
  /** A key file this run made: removed again if its first key set cannot be made, so no empty file is left locked. */
  let madeFile: string | undefined;
  try {
    const { secret, source } = keyFileSecret(env, options.file, { passphraseEnv: options.passphraseEnv });
    const { command, file } = options;
    if (command.name === 'create' && !existsSync(file)) {
      store = await FileKeyStore.create(file, secret, { scrypt: io.scrypt });
      madeFile = file;
      io.write(`new key file ${file} (mode 0600), locked with ${secret.kind === 'kek' ? 'the key-encryption key' : 'the passphrase'} from ${source}`);
    } else {
      store = await FileKeyStore.open(file, secret);
    }
    switch (command.name) {
      case 'create': {
        let info: KeySetInfo;
        try {
          info = await store.createKeySet(command.keySet, { applicationKeys: command.applicationKeys });
        } catch (error) {
          if (madeFile !== undefined) {
            await rm(madeFile, { force: true });
            io.error(`the new key file ${madeFile} was removed again`);
          }
          throw error;
        }
        io.write(`key set "${info.name}" created: ${describeVersion(info.versions[0], info.currentVersion)}`);
        break;
      }
      case 'add-version': {
        const version = await store.addVersion(command.keySet, { makeCurrent: command.makeCurrent });
        const current = await store.currentVersion(command.keySet);
        io.write(`key set "${command.keySet}": ${describeVersion(version, current)}`);
        if (!command.makeCurrent) io.write(`the current version stays ${current}; make the new one current with: desfire-pacs keys set-current ${command.keySet} ${version.version}`);
        break;
      }
      case 'set-current': {
        await store.setCurrentVersion(command.keySet, command.version);
        io.write(`key set "${command.keySet}": version ${command.version} is now current`);
        break;
      }
      case 'list': {
        const sets = await store.listKeySets();
        if (command.json) io.write(JSON.stringify({ file, keySets: sets }, null, 2));
        else printList(io, file, sets);
        break;
      }
    }
    return 0;
  } catch (error) {
    if (!isKeyStoreError(error)) throw error;
    io.error(`desfire-pacs keys: ${error.message}`);
    if (error.code === 'FILE_NOT_FOUND') io.error('create one with: desfire-pacs keys create <set>');
    return 1;
  } finally {
    await store?.close();
  }
}

/** The key file when `--file` is not given. */
export function defaultKeyFile(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  return resolve(cwd, env[DATA_DIR_ENV] || DEFAULT_DATA_DIR, KEY_FILE_NAME);
}

/**
 * The key file's secret: from the environment when one is set there; otherwise, for a service's
 * development data directory, the KEK the service keeps beside the key file.
 */
export function keyFileSecret(env: Readonly<Record<string, string | undefined>>, keyFile: string, options: { passphraseEnv?: string } = {}): ResolvedSecret {
  const kekFile = join(dirname(keyFile), DATA_FILES.kek);
  if (options.passphraseEnv !== undefined || env[KEK_ENV] || env[PASSPHRASE_ENV] || !existsSync(kekFile)) return secretFromEnvironment(env, options);
  return { secret: { kind: 'kek', kek: parseKek(readFileSync(kekFile, 'utf8'), kekFile) }, source: kekFile };
}

function parseKeysArgs(args: string[], env: Readonly<Record<string, string | undefined>>, cwd: string): KeysOptions | 'help' {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        file: { type: 'string' },
        'passphrase-env': { type: 'string' },
        'application-keys': { type: 'string' },
        'make-current': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';

  const [name, ...rest] = positionals;
  const only = (allowed: readonly string[]) => {
    const given = (['application-keys', 'make-current', 'json'] as const).filter((o) => values[o] !== undefined && !allowed.includes(o));
    if (given.length > 0) throw new UsageError(`--${given[0]} does not apply to "${name}"`);
  };
  const arity = (count: number, what: string) => {
    if (rest.length !== count) throw new UsageError(`"${name}" takes ${what}`);
  };
  let command: Command;
  switch (name) {
    case 'create': {
      arity(1, 'one key set name');
      only(['application-keys']);
      const text = values['application-keys'];
      const applicationKeys = text === undefined ? undefined : Number(text);
      if (applicationKeys !== undefined && (!/^\d+$/.test(text!) || applicationKeys < 1 || applicationKeys > MAX_APPLICATION_KEYS)) {
        throw new UsageError(`--application-keys must be an integer from 1 to ${MAX_APPLICATION_KEYS}, got "${text}"`);
      }
      command = { name, keySet: rest[0], applicationKeys };
      break;
    }
    case 'add-version':
      arity(1, 'one key set name');
      only(['make-current']);
      command = { name, keySet: rest[0], makeCurrent: values['make-current'] ?? false };
      break;
    case 'set-current': {
      arity(2, 'a key set name and a version');
      only([]);
      const version = /^\d+$/.test(rest[1]) ? Number(rest[1]) : NaN;
      if (!(version >= 1 && version <= MAX_KEY_VERSION)) throw new UsageError(`the version must be an integer from 1 to ${MAX_KEY_VERSION}, got "${rest[1]}"`);
      command = { name, keySet: rest[0], version };
      break;
    }
    case 'list':
      arity(0, 'no arguments');
      only(['json']);
      command = { name, json: values.json ?? false };
      break;
    case undefined:
      throw new UsageError('a command is needed: create, add-version, set-current or list');
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
  if (values.file === '') throw new UsageError('--file needs a file name');
  if (values['passphrase-env'] === '') throw new UsageError('--passphrase-env needs a variable name');
  const file = values.file !== undefined ? resolve(cwd, values.file) : defaultKeyFile(env, cwd);
  return { command, file, passphraseEnv: values['passphrase-env'] };
}

function printList(io: KeysIo, file: string, sets: readonly KeySetInfo[]): void {
  io.write(`key file ${file}`);
  if (sets.length === 0) {
    io.write('no key sets yet; make one with: desfire-pacs keys create <set>');
    return;
  }
  for (const set of sets) {
    io.write(`${set.name}: current version ${set.currentVersion}, ${set.versions.length} version${set.versions.length === 1 ? '' : 's'}`);
    for (const version of set.versions) io.write(`  ${describeVersion(version, set.currentVersion)}`);
  }
}

function describeVersion(version: KeyVersionInfo, current: number): string {
  return `version ${version.version}${version.version === current ? ' (current)' : ''}, created ${version.createdAt}, keys ${version.keyRefs.map(describeRef).join(', ')}`;
}

function describeRef(ref: KeyRef): string {
  return ref === 'picc' ? 'PICC master' : String(ref);
}
