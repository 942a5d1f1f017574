import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FREE_ACCESS } from '../../../src/desfire/access-rights.js';
import type { Transport } from '../../../src/desfire/transport.js';
import { DesfireClient } from '../../../src/encoder/client/desfire-client.js';
import { isVirtualCardStoreError, type VirtualCardStoreError } from '../../../src/server/emulator/virtual-card-store.js';

/** A temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'virtual-cards-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const AID = 0x0a0b0c;
const FILE_NO = 1;
const FILE_SIZE = 16;
const FREE = { read: FREE_ACCESS, write: FREE_ACCESS, readWrite: FREE_ACCESS, change: FREE_ACCESS };

/** Encodes the card through the reader side: an application with a free standard file holding `data` (16 bytes). */
export async function writeTestFile(transport: Transport, data: Uint8Array): Promise<void> {
  const client = new DesfireClient(transport);
  await client.createApplication({ aid: AID, keySettings: 0x0f, keyType: 'aes', keyCount: 1 });
  await client.selectApplication(AID);
  await client.createStdDataFile(FILE_NO, 'plain', FREE, FILE_SIZE);
  await client.writeData(FILE_NO, 0, data, 'plain');
}

/** What `writeTestFile` wrote, read back through the reader side. */
export async function readTestFile(transport: Transport): Promise<Uint8Array> {
  const client = new DesfireClient(transport);
  await client.selectApplication(AID);
  return client.readData(FILE_NO, 0, FILE_SIZE, 'plain');
}

export const testData = (seed: number): Uint8Array => Uint8Array.from({ length: FILE_SIZE }, (_, i) => (seed + i) & 0xff);

/** The store error `fn` throws or rejects with (anything else fails the test). */
export async function storeError(fn: () => unknown): Promise<VirtualCardStoreError> {
  try {
    await fn();
  } catch (e) {
    if (isVirtualCardStoreError(e)) return e;
    throw e;
  }
  throw new Error('expected a VirtualCardStoreError, nothing was thrown');
}

export const GET_VERSION = Uint8Array.of(0x90, 0x60, 0x00, 0x00, 0x00);
export const ADDITIONAL_FRAME = Uint8Array.of(0x90, 0xaf, 0x00, 0x00, 0x00);
