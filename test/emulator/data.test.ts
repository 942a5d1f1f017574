import { describe, expect, it } from 'vitest';
import { concat, EMPTY, int32LE, readInt32LE, toHex, uintLE } from '../../src/desfire/bytes.js';
import type { CommMode } from '../../src/desfire/comm-mode.js';
import { CommandCode } from '../../src/desfire/commands.js';
import type { KeyType } from '../../src/desfire/crypto/key-type.js';
import { Status } from '../../src/desfire/status.js';
import {
  authenticateIn,
  bytes,
  changeOtherKey,
  createAndSelectApplication,
  dataFileParams,
  dataHeader,
  fileModes,
  FREE,
  manage,
  NEVER,
  PLAIN,
  recordFileParams,
  rights,
  secureAccepting,
  type SessionGeneration,
  TestReader,
  valueFileParams,
  ZERO_KEY,
} from './support/harness.js';

const AID = 0x0a0b0c;
const STD = 1;
const BACKUP = 2;
const VALUE = 3;
const LINEAR = 4;
const CYCLIC = 5;

/** 100 bytes: more than one frame (59 native, 54 wrapped) both ways, in every mode. */
const LONG = Uint8Array.from({ length: 100 }, (_, i) => (i * 7 + 3) & 0xff);

// ---------------------------------------------------------------------------------------------
// Every comm mode in every session generation, natively and ISO-wrapped.

interface SessionKind {
  readonly name: string;
  readonly generation: SessionGeneration;
  /** The application's key type. */
  readonly appKeyType: KeyType;
  /** How the reader authenticates with key 1 (after `prepare`). */
  readonly authKeyType: KeyType;
  readonly authKey: Uint8Array;
  /** Runs once the application exists, authenticated with its master key in `generation` (to change key 1). */
  readonly prepare?: (reader: TestReader) => Promise<void>;
}

const KEY_2K3DES = bytes(0x10, 0x22, 0x34, 0x46, 0x58, 0x6a, 0x7c, 0x8e, 0x90, 0xa2, 0xb4, 0xc6, 0xd8, 0xea, 0xfc, 0x0e);

const SESSIONS: readonly SessionKind[] = [
  { name: 'd40, DES key in a 2K3DES application', generation: 'd40', appKeyType: '2k3des', authKeyType: 'des', authKey: ZERO_KEY.des },
  {
    name: 'd40, 2K3DES key',
    generation: 'd40',
    appKeyType: '2k3des',
    authKeyType: '2k3des',
    authKey: KEY_2K3DES,
    prepare: async (reader) => {
      expect(await changeOtherKey(reader, 1, '2k3des', KEY_2K3DES, ZERO_KEY['2k3des'])).toBe(Status.OPERATION_OK);
    },
  },
  { name: 'EV1, AES application', generation: 'ev1', appKeyType: 'aes', authKeyType: 'aes', authKey: ZERO_KEY.aes },
  { name: 'EV1, 3K3DES application', generation: 'ev1', appKeyType: '3k3des', authKeyType: '3k3des', authKey: ZERO_KEY['3k3des'] },
  { name: 'EV2, AES application', generation: 'ev2', appKeyType: 'aes', authKeyType: 'aes', authKey: ZERO_KEY.aes },
];

const MODES: readonly CommMode[] = ['plain', 'mac', 'full'];

/** An application (keys 0..3) with one file of each kind in `mode`, key 1 for every right; the reader authenticated with key 1. */
async function sessionFixture(session: SessionKind, mode: CommMode, style: 'native' | 'wrapped'): Promise<TestReader> {
  const reader = new TestReader();
  reader.style = style;
  await createAndSelectApplication(reader, AID, { keyType: session.appKeyType, keySettings: 0x0f });
  const masterKeyType = session.appKeyType === '2k3des' ? 'des' : session.appKeyType;
  expect(await authenticateIn(reader, session.generation, masterKeyType, 0)).toBe(Status.OPERATION_OK);
  await session.prepare?.(reader);
  const key1 = rights(1, 1, 1, 0);
  await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(STD, mode, key1, 128));
  await manage(reader, CommandCode.CreateBackupDataFile, dataFileParams(BACKUP, mode, key1, 128));
  await manage(reader, CommandCode.CreateValueFile, valueFileParams(VALUE, mode, key1, -100, 1000, 10, 0x01));
  await manage(reader, CommandCode.CreateLinearRecordFile, recordFileParams(LINEAR, mode, key1, 80, 4));
  await manage(reader, CommandCode.CreateCyclicRecordFile, recordFileParams(CYCLIC, mode, key1, 16, 3));
  expect(await authenticateIn(reader, session.generation, session.authKeyType, 1, session.authKey)).toBe(Status.OPERATION_OK);
  return reader;
}

function write(reader: TestReader, cmd: number, header: Uint8Array, data: Uint8Array, mode: CommMode): Promise<Uint8Array> {
  return reader.ok(cmd, header, data, fileModes(reader.channel, mode, 'write'));
}

function read(reader: TestReader, cmd: number, header: Uint8Array, mode: CommMode, length: number): Promise<Uint8Array> {
  return reader.ok(cmd, header, EMPTY, fileModes(reader.channel, mode, 'read', length));
}

async function commit(reader: TestReader): Promise<void> {
  const answer = await secureAccepting(reader, CommandCode.CommitTransaction, EMPTY, EMPTY, managementModes(reader), [Status.OPERATION_OK]);
  expect(answer.status).toBe(Status.OPERATION_OK);
}

function managementModes(reader: TestReader): { command: CommMode; answer: CommMode } {
  const generation = reader.channel?.generation;
  if (!generation || generation === 'd40') return PLAIN;
  return generation === 'ev1' ? { command: 'plain', answer: 'mac' } : { command: 'mac', answer: 'mac' };
}

describe('data in every comm mode and session generation', () => {
  for (const session of SESSIONS) {
    for (const mode of MODES) {
      for (const style of ['native', 'wrapped'] as const) {
        it(`${session.name}, ${mode} files, ${style}: chained WriteData/ReadData, backup, value and records`, async () => {
          const reader = await sessionFixture(session, mode, style);

          // Standard file: 100 bytes in one chained WriteData, back in one chained ReadData.
          await write(reader, CommandCode.WriteData, dataHeader(STD, 10, LONG.length), LONG, mode);
          expect(toHex(await read(reader, CommandCode.ReadData, dataHeader(STD, 10, LONG.length), mode, LONG.length))).toBe(toHex(LONG));
          const whole = await read(reader, CommandCode.ReadData, dataHeader(STD, 0, 0), mode, 128);
          expect(whole.length).toBe(128);
          expect(toHex(whole.subarray(10, 110))).toBe(toHex(LONG));

          // Backup file: invisible until committed.
          await write(reader, CommandCode.WriteData, dataHeader(BACKUP, 0, LONG.length), LONG, mode);
          expect(toHex(await read(reader, CommandCode.ReadData, dataHeader(BACKUP, 0, 4), mode, 4))).toBe('00000000');

          // Value file.
          await write(reader, CommandCode.Credit, bytes(VALUE), int32LE(25), mode);
          await write(reader, CommandCode.Debit, bytes(VALUE), int32LE(5), mode);
          expect(readInt32LE(await read(reader, CommandCode.GetValue, bytes(VALUE), mode, 4), 0)).toBe(10);

          // Record files: a chained 80-byte record, and a cyclic one.
          await write(reader, CommandCode.WriteRecord, dataHeader(LINEAR, 0, 80), LONG.subarray(0, 80), mode);
          await write(reader, CommandCode.WriteRecord, dataHeader(CYCLIC, 0, 16), LONG.subarray(0, 16), mode);

          await commit(reader);

          expect(toHex(await read(reader, CommandCode.ReadData, dataHeader(BACKUP, 0, LONG.length), mode, LONG.length))).toBe(toHex(LONG));
          expect(readInt32LE(await read(reader, CommandCode.GetValue, bytes(VALUE), mode, 4), 0)).toBe(30);
          expect(toHex(await read(reader, CommandCode.ReadRecords, dataHeader(LINEAR, 0, 1), mode, 80))).toBe(toHex(LONG.subarray(0, 80)));
          expect(toHex(await read(reader, CommandCode.ReadRecords, dataHeader(CYCLIC, 0, 0), mode, 16))).toBe(toHex(LONG.subarray(0, 16)));

          // LimitedCredit gives back what the last transaction debited; UpdateRecord (EV2 command, every session).
          await write(reader, CommandCode.LimitedCredit, bytes(VALUE), int32LE(5), mode);
          const update = concat(bytes(LINEAR), uintLE(0, 3), uintLE(70, 3), uintLE(10, 3));
          await write(reader, CommandCode.UpdateRecord, update, bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), mode);
          await commit(reader);
          expect(readInt32LE(await read(reader, CommandCode.GetValue, bytes(VALUE), mode, 4), 0)).toBe(35);
          const record = await read(reader, CommandCode.ReadRecords, dataHeader(LINEAR, 0, 1), mode, 80);
          expect(toHex(record.subarray(70))).toBe('0102030405060708090a');
        });
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Free access runs in plain inside a session.

describe('an operation granted through a free access right', () => {
  for (const generation of ['d40', 'ev1', 'ev2'] as const) {
    it(`runs in plain in a ${generation} session, whatever the file's mode`, async () => {
      const reader = new TestReader();
      const keyType: KeyType = generation === 'd40' ? '2k3des' : 'aes';
      await createAndSelectApplication(reader, AID, { keyType });
      const authType: KeyType = generation === 'd40' ? 'des' : 'aes';
      expect(await authenticateIn(reader, generation, authType, 0)).toBe(Status.OPERATION_OK);
      // Read and write free, Read&Write key 2, change key 0; the session holds key 0.
      await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(STD, 'full', rights(FREE, FREE, 2, 0), 80));
      await reader.ok(CommandCode.WriteData, dataHeader(STD, 0, LONG.length - 20), LONG.subarray(0, 80), fileModes(reader.channel, 'plain', 'write'));
      const back = await reader.ok(CommandCode.ReadData, dataHeader(STD, 0, 80), EMPTY, fileModes(reader.channel, 'plain', 'read'));
      expect(toHex(back)).toBe(toHex(LONG.subarray(0, 80)));
      // With the Read&Write key the file's own mode applies.
      expect(await authenticateIn(reader, generation, authType, 2)).toBe(Status.OPERATION_OK);
      const full = await reader.ok(CommandCode.ReadData, dataHeader(STD, 0, 80), EMPTY, fileModes(reader.channel, 'full', 'read', 80));
      expect(toHex(full)).toBe(toHex(LONG.subarray(0, 80)));
    });
  }

  it('GetValue with the free-GetValue flag runs without authentication and in plain inside a session', async () => {
    const reader = new TestReader();
    await createAndSelectApplication(reader, AID, { keyType: 'aes' });
    expect(await authenticateIn(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
    await manage(reader, CommandCode.CreateValueFile, valueFileParams(VALUE, 'full', rights(1, 1, 1, 0), 0, 100, 42, 0x02));
    expect(readInt32LE(await reader.ok(CommandCode.GetValue, bytes(VALUE), EMPTY, fileModes(reader.channel, 'plain', 'read')), 0)).toBe(42);
    reader.channel = undefined;
    await reader.send(CommandCode.SelectApplication, uintLE(AID, 3));
    expect(readInt32LE(await reader.ok(CommandCode.GetValue, bytes(VALUE), EMPTY, PLAIN), 0)).toBe(42);
  });
});

// ---------------------------------------------------------------------------------------------
// Every command's refusals, table-driven: a fresh card per case, files with free rights unless said.

interface Case {
  readonly name: string;
  /** Runs after the fixture (unauthenticated at application level). */
  readonly setup?: (reader: TestReader) => Promise<void>;
  readonly cmd: number;
  readonly data: Uint8Array;
  readonly expected: number;
}

/** Application (AES, keys 0..3, settings 0x0F) with free files of every kind, and key-1-only twins (file + 0x10). */
async function refusalFixture(): Promise<TestReader> {
  const reader = new TestReader();
  await createAndSelectApplication(reader, AID, { keyType: 'aes' });
  for (const [offset, access] of [[0, rights(FREE, FREE, FREE, FREE)], [0x10, rights(1, 1, 1, 0)]] as const) {
    await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(STD + offset, 'plain', access, 32));
    await manage(reader, CommandCode.CreateBackupDataFile, dataFileParams(BACKUP + offset, 'plain', access, 32));
    await manage(reader, CommandCode.CreateValueFile, valueFileParams(VALUE + offset, 'plain', access, 0, 100, 10, 0x01));
    await manage(reader, CommandCode.CreateLinearRecordFile, recordFileParams(LINEAR + offset, 'plain', access, 8, 2));
    await manage(reader, CommandCode.CreateCyclicRecordFile, recordFileParams(CYCLIC + offset, 'plain', access, 8, 3));
  }
  // Write-only and read-only variants.
  await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(0x08, 'plain', rights(NEVER, FREE, NEVER, NEVER), 8));
  await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(0x09, 'plain', rights(FREE, NEVER, NEVER, NEVER), 8));
  await manage(reader, CommandCode.CreateValueFile, valueFileParams(0x0a, 'plain', rights(FREE, FREE, NEVER, NEVER), 0, 100, 10, 0x00));
  reader.channel = undefined;
  await reader.send(CommandCode.SelectApplication, uintLE(AID, 3));
  return reader;
}

async function plain(reader: TestReader, cmd: number, data: Uint8Array): Promise<void> {
  const answer = await reader.send(cmd, data);
  if (answer.status !== Status.OPERATION_OK) throw new Error(`setup command 0x${cmd.toString(16)}: status 0x${answer.status.toString(16)}`);
}

const authKey2 = async (reader: TestReader) => {
  expect(await authenticateIn(reader, 'ev2', 'aes', 2)).toBe(Status.OPERATION_OK);
};

const CASES: readonly Case[] = [
  // ReadData
  { name: 'ReadData: whole file', cmd: CommandCode.ReadData, data: dataHeader(STD, 0, 0), expected: Status.OPERATION_OK },
  { name: 'ReadData: no such file', cmd: CommandCode.ReadData, data: dataHeader(0x1f, 0, 0), expected: Status.FILE_NOT_FOUND },
  { name: 'ReadData: a value file', cmd: CommandCode.ReadData, data: dataHeader(VALUE, 0, 0), expected: Status.PERMISSION_DENIED },
  { name: 'ReadData: offset at the end', cmd: CommandCode.ReadData, data: dataHeader(STD, 32, 0), expected: Status.BOUNDARY_ERROR },
  { name: 'ReadData: beyond the end', cmd: CommandCode.ReadData, data: dataHeader(STD, 30, 3), expected: Status.BOUNDARY_ERROR },
  { name: 'ReadData: header too short', cmd: CommandCode.ReadData, data: bytes(STD, 0, 0, 0), expected: Status.LENGTH_ERROR },
  { name: 'ReadData: data after the header', cmd: CommandCode.ReadData, data: concat(dataHeader(STD, 0, 1), bytes(0)), expected: Status.LENGTH_ERROR },
  { name: 'ReadData: key file without authentication', cmd: CommandCode.ReadData, data: dataHeader(STD + 0x10, 0, 0), expected: Status.AUTHENTICATION_ERROR },
  { name: 'ReadData: key file with the wrong key', setup: authKey2, cmd: CommandCode.ReadData, data: dataHeader(STD + 0x10, 0, 0), expected: Status.PERMISSION_DENIED },
  { name: 'ReadData: write-only file', cmd: CommandCode.ReadData, data: dataHeader(0x08, 0, 0), expected: Status.PERMISSION_DENIED },
  {
    name: 'ReadData: at PICC level',
    setup: (r) => plain(r, CommandCode.SelectApplication, uintLE(0, 3)),
    cmd: CommandCode.ReadData,
    data: dataHeader(STD, 0, 0),
    expected: Status.PERMISSION_DENIED,
  },
  // WriteData
  { name: 'WriteData: ok', cmd: CommandCode.WriteData, data: concat(dataHeader(STD, 30, 2), bytes(1, 2)), expected: Status.OPERATION_OK },
  { name: 'WriteData: beyond the end', cmd: CommandCode.WriteData, data: concat(dataHeader(STD, 31, 2), bytes(1, 2)), expected: Status.BOUNDARY_ERROR },
  { name: 'WriteData: length 0', cmd: CommandCode.WriteData, data: dataHeader(STD, 0, 0), expected: Status.PARAMETER_ERROR },
  { name: 'WriteData: fewer bytes than announced', cmd: CommandCode.WriteData, data: concat(dataHeader(STD, 0, 3), bytes(1, 2)), expected: Status.ADDITIONAL_FRAME },
  { name: 'WriteData: more bytes than announced', cmd: CommandCode.WriteData, data: concat(dataHeader(STD, 0, 1), bytes(1, 2)), expected: Status.LENGTH_ERROR },
  { name: 'WriteData: a record file', cmd: CommandCode.WriteData, data: concat(dataHeader(LINEAR, 0, 1), bytes(1)), expected: Status.PERMISSION_DENIED },
  { name: 'WriteData: read-only file', cmd: CommandCode.WriteData, data: concat(dataHeader(0x09, 0, 1), bytes(1)), expected: Status.PERMISSION_DENIED },
  { name: 'WriteData: key file without authentication', cmd: CommandCode.WriteData, data: concat(dataHeader(STD + 0x10, 0, 1), bytes(1)), expected: Status.AUTHENTICATION_ERROR },
  { name: 'WriteData: no such file', cmd: CommandCode.WriteData, data: concat(dataHeader(0x1e, 0, 1), bytes(1)), expected: Status.FILE_NOT_FOUND },
  // GetValue
  { name: 'GetValue: ok', cmd: CommandCode.GetValue, data: bytes(VALUE), expected: Status.OPERATION_OK },
  { name: 'GetValue: a standard file', cmd: CommandCode.GetValue, data: bytes(STD), expected: Status.PERMISSION_DENIED },
  { name: 'GetValue: no such file', cmd: CommandCode.GetValue, data: bytes(0x1d), expected: Status.FILE_NOT_FOUND },
  { name: 'GetValue: key file without authentication', cmd: CommandCode.GetValue, data: bytes(VALUE + 0x10), expected: Status.AUTHENTICATION_ERROR },
  { name: 'GetValue: extra data', cmd: CommandCode.GetValue, data: bytes(VALUE, 0), expected: Status.LENGTH_ERROR },
  // Credit
  { name: 'Credit: ok', cmd: CommandCode.Credit, data: concat(bytes(VALUE), int32LE(90)), expected: Status.OPERATION_OK },
  { name: 'Credit: above the upper limit', cmd: CommandCode.Credit, data: concat(bytes(VALUE), int32LE(91)), expected: Status.BOUNDARY_ERROR },
  { name: 'Credit: negative', cmd: CommandCode.Credit, data: concat(bytes(VALUE), int32LE(-1)), expected: Status.PARAMETER_ERROR },
  { name: 'Credit: three bytes', cmd: CommandCode.Credit, data: bytes(VALUE, 1, 0, 0), expected: Status.LENGTH_ERROR },
  { name: 'Credit: needs Read&Write', cmd: CommandCode.Credit, data: concat(bytes(0x0a), int32LE(1)), expected: Status.PERMISSION_DENIED },
  { name: 'Credit: a backup file', cmd: CommandCode.Credit, data: concat(bytes(BACKUP), int32LE(1)), expected: Status.PERMISSION_DENIED },
  { name: 'Credit: key file without authentication', cmd: CommandCode.Credit, data: concat(bytes(VALUE + 0x10), int32LE(1)), expected: Status.AUTHENTICATION_ERROR },
  // Debit
  { name: 'Debit: to the lower limit', cmd: CommandCode.Debit, data: concat(bytes(VALUE), int32LE(10)), expected: Status.OPERATION_OK },
  { name: 'Debit: below the lower limit', cmd: CommandCode.Debit, data: concat(bytes(VALUE), int32LE(11)), expected: Status.BOUNDARY_ERROR },
  { name: 'Debit: negative', cmd: CommandCode.Debit, data: concat(bytes(VALUE), int32LE(-5)), expected: Status.PARAMETER_ERROR },
  { name: 'Debit: with Read or Write only', cmd: CommandCode.Debit, data: concat(bytes(0x0a), int32LE(1)), expected: Status.OPERATION_OK },
  {
    name: 'Debit: against the value the transaction has so far',
    setup: (r) => plain(r, CommandCode.Credit, concat(bytes(VALUE), int32LE(7))),
    cmd: CommandCode.Debit,
    data: concat(bytes(VALUE), int32LE(17)),
    expected: Status.OPERATION_OK,
  },
  // LimitedCredit
  { name: 'LimitedCredit: nothing debited yet', cmd: CommandCode.LimitedCredit, data: concat(bytes(VALUE), int32LE(1)), expected: Status.BOUNDARY_ERROR },
  { name: 'LimitedCredit: not enabled', cmd: CommandCode.LimitedCredit, data: concat(bytes(0x0a), int32LE(0)), expected: Status.PERMISSION_DENIED },
  {
    name: 'LimitedCredit: up to the last debit',
    setup: async (r) => {
      await plain(r, CommandCode.Debit, concat(bytes(VALUE), int32LE(4)));
      await plain(r, CommandCode.CommitTransaction, EMPTY);
    },
    cmd: CommandCode.LimitedCredit,
    data: concat(bytes(VALUE), int32LE(4)),
    expected: Status.OPERATION_OK,
  },
  {
    name: 'LimitedCredit: above the last debit',
    setup: async (r) => {
      await plain(r, CommandCode.Debit, concat(bytes(VALUE), int32LE(4)));
      await plain(r, CommandCode.CommitTransaction, EMPTY);
    },
    cmd: CommandCode.LimitedCredit,
    data: concat(bytes(VALUE), int32LE(5)),
    expected: Status.BOUNDARY_ERROR,
  },
  {
    name: 'LimitedCredit: only once',
    setup: async (r) => {
      await plain(r, CommandCode.Debit, concat(bytes(VALUE), int32LE(4)));
      await plain(r, CommandCode.CommitTransaction, EMPTY);
      await plain(r, CommandCode.LimitedCredit, concat(bytes(VALUE), int32LE(1)));
      await plain(r, CommandCode.CommitTransaction, EMPTY);
    },
    cmd: CommandCode.LimitedCredit,
    data: concat(bytes(VALUE), int32LE(1)),
    expected: Status.BOUNDARY_ERROR,
  },
  { name: 'LimitedCredit: needs Write or Read&Write', cmd: CommandCode.LimitedCredit, data: concat(bytes(VALUE + 0x10), int32LE(0)), expected: Status.AUTHENTICATION_ERROR },
  // WriteRecord
  { name: 'WriteRecord: ok', cmd: CommandCode.WriteRecord, data: concat(dataHeader(LINEAR, 2, 6), bytes(1, 2, 3, 4, 5, 6)), expected: Status.OPERATION_OK },
  { name: 'WriteRecord: beyond the record', cmd: CommandCode.WriteRecord, data: concat(dataHeader(LINEAR, 3, 6), bytes(1, 2, 3, 4, 5, 6)), expected: Status.BOUNDARY_ERROR },
  { name: 'WriteRecord: length 0', cmd: CommandCode.WriteRecord, data: dataHeader(LINEAR, 0, 0), expected: Status.PARAMETER_ERROR },
  { name: 'WriteRecord: a data file', cmd: CommandCode.WriteRecord, data: concat(dataHeader(STD, 0, 1), bytes(1)), expected: Status.PERMISSION_DENIED },
  { name: 'WriteRecord: key file without authentication', cmd: CommandCode.WriteRecord, data: concat(dataHeader(LINEAR + 0x10, 0, 1), bytes(1)), expected: Status.AUTHENTICATION_ERROR },
  {
    name: 'WriteRecord: linear file full',
    setup: async (r) => {
      for (let i = 0; i < 2; i++) {
        await plain(r, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 0, 1), bytes(i)));
        await plain(r, CommandCode.CommitTransaction, EMPTY);
      }
    },
    cmd: CommandCode.WriteRecord,
    data: concat(dataHeader(LINEAR, 0, 1), bytes(9)),
    expected: Status.BOUNDARY_ERROR,
  },
  {
    name: 'WriteRecord: cyclic file full takes more',
    setup: async (r) => {
      for (let i = 0; i < 2; i++) {
        await plain(r, CommandCode.WriteRecord, concat(dataHeader(CYCLIC, 0, 1), bytes(i)));
        await plain(r, CommandCode.CommitTransaction, EMPTY);
      }
    },
    cmd: CommandCode.WriteRecord,
    data: concat(dataHeader(CYCLIC, 0, 1), bytes(9)),
    expected: Status.OPERATION_OK,
  },
  {
    name: 'WriteRecord: after ClearRecordFile in the transaction',
    setup: (r) => plain(r, CommandCode.ClearRecordFile, bytes(LINEAR)),
    cmd: CommandCode.WriteRecord,
    data: concat(dataHeader(LINEAR, 0, 1), bytes(1)),
    expected: Status.PERMISSION_DENIED,
  },
  // UpdateRecord
  {
    name: 'UpdateRecord: ok',
    setup: async (r) => {
      await plain(r, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 0, 1), bytes(1)));
      await plain(r, CommandCode.CommitTransaction, EMPTY);
    },
    cmd: CommandCode.UpdateRecord,
    data: concat(bytes(LINEAR), uintLE(0, 3), uintLE(7, 3), uintLE(1, 3), bytes(0xff)),
    expected: Status.OPERATION_OK,
  },
  { name: 'UpdateRecord: empty file', cmd: CommandCode.UpdateRecord, data: concat(bytes(LINEAR), uintLE(0, 3), uintLE(0, 3), uintLE(1, 3), bytes(1)), expected: Status.BOUNDARY_ERROR },
  {
    name: 'UpdateRecord: no such record',
    setup: async (r) => {
      await plain(r, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 0, 1), bytes(1)));
      await plain(r, CommandCode.CommitTransaction, EMPTY);
    },
    cmd: CommandCode.UpdateRecord,
    data: concat(bytes(LINEAR), uintLE(1, 3), uintLE(0, 3), uintLE(1, 3), bytes(1)),
    expected: Status.BOUNDARY_ERROR,
  },
  { name: 'UpdateRecord: beyond the record', cmd: CommandCode.UpdateRecord, data: concat(bytes(LINEAR), uintLE(0, 3), uintLE(8, 3), uintLE(1, 3), bytes(1)), expected: Status.BOUNDARY_ERROR },
  // ReadRecords
  { name: 'ReadRecords: empty file', cmd: CommandCode.ReadRecords, data: dataHeader(LINEAR, 0, 0), expected: Status.BOUNDARY_ERROR },
  {
    name: 'ReadRecords: more than there are',
    setup: async (r) => {
      await plain(r, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 0, 1), bytes(1)));
      await plain(r, CommandCode.CommitTransaction, EMPTY);
    },
    cmd: CommandCode.ReadRecords,
    data: dataHeader(LINEAR, 0, 2),
    expected: Status.BOUNDARY_ERROR,
  },
  {
    name: 'ReadRecords: all of them',
    setup: async (r) => {
      await plain(r, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 0, 1), bytes(1)));
      await plain(r, CommandCode.CommitTransaction, EMPTY);
    },
    cmd: CommandCode.ReadRecords,
    data: dataHeader(LINEAR, 0, 0),
    expected: Status.OPERATION_OK,
  },
  { name: 'ReadRecords: a value file', cmd: CommandCode.ReadRecords, data: dataHeader(VALUE, 0, 0), expected: Status.PERMISSION_DENIED },
  { name: 'ReadRecords: key file without authentication', cmd: CommandCode.ReadRecords, data: dataHeader(LINEAR + 0x10, 0, 0), expected: Status.AUTHENTICATION_ERROR },
  // ClearRecordFile
  { name: 'ClearRecordFile: ok', cmd: CommandCode.ClearRecordFile, data: bytes(CYCLIC), expected: Status.OPERATION_OK },
  { name: 'ClearRecordFile: a backup file', cmd: CommandCode.ClearRecordFile, data: bytes(BACKUP), expected: Status.PERMISSION_DENIED },
  { name: 'ClearRecordFile: no such file', cmd: CommandCode.ClearRecordFile, data: bytes(0x1c), expected: Status.FILE_NOT_FOUND },
  { name: 'ClearRecordFile: no file number', cmd: CommandCode.ClearRecordFile, data: EMPTY, expected: Status.LENGTH_ERROR },
  { name: 'ClearRecordFile: key file without authentication', cmd: CommandCode.ClearRecordFile, data: bytes(LINEAR + 0x10), expected: Status.AUTHENTICATION_ERROR },
  { name: 'ClearRecordFile: key file with the wrong key', setup: authKey2, cmd: CommandCode.ClearRecordFile, data: bytes(LINEAR + 0x10), expected: Status.PERMISSION_DENIED },
];

describe('data command statuses', () => {
  for (const c of CASES) {
    it(`${c.name} → 0x${c.expected.toString(16).padStart(2, '0')}`, async () => {
      const reader = await refusalFixture();
      await c.setup?.(reader);
      // In the EV2 session of a setup: file commands on plain files travel plain; ClearRecordFile is MACed.
      const modes = c.cmd === CommandCode.ClearRecordFile ? managementModes(reader) : fileModes(reader.channel, 'plain', 'read');
      const answer = reader.channel
        ? await secureAccepting(reader, c.cmd, EMPTY, c.data, modes, [Status.OPERATION_OK])
        : await reader.send(c.cmd, c.data, false);
      expect(answer.status).toBe(c.expected);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Record semantics.

describe('record files', () => {
  async function fixture(): Promise<TestReader> {
    const reader = new TestReader();
    await createAndSelectApplication(reader, AID, { keyType: 'aes' });
    await plain(reader, CommandCode.CreateLinearRecordFile, recordFileParams(LINEAR, 'plain', rights(FREE, FREE, FREE, FREE), 4, 5));
    await plain(reader, CommandCode.CreateCyclicRecordFile, recordFileParams(CYCLIC, 'plain', rights(FREE, FREE, FREE, FREE), 4, 4));
    return reader;
  }

  async function addRecord(reader: TestReader, fileNo: number, value: number): Promise<void> {
    await plain(reader, CommandCode.WriteRecord, concat(dataHeader(fileNo, 0, 4), bytes(value, value, value, value)));
    await plain(reader, CommandCode.CommitTransaction, EMPTY);
  }

  async function readRecords(reader: TestReader, fileNo: number, recNo: number, count: number): Promise<string> {
    const answer = await reader.send(CommandCode.ReadRecords, dataHeader(fileNo, recNo, count));
    expect(answer.status).toBe(Status.OPERATION_OK);
    return toHex(answer.data);
  }

  it('ReadRecords counts back from the newest record and answers oldest first', async () => {
    const reader = await fixture();
    for (const v of [1, 2, 3]) await addRecord(reader, LINEAR, v);
    expect(await readRecords(reader, LINEAR, 0, 1)).toBe('03030303');
    expect(await readRecords(reader, LINEAR, 2, 1)).toBe('01010101');
    expect(await readRecords(reader, LINEAR, 0, 0)).toBe('010101010202020203030303');
    expect(await readRecords(reader, LINEAR, 1, 0)).toBe('0101010102020202');
    expect(await readRecords(reader, LINEAR, 0, 2)).toBe('0202020203030303');
  });

  it('writes every WriteRecord of one transaction into one new record, zero-filled', async () => {
    const reader = await fixture();
    await plain(reader, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 2, 2), bytes(0xaa, 0xbb)));
    await plain(reader, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 0, 1), bytes(0x11)));
    await plain(reader, CommandCode.CommitTransaction, EMPTY);
    expect(await readRecords(reader, LINEAR, 0, 0)).toBe('1100aabb');
  });

  it('keeps MaxNumberOfRecords - 1 records in a cyclic file, dropping the oldest', async () => {
    const reader = await fixture();
    for (const v of [1, 2, 3, 4, 5]) await addRecord(reader, CYCLIC, v);
    expect(await readRecords(reader, CYCLIC, 0, 0)).toBe('030303030404040405050505');
    const settings = await reader.send(CommandCode.GetFileSettings, bytes(CYCLIC));
    expect(toHex(settings.data)).toBe('0400eeee' + '040000' + '040000' + '030000');
  });

  it('UpdateRecord changes a committed record in the transaction only', async () => {
    const reader = await fixture();
    for (const v of [1, 2]) await addRecord(reader, LINEAR, v);
    await plain(reader, CommandCode.UpdateRecord, concat(bytes(LINEAR), uintLE(1, 3), uintLE(1, 3), uintLE(2, 3), bytes(0xee, 0xff)));
    expect(await readRecords(reader, LINEAR, 0, 0)).toBe('0101010102020202');
    await plain(reader, CommandCode.CommitTransaction, EMPTY);
    expect(await readRecords(reader, LINEAR, 0, 0)).toBe('01eeff0102020202');
  });

  it('ClearRecordFile empties the file on commit', async () => {
    const reader = await fixture();
    for (const v of [1, 2]) await addRecord(reader, LINEAR, v);
    await plain(reader, CommandCode.ClearRecordFile, bytes(LINEAR));
    expect(await readRecords(reader, LINEAR, 0, 0)).toBe('0101010102020202');
    await plain(reader, CommandCode.CommitTransaction, EMPTY);
    expect((await reader.send(CommandCode.ReadRecords, dataHeader(LINEAR, 0, 0))).status).toBe(Status.BOUNDARY_ERROR);
    await addRecord(reader, LINEAR, 7);
    expect(await readRecords(reader, LINEAR, 0, 0)).toBe('07070707');
  });

  it('answers a long ReadRecords in several frames, natively and ISO-wrapped', async () => {
    for (const style of ['native', 'wrapped'] as const) {
      const reader = new TestReader();
      reader.style = style;
      await createAndSelectApplication(reader, AID, { keyType: 'aes' });
      await plain(reader, CommandCode.CreateLinearRecordFile, recordFileParams(LINEAR, 'plain', rights(FREE, FREE, FREE, FREE), 40, 3));
      for (const v of [1, 2, 3]) {
        await plain(reader, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 0, 40), new Uint8Array(40).fill(v)));
        await plain(reader, CommandCode.CommitTransaction, EMPTY);
      }
      const frames = [await reader.send(CommandCode.ReadRecords, dataHeader(LINEAR, 0, 0), false)];
      while (frames[frames.length - 1].status === Status.ADDITIONAL_FRAME) frames.push(await reader.send(0xaf, EMPTY, false));
      expect(frames.map((f) => [f.status, f.data.length])).toEqual([
        [Status.ADDITIONAL_FRAME, 59],
        [Status.ADDITIONAL_FRAME, 59],
        [Status.OPERATION_OK, 2],
      ]);
      const all = concat(...frames.map((f) => f.data));
      expect(all[0]).toBe(1);
      expect(all[119]).toBe(3);
    }
  });
});
