import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { RandomSource } from '../../desfire/random.js';
import { KeyStoreError } from './errors.js';
import { kekFor, newKek, openPayload, parseKeyFile, sealPayload, writeFileAtomic, type Kek, type KeyFileSecret, type ScryptParams } from './key-file.js';
import { KeyRing, type Change } from './key-ring.js';
import type { KeyUseListener } from './key-store.js';
import { RingKeyStore } from './ring-key-store.js';

export interface FileKeyStoreOptions {
  /** scrypt cost of a new file (default `DEFAULT_SCRYPT`); an existing file says its own. Tests lower it. */
  readonly scrypt?: ScryptParams;
  /** Where new masters come from (default `crypto.randomBytes`). */
  readonly random?: RandomSource;
  /** The clock that stamps new versions. */
  readonly now?: () => Date;
  /** Told of every card key handed out (audit). */
  readonly onKeyUse?: KeyUseListener;
}

/**
 * The embedded key store: masters in an encrypted key file (format in `key-file.ts`), held in
 * memory while open. Every change is written to the file before anyone sees it (a failed write
 * changes nothing), as a whole new file renamed over the old one, mode 0600. Changes are
 * serialised in this process; a file changed by another process since it was read is not
 * overwritten (FILE_CHANGED): open it again and redo the change.
 */
export class FileKeyStore extends RingKeyStore {
  readonly path: string;
  readonly #kek: Kek;
  /** The file's text as we last read or wrote it. */
  #text: string;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, ring: KeyRing, kek: Kek, text: string, options: FileKeyStoreOptions) {
    super(ring, options);
    this.path = path;
    this.#kek = kek;
    this.#text = text;
  }

  /**
   * Makes a new key file holding no key set yet (FILE_EXISTS if `path` exists); its directory is
   * created (mode 0700) if missing. A passphrase gets a fresh salt and `options.scrypt`.
   */
  static async create(path: string, secret: KeyFileSecret, options: FileKeyStoreOptions = {}): Promise<FileKeyStore> {
    const file = resolve(path);
    const kek = await newKek(secret, options.scrypt);
    const ring = new KeyRing(options.random);
    const payload = ring.encodePayload();
    const text = sealPayload(payload, kek);
    payload.fill(0);
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFileAtomic(file, text, { exclusive: true });
    } catch (error) {
      kek.key.fill(0);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyStoreError('FILE_EXISTS', `${file} already exists`, { cause: error });
      throw ioError(`cannot write ${file}`, error);
    }
    return new FileKeyStore(file, ring, kek, text, options);
  }

  /** Opens a key file: WRONG_SECRET_OR_TAMPERED unless the secret is right and the file intact. */
  static async open(path: string, secret: KeyFileSecret, options: FileKeyStoreOptions = {}): Promise<FileKeyStore> {
    const file = resolve(path);
    const text = await readText(file);
    const parsed = parseKeyFile(text);
    const kek = await kekFor(parsed, secret);
    let payload: Uint8Array | undefined;
    try {
      payload = openPayload(parsed, kek);
      const ring = KeyRing.decodePayload(payload, options.random);
      return new FileKeyStore(file, ring, kek, text, options);
    } catch (error) {
      kek.key.fill(0);
      throw error;
    } finally {
      payload?.fill(0);
    }
  }

  /** Waits for changes under way, then wipes the masters and the KEK. */
  async close(): Promise<void> {
    await this.#queue.catch(() => {});
    if (this.ring.closed) return;
    this.ring.wipe();
    this.#kek.key.fill(0);
  }

  /** Prepares a change, writes the file as it will be, and only then applies it in memory. */
  protected commit<T>(prepare: () => Change<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const change = prepare();
      let text: string;
      change.apply();
      const payload = this.ring.encodePayload();
      change.revert();
      try {
        text = sealPayload(payload, this.#kek);
      } finally {
        payload.fill(0);
      }
      try {
        await this.#write(text);
      } catch (error) {
        change.discard();
        throw error;
      }
      change.apply();
      return change.result;
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  async #write(text: string): Promise<void> {
    let current: string;
    try {
      current = (await readFile(this.path)).toString('latin1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyStoreError('FILE_CHANGED', `${this.path} was removed since it was opened; nothing written`, { cause: error });
      throw ioError(`cannot read ${this.path}`, error);
    }
    // Our files are ASCII, so comparing byte strings compares the files exactly.
    if (current !== this.#text) throw new KeyStoreError('FILE_CHANGED', `${this.path} was changed by someone else since it was opened; nothing written, open it again`);
    try {
      await writeFileAtomic(this.path, text);
    } catch (error) {
      throw ioError(`cannot write ${this.path}`, error);
    }
    this.#text = text;
  }
}

async function readText(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyStoreError('FILE_NOT_FOUND', `no key file ${file}`, { cause: error });
    throw ioError(`cannot read ${file}`, error);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new KeyStoreError('MALFORMED_FILE', `not a valid key file: ${file} is not UTF-8 text`, { cause: error });
  }
}

function ioError(what: string, error: unknown): KeyStoreError {
  const code = (error as NodeJS.ErrnoException).code;
  return new KeyStoreError('IO_ERROR', `${what}${code ? ` (${code})` : ''}`, { cause: error });
}
