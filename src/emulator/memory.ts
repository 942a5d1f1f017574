import { keyLength } from '../desfire/crypto/key-type.js';
import { DesfireError } from '../desfire/errors.js';
import { Status } from '../desfire/status.js';
import { CAPACITY_BYTES, FileType, type Application, type CardFile, type PiccState } from './model.js';

/**
 * Capacity accounting. NXP does not publish the EV3's exact allocation, so this is a documented
 * model with the card's known shape: NV memory is handed out in 32-byte blocks, some of it is
 * reserved for the PICC itself, every application costs a header plus its keys, backup files
 * take their size twice (mirror), value and transaction-MAC files a fixed amount.
 */
export const ALLOCATION_BLOCK = 32;
/** Bytes the PICC keeps for itself (master key, configuration, directory). */
export const PICC_RESERVE = 256;
const APPLICATION_HEADER = 64;
const VALUE_FILE_SIZE = 32;
const TRANSACTION_MAC_FILE_SIZE = 64;

function blocks(bytes: number): number {
  return Math.ceil(bytes / ALLOCATION_BLOCK) * ALLOCATION_BLOCK;
}

export function fileFootprint(file: CardFile): number {
  switch (file.type) {
    case FileType.STANDARD:
      return blocks(file.data.length);
    case FileType.BACKUP:
      return 2 * blocks(file.data.length);
    case FileType.VALUE:
      return VALUE_FILE_SIZE;
    case FileType.LINEAR_RECORD:
    case FileType.CYCLIC_RECORD:
      return blocks(file.recordSize * file.maxRecords);
    case FileType.TRANSACTION_MAC:
      return TRANSACTION_MAC_FILE_SIZE;
  }
}

/** An application's header and keys, without files. */
export function applicationBaseFootprint(keyCount: number, keyType: Application['keyType']): number {
  return APPLICATION_HEADER + blocks(keyCount * (keyLength(keyType) + 1));
}

export function applicationFootprint(app: Application): number {
  let total = applicationBaseFootprint(app.keys.length, app.keyType);
  for (const file of app.files.values()) total += fileFootprint(file);
  return total;
}

export function freeMemory(picc: PiccState): number {
  let used = PICC_RESERVE;
  for (const app of picc.applications.values()) used += applicationFootprint(app);
  return Math.max(0, CAPACITY_BYTES[picc.capacity] - used);
}

/** OUT_OF_EEPROM_ERROR unless `bytes` more fit on the card. */
export function requireFreeMemory(picc: PiccState, bytes: number): void {
  const free = freeMemory(picc);
  if (bytes > free) throw new DesfireError(Status.OUT_OF_EEPROM_ERROR, `needs ${bytes} bytes, ${free} free`);
}
