import { keyLength, type KeyType } from './crypto/key-type.js';

/**
 * How much card memory things take: a documented model, as NXP does not publish the EV3's exact
 * allocation. Memory is handed out in 32-byte blocks; the PICC keeps some for itself; an application
 * costs a header plus its keys (key bytes + version byte each); a standard file its size, a backup
 * file twice that (mirror), a value file and a transaction-MAC file a fixed amount, a record file
 * record size × records. The virtual card accounts memory with it and profiles are checked with it;
 * a real card may differ by a few blocks either way.
 */
export const ALLOCATION_BLOCK = 32;
/** Bytes the PICC keeps for itself (master key, configuration, directory). */
export const PICC_RESERVE = 256;
export const APPLICATION_HEADER = 64;
export const VALUE_FILE_SIZE = 32;
export const TRANSACTION_MAC_FILE_SIZE = 64;

/** Card memory of the EV3 sizes. */
export const CAPACITY_BYTES = { '2k': 2048, '4k': 4096, '8k': 8192 } as const;

export function allocationBlocks(bytes: number): number {
  return Math.ceil(bytes / ALLOCATION_BLOCK) * ALLOCATION_BLOCK;
}

export function dataFileFootprint(size: number, backup: boolean): number {
  return (backup ? 2 : 1) * allocationBlocks(size);
}

export function recordFileFootprint(recordSize: number, maxRecords: number): number {
  return allocationBlocks(recordSize * maxRecords);
}

/** An application's header and keys, without files. */
export function applicationBaseFootprint(keyCount: number, keyType: KeyType): number {
  return APPLICATION_HEADER + allocationBlocks(keyCount * (keyLength(keyType) + 1));
}
