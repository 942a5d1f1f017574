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

/**
 * An application's header and keys, without files. With key sets (judgement, in the spirit of this
 * model: MaxKeySize is fixed at CreateApplication so that a key set of any allowed type fits), every
 * key set is reserved at creation at MaxKeySize: NoKeySets × keys × (MaxKeySize + version byte),
 * whatever the key sets' current types, so InitializeKeySet and RollKeySet never need memory.
 */
export function applicationBaseFootprint(
  keyCount: number,
  keyType: Application['keyType'],
  keySets?: { readonly count: number; readonly maxKeySize: number },
): number {
  if (keySets) return APPLICATION_HEADER + blocks(keySets.count * keyCount * (keySets.maxKeySize + 1));
  return APPLICATION_HEADER + blocks(keyCount * (keyLength(keyType) + 1));
}

export function applicationFootprint(app: Application): number {
  let total = applicationBaseFootprint(app.keys.length, app.keyType, app.keySets);
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
