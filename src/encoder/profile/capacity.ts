import { applicationBaseFootprint as baseFootprint, CAPACITY_BYTES, dataFileFootprint, PICC_RESERVE, recordFileFootprint, VALUE_FILE_SIZE } from '../../desfire/capacity-model.js';
import { CardCapacity, FileType, type ApplicationSpec, type FileSpec } from '../../gen/desfirepacs/v1/profile_pb.js';

/**
 * How much card memory a profile takes, with the model the virtual card accounts memory with
 * (src/desfire/capacity-model.ts): an estimate, as NXP does not publish the EV3's allocation, so a
 * profile should leave some room.
 */
export { PICC_RESERVE };

/** Card memory by capacity; unspecified is the smallest EV3, 2 KB. */
export function capacityBytes(capacity: CardCapacity): number {
  switch (capacity) {
    case CardCapacity.CARD_CAPACITY_4K:
      return CAPACITY_BYTES['4k'];
    case CardCapacity.CARD_CAPACITY_8K:
      return CAPACITY_BYTES['8k'];
    default:
      return CAPACITY_BYTES['2k'];
  }
}

export function capacityName(capacity: CardCapacity): string {
  return `${capacityBytes(capacity) / 1024} KB`;
}

/** A file's footprint; 0 for a file whose type or sizes are not set (validation reports those). */
export function fileFootprint(file: FileSpec): number {
  switch (file.type) {
    case FileType.STANDARD:
    case FileType.BACKUP:
      return dataFileFootprint(file.size, file.type === FileType.BACKUP);
    case FileType.VALUE:
      return VALUE_FILE_SIZE;
    case FileType.LINEAR_RECORD:
    case FileType.CYCLIC_RECORD:
      return file.record ? recordFileFootprint(file.record.recordSize, file.record.maxRecords) : 0;
    default:
      return 0;
  }
}

/** An application's header and AES keys, without files. */
export function applicationBaseFootprint(keyCount: number): number {
  return baseFootprint(keyCount, 'aes');
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
