import {
  allocationBlocks,
  APPLICATION_HEADER,
  applicationBaseFootprint as plainApplicationFootprint,
  dataFileFootprint,
  PICC_RESERVE,
  recordFileFootprint,
  TRANSACTION_MAC_FILE_SIZE,
  VALUE_FILE_SIZE,
} from '../desfire/capacity-model.js';
import { DesfireError } from '../desfire/errors.js';
import { Status } from '../desfire/status.js';
import { CAPACITY_BYTES, FileType, type Application, type CardFile, type PiccState } from './model.js';

/** Capacity accounting with the shared model (src/desfire/capacity-model.ts). */

export function fileFootprint(file: CardFile): number {
  switch (file.type) {
    case FileType.STANDARD:
    case FileType.BACKUP:
      return dataFileFootprint(file.data.length, file.type === FileType.BACKUP);
    case FileType.VALUE:
      return VALUE_FILE_SIZE;
    case FileType.LINEAR_RECORD:
    case FileType.CYCLIC_RECORD:
      return recordFileFootprint(file.recordSize, file.maxRecords);
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
  if (keySets) return APPLICATION_HEADER + allocationBlocks(keySets.count * keyCount * (keySets.maxKeySize + 1));
  return plainApplicationFootprint(keyCount, keyType);
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
