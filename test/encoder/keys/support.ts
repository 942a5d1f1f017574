import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { toHex } from '../../../src/desfire/bytes.js';
import { isKeyStoreError, type KeyStoreErrorCode, type ScryptParams } from '../../../src/encoder/keys/index.js';

/** scrypt as cheap as it gets: tests open key files hundreds of times. */
export const FAST_SCRYPT: ScryptParams = { N: 16, r: 1, p: 1 };
export const PASSPHRASE = 'correct horse battery staple';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-keys-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A random source that records what it handed out, so a test knows the masters drawn. */
export function recordingRandom(): { random: (length: number) => Uint8Array; drawn: Uint8Array[] } {
  const drawn: Uint8Array[] = [];
  let counter = 0;
  return {
    drawn,
    random: (length) => {
      // Distinct, recognisable bytes; a copy is kept because the store wipes what it is given.
      const bytes = Uint8Array.from({ length }, (_, i) => (0x5a + 31 * counter + 7 * i) & 0xff);
      counter++;
      drawn.push(bytes.slice());
      return bytes;
    },
  };
}

/** Rejects with a KeyStoreError of `code`; returns it for further checks. */
export async function rejectsWith(promise: Promise<unknown>, code: KeyStoreErrorCode): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (!isKeyStoreError(error)) throw error;
    expect(error.code).toBe(code);
    return error;
  }
  throw new Error(`expected a KeyStoreError ${code}, got success`);
}

/** Every way a master could show up in text: hex (both cases) and base64. */
export function secretSpellings(masters: readonly Uint8Array[]): string[] {
  return masters.flatMap((m) => [toHex(m), toHex(m).toUpperCase(), Buffer.from(m).toString('base64')]);
}
