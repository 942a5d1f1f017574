import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommMode } from '../../../src/gen/desfirepacs/v1/desfire_pb.js';
import { ApplicationSpecSchema, FileSpecSchema, FileType, type ApplicationSpec } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import { applicationFootprint, capacityBytes, loadProfile } from '../../../src/encoder/profile/index.js';
import * as emulatorMemory from '../../../src/emulator/memory.js';
import { CAPACITY_BYTES, FileType as CardFileType, type Application, type CardFile } from '../../../src/emulator/model.js';
import { CardCapacity } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import { genericProfileText } from './support.js';

/**
 * The encoder's capacity estimate restates the virtual card's memory model (the encoder may not
 * import the emulator). Tests may join the two: this one fails when they drift apart.
 */

const ACCESS = { read: 0xe, write: 0xe, readWrite: 0xe, change: 0xe };

/** The same application as the virtual card would hold it. */
function asCardApplication(spec: ApplicationSpec): Application {
  const files = new Map<number, CardFile>();
  spec.files.forEach((f, i) => {
    const base = { fileNo: i, commMode: 'plain' as const, access: ACCESS };
    switch (f.type) {
      case FileType.STANDARD:
      case FileType.BACKUP:
        files.set(i, { ...base, type: f.type === FileType.STANDARD ? CardFileType.STANDARD : CardFileType.BACKUP, data: new Uint8Array(f.size) });
        break;
      case FileType.VALUE:
        files.set(i, { ...base, type: CardFileType.VALUE, lowerLimit: 0, upperLimit: 0, value: 0, limitedCreditEnabled: false, freeGetValue: false, limitedCreditValue: 0 });
        break;
      default:
        files.set(i, {
          ...base,
          type: f.type === FileType.LINEAR_RECORD ? CardFileType.LINEAR_RECORD : CardFileType.CYCLIC_RECORD,
          recordSize: f.record!.recordSize,
          maxRecords: f.record!.maxRecords,
          records: [],
        });
    }
  });
  return {
    aid: spec.aid,
    keySettings: 0x0f,
    keyType: 'aes',
    keys: Array.from({ length: spec.keyCount }, () => ({ key: new Uint8Array(16), version: 0 })),
    files,
  };
}

describe('capacity estimate', () => {
  it('maps the profile capacities to the card sizes', () => {
    expect(capacityBytes(CardCapacity.CARD_CAPACITY_2K)).toBe(CAPACITY_BYTES['2k']);
    expect(capacityBytes(CardCapacity.CARD_CAPACITY_4K)).toBe(CAPACITY_BYTES['4k']);
    expect(capacityBytes(CardCapacity.CARD_CAPACITY_8K)).toBe(CAPACITY_BYTES['8k']);
    expect(capacityBytes(CardCapacity.CARD_CAPACITY_UNSPECIFIED)).toBe(2048);
  });

  it('gives the shipped application the footprint the virtual card gives it', () => {
    const [app] = loadProfile(genericProfileText(), 'yaml').applications;
    expect(applicationFootprint(app)).toBe(emulatorMemory.applicationFootprint(asCardApplication(app)));
  });

  it('agrees with the virtual card on any application shape', () => {
    const file = fc.oneof(
      fc.record({ type: fc.constantFrom(FileType.STANDARD, FileType.BACKUP), size: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ type: fc.constant(FileType.VALUE) }),
      fc.record({
        type: fc.constantFrom(FileType.LINEAR_RECORD, FileType.CYCLIC_RECORD),
        record: fc.record({ recordSize: fc.integer({ min: 1, max: 100 }), maxRecords: fc.integer({ min: 2, max: 50 }) }),
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 14 }), fc.array(file, { maxLength: 8 }), (keyCount, files) => {
        const spec = create(ApplicationSpecSchema, {
          aid: 1,
          keyCount,
          files: files.map((f, i) => create(FileSpecSchema, { number: i, commMode: CommMode.PLAIN, ...f })),
        });
        expect(applicationFootprint(spec)).toBe(emulatorMemory.applicationFootprint(asCardApplication(spec)));
      }),
      { numRuns: 200 },
    );
  });
});
