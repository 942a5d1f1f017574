import { describe, expect, it } from 'vitest';
import { concat, EMPTY, toHex, uintLE } from '../../src/desfire/bytes.js';
import { CommandCode } from '../../src/desfire/commands.js';
import { Status } from '../../src/desfire/status.js';
import {
  authenticateIn,
  bytes,
  createAndSelectApplication,
  dataFileParams,
  dataHeader,
  fileModes,
  FREE,
  maced,
  manage,
  NEVER,
  OPEN,
  PLAIN,
  recordFileParams,
  rights,
  TestReader,
  valueFileParams,
} from './support/harness.js';

const AID = 0x0a0b0c;
/** KeySett1 without free listing (bit 1) and without free create/delete (bit 2). */
const LOCKED = 0x09;
/** KeySett1 with free listing and free create/delete. */
const FREE_SETTINGS = 0x0f;
const TM_KEY = Uint8Array.from({ length: 16 }, (_, i) => 0x40 + i);

function tmacClear(fileNo: number, access: Uint8Array, keyOption = 0x02): Uint8Array {
  return concat(bytes(fileNo, 0x00), access, bytes(keyOption));
}

interface Fixture {
  readonly keySettings?: number;
  readonly isoFid?: number;
  readonly capacity?: '2k' | '4k' | '8k';
  /** Authenticate with this key (EV2, AES) before the case. */
  readonly keyNo?: number;
}

async function fixture(options: Fixture = {}): Promise<TestReader> {
  const reader = new TestReader({ capacity: options.capacity });
  await createAndSelectApplication(reader, AID, { keyType: 'aes', keySettings: options.keySettings ?? FREE_SETTINGS, isoFid: options.isoFid });
  if (options.keyNo !== undefined) expect(await authenticateIn(reader, 'ev2', 'aes', options.keyNo)).toBe(Status.OPERATION_OK);
  return reader;
}

/** One command in the fixture's session (MACed management modes) or plain, returning the status. */
async function statusOf(reader: TestReader, cmd: number, data: Uint8Array, header: Uint8Array = EMPTY): Promise<number> {
  const modes = cmd === CommandCode.ChangeFileSettings || cmd === CommandCode.CreateTransactionMACFile
    ? { command: 'full' as const, answer: maced(reader.channel).answer }
    : maced(reader.channel);
  return (await reader.secure(cmd, header, data, reader.channel ? modes : PLAIN)).status;
}

interface Case {
  readonly name: string;
  readonly fixture?: Fixture;
  readonly setup?: (reader: TestReader) => Promise<void>;
  readonly cmd: number;
  /** Clear header (GetFileSettings, ChangeFileSettings, CreateTransactionMACFile). */
  readonly header?: Uint8Array;
  readonly data: Uint8Array;
  readonly expected: number;
}

const std = (fileNo: number, size = 16) => dataFileParams(fileNo, 'plain', OPEN, size);
const createStd = (fileNo: number) => async (r: TestReader) => {
  await manage(r, CommandCode.CreateStdDataFile, std(fileNo));
};

const CASES: readonly Case[] = [
  // CreateStdDataFile
  { name: 'CreateStdDataFile: free create/delete, no authentication', cmd: CommandCode.CreateStdDataFile, data: std(1), expected: Status.OPERATION_OK },
  { name: 'CreateStdDataFile: application master key', fixture: { keySettings: LOCKED, keyNo: 0 }, cmd: CommandCode.CreateStdDataFile, data: std(1), expected: Status.OPERATION_OK },
  { name: 'CreateStdDataFile: without the master key', fixture: { keySettings: LOCKED }, cmd: CommandCode.CreateStdDataFile, data: std(1), expected: Status.AUTHENTICATION_ERROR },
  { name: 'CreateStdDataFile: with another key', fixture: { keySettings: LOCKED, keyNo: 1 }, cmd: CommandCode.CreateStdDataFile, data: std(1), expected: Status.PERMISSION_DENIED },
  { name: 'CreateStdDataFile: number taken', setup: createStd(1), cmd: CommandCode.CreateStdDataFile, data: std(1), expected: Status.DUPLICATE_ERROR },
  { name: 'CreateStdDataFile: number above 0x1F', cmd: CommandCode.CreateStdDataFile, data: std(0x20), expected: Status.PARAMETER_ERROR },
  { name: 'CreateStdDataFile: size 0', cmd: CommandCode.CreateStdDataFile, data: std(1, 0), expected: Status.PARAMETER_ERROR },
  { name: 'CreateStdDataFile: additional access rights', cmd: CommandCode.CreateStdDataFile, data: concat(bytes(1, 0x80), OPEN, uintLE(16, 3)), expected: Status.PARAMETER_ERROR },
  { name: 'CreateStdDataFile: short', cmd: CommandCode.CreateStdDataFile, data: std(1).subarray(0, 6), expected: Status.LENGTH_ERROR },
  { name: 'CreateStdDataFile: ISO file ID without ISO application', cmd: CommandCode.CreateStdDataFile, data: dataFileParams(1, 'plain', OPEN, 16, 0xe101), expected: Status.LENGTH_ERROR },
  { name: 'CreateStdDataFile: ISO file ID', fixture: { isoFid: 0xdf01 }, cmd: CommandCode.CreateStdDataFile, data: dataFileParams(1, 'plain', OPEN, 16, 0xe101), expected: Status.OPERATION_OK },
  {
    name: 'CreateStdDataFile: ISO file ID taken',
    fixture: { isoFid: 0xdf01 },
    setup: (r) => manage(r, CommandCode.CreateStdDataFile, dataFileParams(1, 'plain', OPEN, 16, 0xe101)).then(() => undefined),
    cmd: CommandCode.CreateStdDataFile,
    data: dataFileParams(2, 'plain', OPEN, 16, 0xe101),
    expected: Status.DUPLICATE_ERROR,
  },
  { name: 'CreateStdDataFile: reserved ISO file ID', fixture: { isoFid: 0xdf01 }, cmd: CommandCode.CreateStdDataFile, data: dataFileParams(1, 'plain', OPEN, 16, 0x3f00), expected: Status.PARAMETER_ERROR },
  { name: 'CreateStdDataFile: too big for the card', fixture: { capacity: '2k' }, cmd: CommandCode.CreateStdDataFile, data: std(1, 2048), expected: Status.OUT_OF_EEPROM_ERROR },
  {
    name: 'CreateStdDataFile: at PICC level',
    setup: async (r) => {
      await r.send(CommandCode.SelectApplication, uintLE(0, 3));
    },
    cmd: CommandCode.CreateStdDataFile,
    data: std(1),
    expected: Status.PERMISSION_DENIED,
  },
  // CreateBackupDataFile: twice the memory of a standard file.
  { name: 'CreateBackupDataFile: ok', cmd: CommandCode.CreateBackupDataFile, data: std(2, 64), expected: Status.OPERATION_OK },
  { name: 'CreateBackupDataFile: mirrored size too big', fixture: { capacity: '2k' }, cmd: CommandCode.CreateBackupDataFile, data: std(2, 900), expected: Status.OUT_OF_EEPROM_ERROR },
  { name: 'CreateBackupDataFile: without the master key', fixture: { keySettings: LOCKED }, cmd: CommandCode.CreateBackupDataFile, data: std(2), expected: Status.AUTHENTICATION_ERROR },
  // CreateValueFile
  { name: 'CreateValueFile: ok', cmd: CommandCode.CreateValueFile, data: valueFileParams(3, 'mac', OPEN, -10, 10, 0, 0x03), expected: Status.OPERATION_OK },
  { name: 'CreateValueFile: limits reversed', cmd: CommandCode.CreateValueFile, data: valueFileParams(3, 'plain', OPEN, 10, -10, 0), expected: Status.PARAMETER_ERROR },
  { name: 'CreateValueFile: value below the lower limit', cmd: CommandCode.CreateValueFile, data: valueFileParams(3, 'plain', OPEN, 0, 10, -1), expected: Status.PARAMETER_ERROR },
  { name: 'CreateValueFile: value above the upper limit', cmd: CommandCode.CreateValueFile, data: valueFileParams(3, 'plain', OPEN, 0, 10, 11), expected: Status.PARAMETER_ERROR },
  { name: 'CreateValueFile: undefined option bit', cmd: CommandCode.CreateValueFile, data: valueFileParams(3, 'plain', OPEN, 0, 10, 1, 0x04), expected: Status.PARAMETER_ERROR },
  { name: 'CreateValueFile: short', cmd: CommandCode.CreateValueFile, data: valueFileParams(3, 'plain', OPEN, 0, 10, 1).subarray(0, 16), expected: Status.LENGTH_ERROR },
  { name: 'CreateValueFile: number taken', setup: createStd(3), cmd: CommandCode.CreateValueFile, data: valueFileParams(3, 'plain', OPEN, 0, 10, 1), expected: Status.DUPLICATE_ERROR },
  // Record files
  { name: 'CreateLinearRecordFile: ok', cmd: CommandCode.CreateLinearRecordFile, data: recordFileParams(4, 'full', OPEN, 12, 10), expected: Status.OPERATION_OK },
  { name: 'CreateLinearRecordFile: record size 0', cmd: CommandCode.CreateLinearRecordFile, data: recordFileParams(4, 'plain', OPEN, 0, 10), expected: Status.PARAMETER_ERROR },
  { name: 'CreateLinearRecordFile: no records', cmd: CommandCode.CreateLinearRecordFile, data: recordFileParams(4, 'plain', OPEN, 12, 0), expected: Status.PARAMETER_ERROR },
  { name: 'CreateLinearRecordFile: too big for the card', fixture: { capacity: '2k' }, cmd: CommandCode.CreateLinearRecordFile, data: recordFileParams(4, 'plain', OPEN, 100, 20), expected: Status.OUT_OF_EEPROM_ERROR },
  { name: 'CreateCyclicRecordFile: ok', cmd: CommandCode.CreateCyclicRecordFile, data: recordFileParams(5, 'plain', OPEN, 12, 2), expected: Status.OPERATION_OK },
  { name: 'CreateCyclicRecordFile: one record', cmd: CommandCode.CreateCyclicRecordFile, data: recordFileParams(5, 'plain', OPEN, 12, 1), expected: Status.PARAMETER_ERROR },
  { name: 'CreateCyclicRecordFile: long', cmd: CommandCode.CreateCyclicRecordFile, data: concat(recordFileParams(5, 'plain', OPEN, 12, 2), bytes(0)), expected: Status.LENGTH_ERROR },
  { name: 'CreateCyclicRecordFile: without the master key', fixture: { keySettings: LOCKED }, cmd: CommandCode.CreateCyclicRecordFile, data: recordFileParams(5, 'plain', OPEN, 12, 2), expected: Status.AUTHENTICATION_ERROR },
  // CreateTransactionMACFile (in an EV2 session: the key travels enciphered)
  { name: 'CreateTransactionMACFile: ok', fixture: { keyNo: 0 }, cmd: CommandCode.CreateTransactionMACFile, header: tmacClear(6, rights(FREE, NEVER, NEVER, 0)), data: concat(TM_KEY, bytes(1)), expected: Status.OPERATION_OK },
  {
    name: 'CreateTransactionMACFile: a second one',
    fixture: { keyNo: 0 },
    setup: async (r) => {
      await r.ok(CommandCode.CreateTransactionMACFile, tmacClear(6, rights(FREE, NEVER, NEVER, 0)), concat(TM_KEY, bytes(1)), { command: 'full', answer: 'mac' });
    },
    cmd: CommandCode.CreateTransactionMACFile,
    header: tmacClear(7, rights(FREE, NEVER, NEVER, 0)),
    data: concat(TM_KEY, bytes(1)),
    expected: Status.COUNT_ERROR,
  },
  { name: 'CreateTransactionMACFile: not an AES key option', fixture: { keyNo: 0 }, cmd: CommandCode.CreateTransactionMACFile, header: tmacClear(6, rights(FREE, NEVER, NEVER, 0), 0x01), data: concat(TM_KEY, bytes(1)), expected: Status.PARAMETER_ERROR },
  { name: 'CreateTransactionMACFile: key version missing', fixture: { keyNo: 0 }, cmd: CommandCode.CreateTransactionMACFile, header: tmacClear(6, rights(FREE, NEVER, NEVER, 0)), data: TM_KEY, expected: Status.LENGTH_ERROR },
  { name: 'CreateTransactionMACFile: number taken', fixture: { keyNo: 0 }, setup: createStd(6), cmd: CommandCode.CreateTransactionMACFile, header: tmacClear(6, rights(FREE, NEVER, NEVER, 0)), data: concat(TM_KEY, bytes(1)), expected: Status.DUPLICATE_ERROR },
  { name: 'CreateTransactionMACFile: with another key', fixture: { keySettings: LOCKED, keyNo: 2 }, cmd: CommandCode.CreateTransactionMACFile, header: tmacClear(6, rights(FREE, NEVER, NEVER, 0)), data: concat(TM_KEY, bytes(1)), expected: Status.PERMISSION_DENIED },
  // DeleteFile
  { name: 'DeleteFile: ok', setup: createStd(1), cmd: CommandCode.DeleteFile, data: bytes(1), expected: Status.OPERATION_OK },
  { name: 'DeleteFile: no such file', cmd: CommandCode.DeleteFile, data: bytes(1), expected: Status.FILE_NOT_FOUND },
  { name: 'DeleteFile: no file number', cmd: CommandCode.DeleteFile, data: EMPTY, expected: Status.LENGTH_ERROR },
  {
    name: 'DeleteFile: without the master key',
    fixture: { keySettings: LOCKED, keyNo: 0 },
    setup: async (r) => {
      await createStd(1)(r);
      r.channel = undefined;
      await r.send(CommandCode.SelectApplication, uintLE(AID, 3));
    },
    cmd: CommandCode.DeleteFile,
    data: bytes(1),
    expected: Status.AUTHENTICATION_ERROR,
  },
  // Listing
  { name: 'GetFileIDs: free listing', setup: createStd(1), cmd: CommandCode.GetFileIDs, data: EMPTY, expected: Status.OPERATION_OK },
  { name: 'GetFileIDs: without the master key', fixture: { keySettings: LOCKED }, cmd: CommandCode.GetFileIDs, data: EMPTY, expected: Status.AUTHENTICATION_ERROR },
  { name: 'GetFileIDs: with another key', fixture: { keySettings: LOCKED, keyNo: 3 }, cmd: CommandCode.GetFileIDs, data: EMPTY, expected: Status.PERMISSION_DENIED },
  { name: 'GetFileIDs: data', cmd: CommandCode.GetFileIDs, data: bytes(0), expected: Status.LENGTH_ERROR },
  { name: 'GetISOFileIDs: free listing', cmd: CommandCode.GetISOFileIDs, data: EMPTY, expected: Status.OPERATION_OK },
  { name: 'GetISOFileIDs: without the master key', fixture: { keySettings: LOCKED }, cmd: CommandCode.GetISOFileIDs, data: EMPTY, expected: Status.AUTHENTICATION_ERROR },
  { name: 'GetFileSettings: ok', setup: createStd(1), cmd: CommandCode.GetFileSettings, header: bytes(1), data: EMPTY, expected: Status.OPERATION_OK },
  { name: 'GetFileSettings: no such file', cmd: CommandCode.GetFileSettings, header: bytes(1), data: EMPTY, expected: Status.FILE_NOT_FOUND },
  { name: 'GetFileSettings: no file number', cmd: CommandCode.GetFileSettings, data: EMPTY, expected: Status.LENGTH_ERROR },
  { name: 'GetFileSettings: without the master key', fixture: { keySettings: LOCKED }, cmd: CommandCode.GetFileSettings, header: bytes(1), data: EMPTY, expected: Status.AUTHENTICATION_ERROR },
  // ChangeFileSettings (change right per file)
  {
    name: 'ChangeFileSettings: free change right, no session',
    setup: createStd(1),
    cmd: CommandCode.ChangeFileSettings,
    header: bytes(1),
    data: concat(bytes(0x03), rights(1, 1, 1, 0)),
    expected: Status.OPERATION_OK,
  },
  {
    name: 'ChangeFileSettings: change key, enciphered',
    fixture: { keyNo: 0 },
    setup: (r) => manage(r, CommandCode.CreateStdDataFile, dataFileParams(1, 'plain', rights(FREE, FREE, FREE, 0), 16)).then(() => undefined),
    cmd: CommandCode.ChangeFileSettings,
    header: bytes(1),
    data: concat(bytes(0x01), rights(1, 2, 3, 0)),
    expected: Status.OPERATION_OK,
  },
  {
    name: 'ChangeFileSettings: change key, not authenticated',
    setup: (r) => manage(r, CommandCode.CreateStdDataFile, dataFileParams(1, 'plain', rights(FREE, FREE, FREE, 2), 16)).then(() => undefined),
    cmd: CommandCode.ChangeFileSettings,
    header: bytes(1),
    data: concat(bytes(0x01), OPEN),
    expected: Status.AUTHENTICATION_ERROR,
  },
  {
    name: 'ChangeFileSettings: wrong key',
    fixture: { keyNo: 0 },
    setup: (r) => manage(r, CommandCode.CreateStdDataFile, dataFileParams(1, 'plain', rights(FREE, FREE, FREE, 2), 16)).then(() => undefined),
    cmd: CommandCode.ChangeFileSettings,
    header: bytes(1),
    data: concat(bytes(0x01), OPEN),
    expected: Status.PERMISSION_DENIED,
  },
  {
    name: 'ChangeFileSettings: frozen',
    setup: (r) => manage(r, CommandCode.CreateStdDataFile, dataFileParams(1, 'plain', rights(FREE, FREE, FREE, NEVER), 16)).then(() => undefined),
    cmd: CommandCode.ChangeFileSettings,
    header: bytes(1),
    data: concat(bytes(0x01), OPEN),
    expected: Status.PERMISSION_DENIED,
  },
  { name: 'ChangeFileSettings: no such file', cmd: CommandCode.ChangeFileSettings, header: bytes(1), data: concat(bytes(0x01), OPEN), expected: Status.FILE_NOT_FOUND },
  { name: 'ChangeFileSettings: SDM bit', setup: createStd(1), cmd: CommandCode.ChangeFileSettings, header: bytes(1), data: concat(bytes(0x40), OPEN), expected: Status.PARAMETER_ERROR },
  { name: 'ChangeFileSettings: short', setup: createStd(1), cmd: CommandCode.ChangeFileSettings, header: bytes(1), data: bytes(0x01, 0xee), expected: Status.LENGTH_ERROR },
];

describe('file management statuses', () => {
  for (const c of CASES) {
    it(`${c.name} → 0x${c.expected.toString(16).padStart(2, '0')}`, async () => {
      const reader = await fixture(c.fixture);
      await c.setup?.(reader);
      expect(await statusOf(reader, c.cmd, c.data, c.header)).toBe(c.expected);
    });
  }
});

describe('file listing and settings', () => {
  it('lists file numbers in creation order and ISO file IDs of the files that have one', async () => {
    const reader = await fixture({ isoFid: 0xdf01 });
    await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(7, 'plain', OPEN, 16, 0xe107));
    await manage(reader, CommandCode.CreateValueFile, valueFileParams(2, 'plain', OPEN, 0, 10, 0));
    await manage(reader, CommandCode.CreateCyclicRecordFile, recordFileParams(0x1f, 'plain', OPEN, 4, 3, 0xe11f));
    expect(toHex(await manage(reader, CommandCode.GetFileIDs, EMPTY))).toBe('07021f');
    expect(toHex(await manage(reader, CommandCode.GetISOFileIDs, EMPTY))).toBe('07e11fe1');
  });

  it('answers GetFileSettings of every file type byte for byte', async () => {
    const reader = await fixture({ keyNo: 0 });
    const tmacRights = rights(FREE, NEVER, 1, 0);
    await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(0, 'mac', rights(1, 2, 3, 4), 0x123));
    await manage(reader, CommandCode.CreateBackupDataFile, dataFileParams(1, 'full', rights(FREE, FREE, FREE, FREE), 32));
    await manage(reader, CommandCode.CreateValueFile, valueFileParams(2, 'plain', rights(1, 1, 1, 0), -5, 1000, 7, 0x03));
    await manage(reader, CommandCode.CreateLinearRecordFile, recordFileParams(3, 'plain', OPEN, 16, 8));
    await manage(reader, CommandCode.CreateCyclicRecordFile, recordFileParams(4, 'full', OPEN, 5, 3));
    await reader.ok(CommandCode.CreateTransactionMACFile, tmacClear(5, tmacRights), concat(TM_KEY, bytes(0x21)), { command: 'full', answer: 'mac' });
    const settings = async (fileNo: number) => toHex(await reader.ok(CommandCode.GetFileSettings, bytes(fileNo), EMPTY, maced(reader.channel)));
    expect(await settings(0)).toBe('00' + '01' + '3412' + '230100');
    expect(await settings(1)).toBe('01' + '03' + 'eeee' + '200000');
    expect(await settings(2)).toBe('02' + '00' + '1011' + 'fbffffff' + 'e8030000' + '00000000' + '03');
    expect(await settings(3)).toBe('03' + '00' + 'eeee' + '100000' + '080000' + '000000');
    expect(await settings(4)).toBe('04' + '03' + 'eeee' + '050000' + '030000' + '000000');
    expect(await settings(5)).toBe('05' + '00' + '10ef' + '02' + '21');
  });

  it('applies ChangeFileSettings: new rights and comm mode', async () => {
    const reader = await fixture({ keyNo: 0 });
    await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(1, 'plain', rights(FREE, FREE, FREE, 0), 8));
    await reader.ok(CommandCode.ChangeFileSettings, bytes(1), concat(bytes(0x03), rights(1, NEVER, NEVER, 0)), { command: 'full', answer: 'mac' });
    expect(toHex(await manage(reader, CommandCode.GetFileSettings, EMPTY, bytes(1)))).toBe('0003' + 'f01f' + '080000');
    // Reading now needs key 1, enciphered.
    expect(await authenticateIn(reader, 'ev2', 'aes', 1)).toBe(Status.OPERATION_OK);
    const data = await reader.ok(CommandCode.ReadData, dataHeader(1, 0, 8), EMPTY, fileModes(reader.channel, 'full', 'read'));
    expect(toHex(data)).toBe('0000000000000000');
  });

  it('deletes a file and frees its number for a new one', async () => {
    const reader = await fixture();
    await manage(reader, CommandCode.CreateStdDataFile, std(1));
    await manage(reader, CommandCode.DeleteFile, bytes(1));
    expect(toHex(await manage(reader, CommandCode.GetFileIDs, EMPTY))).toBe('');
    await manage(reader, CommandCode.CreateValueFile, valueFileParams(1, 'plain', OPEN, 0, 10, 3));
    expect(toHex(await manage(reader, CommandCode.GetFileSettings, EMPTY, bytes(1))).slice(0, 2)).toBe('02');
  });

  it('holds 32 files, numbers 0x00..0x1F (so COUNT_ERROR cannot come from the file count)', async () => {
    const reader = await fixture();
    for (let fileNo = 0; fileNo < 32; fileNo++) await manage(reader, CommandCode.CreateStdDataFile, std(fileNo, 1));
    expect((await manage(reader, CommandCode.GetFileIDs, EMPTY)).length).toBe(32);
    expect(await statusOf(reader, CommandCode.CreateStdDataFile, std(0x20, 1))).toBe(Status.PARAMETER_ERROR);
  });

  it('counts files in FreeMemory', async () => {
    const reader = await fixture();
    const before = (await reader.send(CommandCode.FreeMemory)).data;
    await manage(reader, CommandCode.CreateBackupDataFile, std(1, 40));
    const after = (await reader.send(CommandCode.FreeMemory)).data;
    const value = (b: Uint8Array) => b[0] | (b[1] << 8) | (b[2] << 16);
    expect(value(before) - value(after)).toBe(2 * 64);
  });
});

describe('ChangeFileSettings with a free change right inside a session', () => {
  it('goes plain (as libfreefare sends it), and the session carries on', async () => {
    const reader = await fixture({ keyNo: 0 });
    await manage(reader, CommandCode.CreateStdDataFile, std(1));
    const answer = await reader.secure(CommandCode.ChangeFileSettings, bytes(1), concat(bytes(0x00), rights(FREE, FREE, FREE, FREE)), PLAIN);
    expect(answer.status).toBe(Status.OPERATION_OK);
    expect((await reader.secure(CommandCode.GetFileSettings, bytes(1), EMPTY, maced(reader.channel))).status).toBe(Status.OPERATION_OK);
  });
});
