import { keyLength } from '../../desfire/crypto/key-type.js';
import { CardCapacity, FileType, type ApplicationSpec, type FileSpec } from '../../gen/desfirepacs/v1/profile_pb.js';

/**
 * How much card memory a profile takes: an ESTIMATE. NXP does not publish the EV3's exact
 * allocation; this is the documented model the virtual card uses (src/emulator/memory.ts):
 * memory is handed out in 32-byte blocks, the PICC keeps 256 bytes for itself, an application
 * costs a 64-byte header plus its keys (key bytes + version byte each, in blocks), a standard
 * file its size in blocks, a backup file twice that, a value file 32 bytes, a record file its
 * record size × record count in blocks. A real card may differ by a few blocks either way, so a
 * profile should leave some room.
 *
 * The same rule is needed by the emulator and by profile validation; the encoder may not import
 * the emulator, so it is restated here, and test/encoder/profile/capacity.test.ts checks the two
 * agree. It belongs in src/desfire for both.
 */
export const ALLOCATION_BLOCK = 32;
export const PICC_RESERVE = 256;
export const APPLICATION_HEADER = 64;
export const VALUE_FILE_FOOTPRINT = 32;

/** Card memory by capacity; unspecified is the smallest EV3, 2 KB. */
export function capacityBytes(capacity: CardCapacity): number {
  switch (capacity) {
    case CardCapacity.CARD_CAPACITY_4K:
      return 4096;
    case CardCapacity.CARD_CAPACITY_8K:
      return 8192;
    default:
      return 2048;
  }
}

export function capacityName(capacity: CardCapacity): string {
  return `${capacityBytes(capacity) / 1024} KB`;
}

function blocks(bytes: number): number {
  return Math.ceil(bytes / ALLOCATION_BLOCK) * ALLOCATION_BLOCK;
}

/** A file's footprint; 0 for a file whose type or sizes are not set (validation reports those). */
export function fileFootprint(file: FileSpec): number {
  switch (file.type) {
    case FileType.STANDARD:
      return blocks(file.size);
    case FileType.BACKUP:
      return 2 * blocks(file.size);
    case FileType.VALUE:
      return VALUE_FILE_FOOTPRINT;
    case FileType.LINEAR_RECORD:
    case FileType.CYCLIC_RECORD:
      return file.record ? blocks(file.record.recordSize * file.record.maxRecords) : 0;
    default:
      return 0;
  }
}

/** An application's header and AES keys, without files. */
export function applicationBaseFootprint(keyCount: number): number {
  return APPLICATION_HEADER + blocks(keyCount * (keyLength('aes') + 1));
}

export function applicationFootprint(app: ApplicationSpec): number {
  let total = applicationBaseFootprint(app.keyCount);
  for (const file of app.files) total += fileFootprint(file);
  return total;
}

/** Bytes the whole profile takes on a card, PICC reserve included. */
export function profileFootprint(applications: readonly ApplicationSpec[]): number {
  let total = PICC_RESERVE;
  for (const app of applications) total += applicationFootprint(app);
  return total;
}
