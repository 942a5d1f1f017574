import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, EMPTY, int32LE, uintLE } from '../../src/desfire/bytes.js';
import type { CommMode } from '../../src/desfire/comm-mode.js';
import { CommandCode } from '../../src/desfire/commands.js';
import type { KeyType } from '../../src/desfire/crypto/key-type.js';
import { isDesfireError } from '../../src/desfire/errors.js';
import { exportImage, importImage } from '../../src/emulator/image.js';
import { FileType } from '../../src/emulator/model.js';
import {
  authenticateIn,
  dataFileParams,
  dataHeader,
  fileModes,
  keySettings2,
  maced,
  recordFileParams,
  rights,
  TestReader,
  valueFileParams,
  type SessionGeneration,
} from './support/harness.js';
import { brokenInvariants } from './support/invariants.js';

// Random but well-formed command sequences, through real secure messaging: the card never throws,
// its invariants always hold, and its image reloads to an equal card. Refusals are expected and fine.

const AIDS = [0x000001, 0x000002];
const KEY_TYPES: KeyType[] = ['aes', '3k3des', '2k3des'];
const MODES: CommMode[] = ['plain', 'mac', 'full'];
const nibble = fc.constantFrom(0, 1, 0xe, 0xf);

const op = fc.oneof(
  fc.record({ kind: fc.constant('createApp' as const), aid: fc.constantFrom(...AIDS), keyType: fc.constantFrom(...KEY_TYPES), keys: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('select' as const), aid: fc.constantFrom(0, ...AIDS) }),
  fc.record({ kind: fc.constant('auth' as const), generation: fc.constantFrom<SessionGeneration>('d40', 'ev1', 'ev2', 'ev2'), keyNo: fc.constantFrom(0, 0, 1, 2) }),
  fc.record({
    kind: fc.constant('createFile' as const),
    type: fc.constantFrom(FileType.STANDARD, FileType.BACKUP, FileType.VALUE, FileType.LINEAR_RECORD, FileType.CYCLIC_RECORD),
    fileNo: fc.integer({ min: 0, max: 3 }),
    mode: fc.constantFrom(...MODES),
    access: fc.tuple(nibble, nibble, nibble, nibble),
    size: fc.integer({ min: 1, max: 90 }),
  }),
  fc.record({ kind: fc.constant('write' as const), fileNo: fc.integer({ min: 0, max: 3 }), offset: fc.integer({ min: 0, max: 40 }), data: fc.uint8Array({ minLength: 1, maxLength: 80 }), mode: fc.constantFrom(...MODES) }),
  fc.record({ kind: fc.constant('read' as const), fileNo: fc.integer({ min: 0, max: 3 }), offset: fc.integer({ min: 0, max: 40 }), length: fc.integer({ min: 0, max: 80 }), mode: fc.constantFrom(...MODES) }),
  fc.record({ kind: fc.constant('value' as const), cmd: fc.constantFrom(CommandCode.Credit, CommandCode.Debit, CommandCode.LimitedCredit, CommandCode.GetValue), fileNo: fc.integer({ min: 0, max: 3 }), amount: fc.integer({ min: -5, max: 500 }), mode: fc.constantFrom(...MODES) }),
  fc.record({ kind: fc.constant('record' as const), fileNo: fc.integer({ min: 0, max: 3 }), data: fc.uint8Array({ minLength: 1, maxLength: 12 }), mode: fc.constantFrom(...MODES) }),
  fc.record({ kind: fc.constant('simple' as const), cmd: fc.constantFrom(CommandCode.CommitTransaction, CommandCode.AbortTransaction, CommandCode.GetFileIDs, CommandCode.FreeMemory, CommandCode.GetVersion) }),
  fc.record({ kind: fc.constant('delete' as const), cmd: fc.constantFrom(CommandCode.DeleteFile, CommandCode.DeleteApplication, CommandCode.ClearRecordFile), target: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('power' as const) }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function createFileData(o: Extract<Op, { kind: 'createFile' }>): { cmd: number; data: Uint8Array } {
  const access = rights(...o.access);
  switch (o.type) {
    case FileType.STANDARD:
    case FileType.BACKUP:
      return { cmd: o.type === FileType.STANDARD ? CommandCode.CreateStdDataFile : CommandCode.CreateBackupDataFile, data: dataFileParams(o.fileNo, o.mode, access, o.size) };
    case FileType.VALUE:
      return { cmd: CommandCode.CreateValueFile, data: valueFileParams(o.fileNo, o.mode, access, -100, 1000, 10, 0x01) };
    default:
      return {
        cmd: o.type === FileType.LINEAR_RECORD ? CommandCode.CreateLinearRecordFile : CommandCode.CreateCyclicRecordFile,
        data: recordFileParams(o.fileNo, o.mode, access, 4, 3 + (o.size % 4)),
      };
  }
}

/** The level each reader selected last (AID, 0 = PICC). */
const selected = new WeakMap<TestReader, number>();

/** The comm mode of a file of the selected application, as a reader learns it from GetFileSettings; else a random guess. */
function modeOf(reader: TestReader, fileNo: number, guess: CommMode): CommMode {
  return reader.card.state.applications.get(selected.get(reader) ?? 0)?.files.get(fileNo)?.commMode ?? guess;
}

/** Runs one operation; the reader side may lose its session on any refusal, the card never throws. */
async function run(reader: TestReader, o: Op): Promise<void> {
  const channel = reader.channel;
  switch (o.kind) {
    case 'createApp':
      await reader.secure(CommandCode.CreateApplication, EMPTY, concat(uintLE(o.aid, 3), Uint8Array.of(0x0f, keySettings2(o.keyType, o.keys))), maced(channel));
      return;
    case 'select':
      if ((await reader.send(CommandCode.SelectApplication, uintLE(o.aid, 3))).status === 0) selected.set(reader, o.aid);
      reader.channel = undefined;
      return;
    case 'auth': {
      // The key type of the selected level: the reader knows what it selected.
      const app = reader.card.state.applications.get(selected.get(reader) ?? 0);
      await authenticateIn(reader, o.generation, app?.keyType ?? reader.card.state.masterKeyType, o.keyNo);
      return;
    }
    case 'createFile': {
      const { cmd, data } = createFileData(o);
      await reader.secure(cmd, EMPTY, data, maced(channel));
      return;
    }
    case 'write':
      await reader.secure(CommandCode.WriteData, dataHeader(o.fileNo, o.offset, o.data.length), o.data, fileModes(channel, modeOf(reader, o.fileNo, o.mode), 'write'));
      return;
    case 'read':
      await reader.secure(CommandCode.ReadData, dataHeader(o.fileNo, o.offset, o.length), EMPTY, fileModes(channel, modeOf(reader, o.fileNo, o.mode), 'read', o.length || undefined));
      return;
    case 'value': {
      const data = o.cmd === CommandCode.GetValue ? EMPTY : int32LE(o.amount);
      await reader.secure(o.cmd, Uint8Array.of(o.fileNo), data, fileModes(channel, modeOf(reader, o.fileNo, o.mode), o.cmd === CommandCode.GetValue ? 'read' : 'write', o.cmd === CommandCode.GetValue ? 4 : undefined));
      return;
    }
    case 'record':
      await reader.secure(CommandCode.WriteRecord, dataHeader(o.fileNo, 0, o.data.length), o.data, fileModes(channel, modeOf(reader, o.fileNo, o.mode), 'write'));
      return;
    case 'simple':
      await reader.secure(o.cmd, EMPTY, EMPTY, maced(channel));
      return;
    case 'delete': {
      const data = o.cmd === CommandCode.DeleteApplication ? uintLE(AIDS[o.target % AIDS.length], 3) : Uint8Array.of(o.target);
      await reader.secure(o.cmd, EMPTY, data, maced(channel));
      return;
    }
    case 'power':
      reader.card.powerOff();
      reader.card.powerOn();
      reader.channel = undefined;
      return;
  }
}

/** Two applications (AES, 3K3DES) and four files of every kind in the first, so that random operations find targets. */
async function prelude(reader: TestReader): Promise<void> {
  await authenticateIn(reader, 'ev1', 'des', 0);
  await run(reader, { kind: 'createApp', aid: AIDS[0], keyType: 'aes', keys: 3 });
  await run(reader, { kind: 'createApp', aid: AIDS[1], keyType: '3k3des', keys: 2 });
  await run(reader, { kind: 'select', aid: AIDS[0] });
  const files: Extract<Op, { kind: 'createFile' }>[] = [
    { kind: 'createFile', type: FileType.STANDARD, fileNo: 0, mode: 'plain', access: [0xe, 0xe, 0xe, 0xe], size: 40 },
    { kind: 'createFile', type: FileType.BACKUP, fileNo: 1, mode: 'mac', access: [1, 0, 0, 0], size: 70 },
    { kind: 'createFile', type: FileType.VALUE, fileNo: 2, mode: 'full', access: [1, 0, 0xe, 0], size: 1 },
    { kind: 'createFile', type: FileType.CYCLIC_RECORD, fileNo: 3, mode: 'full', access: [0xe, 0, 0, 0], size: 3 },
  ];
  for (const f of files) await run(reader, f);
  if (reader.card.state.applications.get(AIDS[0])?.files.size !== files.length) throw new Error('prelude did not create its files');
}

describe('random command sequences through secure messaging', () => {
  it('never throw out of the card, keep every invariant, and leave an image that reloads equal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.constantFrom('native', 'wrapped' as const), async (ops, style) => {
        const reader = new TestReader({ capacity: '2k' });
        reader.style = style;
        await prelude(reader);
        for (const o of ops) {
          try {
            await run(reader, o);
          } catch (e) {
            // Only the reader side may refuse (it cannot know every mode the card picks); never the card.
            if (!isDesfireError(e) || e.origin === 'card') throw e;
            reader.channel = undefined;
          }
          expect(brokenInvariants(reader.card.state)).toEqual([]);
        }
        const image = JSON.parse(JSON.stringify(exportImage(reader.card.state)));
        expect(exportImage(importImage(image))).toEqual(image);
      }),
      { numRuns: 120 },
    );
  });
});
