import { cmac, ecb } from '@noble/ciphers/aes.js';
import { describe, expect, it } from 'vitest';
import { concat, EMPTY, fromHex, int32LE, readInt32LE, toHex, uintLE } from '../../src/desfire/bytes.js';
import type { CommMode } from '../../src/desfire/comm-mode.js';
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
  NEVER,
  OPEN,
  PLAIN,
  recordFileParams,
  rights,
  secureAccepting,
  TestReader,
  valueFileParams,
} from './support/harness.js';

const AID = 0x0a0b0c;
const UID = fromHex('04a1b2c3d4e5f6');
const STD = 1;
const BACKUP = 2;
const VALUE = 3;
const LINEAR = 4;
const TMAC = 0x0f;
const TM_KEY = fromHex('00112233445566778899aabbccddeeff');

async function ok(reader: TestReader, cmd: number, data: Uint8Array): Promise<Uint8Array> {
  const answer = await reader.send(cmd, data);
  expect(answer.status, `command 0x${cmd.toString(16)}`).toBe(Status.OPERATION_OK);
  return answer.data;
}

/** Free backup, value, linear record files (and a standard file) in an AES application; the reader unauthenticated. */
async function fixture(): Promise<TestReader> {
  const reader = new TestReader({ uid: UID });
  await createAndSelectApplication(reader, AID, { keyType: 'aes' });
  await ok(reader, CommandCode.CreateStdDataFile, dataFileParams(STD, 'plain', OPEN, 16));
  await ok(reader, CommandCode.CreateBackupDataFile, dataFileParams(BACKUP, 'plain', OPEN, 16));
  await ok(reader, CommandCode.CreateValueFile, valueFileParams(VALUE, 'plain', OPEN, 0, 1000, 100, 0x01));
  await ok(reader, CommandCode.CreateLinearRecordFile, recordFileParams(LINEAR, 'plain', OPEN, 4, 10));
  return reader;
}

/** The pending changes every test below makes: backup bytes, +50 on the value, one record. */
async function changeEverything(reader: TestReader): Promise<void> {
  await ok(reader, CommandCode.WriteData, concat(dataHeader(BACKUP, 0, 4), bytes(1, 2, 3, 4)));
  await ok(reader, CommandCode.Credit, concat(bytes(VALUE), int32LE(50)));
  await ok(reader, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 0, 4), bytes(9, 9, 9, 9)));
}

async function committedState(reader: TestReader): Promise<{ backup: string; value: number; records: number }> {
  const backup = toHex(await ok(reader, CommandCode.ReadData, dataHeader(BACKUP, 0, 4)));
  const value = readInt32LE(await ok(reader, CommandCode.GetValue, bytes(VALUE)), 0);
  const settings = await ok(reader, CommandCode.GetFileSettings, bytes(LINEAR));
  return { backup, value, records: settings[10] };
}

const UNCHANGED = { backup: '00000000', value: 100, records: 0 };
const CHANGED = { backup: '01020304', value: 150, records: 1 };

describe('CommitTransaction and AbortTransaction', () => {
  it('commit applies backup, value and record changes; reads before it see the committed state', async () => {
    const reader = await fixture();
    await changeEverything(reader);
    expect(await committedState(reader)).toEqual(UNCHANGED);
    await ok(reader, CommandCode.CommitTransaction, EMPTY);
    expect(await committedState(reader)).toEqual(CHANGED);
  });

  it('abort rolls back; a commit afterwards has nothing to do', async () => {
    const reader = await fixture();
    await changeEverything(reader);
    await ok(reader, CommandCode.AbortTransaction, EMPTY);
    expect((await reader.send(CommandCode.CommitTransaction)).status).toBe(Status.NO_CHANGES);
    expect(await committedState(reader)).toEqual(UNCHANGED);
  });

  it('standard data files are written at once, outside the transaction', async () => {
    const reader = await fixture();
    await ok(reader, CommandCode.WriteData, concat(dataHeader(STD, 0, 2), bytes(7, 7)));
    expect((await reader.send(CommandCode.AbortTransaction)).status).toBe(Status.NO_CHANGES);
    expect(toHex(await ok(reader, CommandCode.ReadData, dataHeader(STD, 0, 2)))).toBe('0707');
  });

  const losses: readonly { name: string; lose: (reader: TestReader) => Promise<void> }[] = [
    {
      name: 'an error status',
      lose: async (r) => {
        expect((await r.send(CommandCode.ReadData, dataHeader(0x1e, 0, 0))).status).toBe(Status.FILE_NOT_FOUND);
      },
    },
    { name: 'a new authentication', lose: async (r) => expect(await authenticateIn(r, 'ev2', 'aes', 1)).toBe(Status.OPERATION_OK) },
    { name: 'SelectApplication', lose: async (r) => void (await ok(r, CommandCode.SelectApplication, uintLE(AID, 3))) },
    {
      name: 'power loss',
      lose: async (r) => {
        r.card.powerOff();
        r.card.powerOn();
        await ok(r, CommandCode.SelectApplication, uintLE(AID, 3));
      },
    },
  ];
  for (const { name, lose } of losses) {
    it(`loss of the session through ${name} rolls back`, async () => {
      const reader = await fixture();
      expect(await authenticateIn(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
      reader.channel = undefined; // the files are free: go on in plain
      await ok(reader, CommandCode.SelectApplication, uintLE(AID, 3));
      await changeEverything(reader);
      await lose(reader);
      const commit = reader.channel
        ? await secureAccepting(reader, CommandCode.CommitTransaction, EMPTY, EMPTY, maced(reader.channel))
        : await reader.send(CommandCode.CommitTransaction);
      expect(commit.status).toBe(Status.NO_CHANGES);
      reader.channel = undefined;
      await ok(reader, CommandCode.SelectApplication, uintLE(AID, 3));
      expect(await committedState(reader)).toEqual(UNCHANGED);
    });
  }

  it('DeleteFile drops the pending changes of the deleted file only; a new file with its number starts clean', async () => {
    const reader = await fixture();
    await changeEverything(reader);
    await ok(reader, CommandCode.DeleteFile, bytes(VALUE));
    await ok(reader, CommandCode.CreateValueFile, valueFileParams(VALUE, 'plain', OPEN, 0, 10, 3));
    await ok(reader, CommandCode.Credit, concat(bytes(VALUE), int32LE(2)));
    await ok(reader, CommandCode.CommitTransaction, EMPTY);
    expect(await committedState(reader)).toEqual({ ...CHANGED, value: 5 });

    await ok(reader, CommandCode.Credit, concat(bytes(VALUE), int32LE(1)));
    await ok(reader, CommandCode.DeleteFile, bytes(VALUE));
    expect((await reader.send(CommandCode.AbortTransaction)).status).toBe(Status.NO_CHANGES);
  });

  it('commits in an EV2 session; NO_CHANGES keeps the session', async () => {
    const reader = await fixture();
    expect(await authenticateIn(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
    const nothing = await secureAccepting(reader, CommandCode.CommitTransaction, EMPTY, EMPTY, maced(reader.channel));
    expect(nothing.status).toBe(Status.NO_CHANGES);
    expect(reader.channel).toBeDefined();
    const abort = await secureAccepting(reader, CommandCode.AbortTransaction, EMPTY, EMPTY, maced(reader.channel));
    expect(abort.status).toBe(Status.NO_CHANGES);
    await reader.ok(CommandCode.Credit, bytes(VALUE), int32LE(1), fileModes(reader.channel, 'plain', 'write'));
    await reader.ok(CommandCode.CommitTransaction, EMPTY, bytes(0x00), maced(reader.channel));
    expect(readInt32LE(await reader.ok(CommandCode.GetValue, bytes(VALUE), EMPTY, fileModes(reader.channel, 'plain', 'read')), 0)).toBe(101);
  });

  const refusals: readonly { name: string; cmd: number; data: Uint8Array; picc?: boolean; expected: number }[] = [
    { name: 'CommitTransaction at PICC level', cmd: CommandCode.CommitTransaction, data: EMPTY, picc: true, expected: Status.PERMISSION_DENIED },
    { name: 'AbortTransaction at PICC level', cmd: CommandCode.AbortTransaction, data: EMPTY, picc: true, expected: Status.PERMISSION_DENIED },
    { name: 'CommitTransaction with two bytes', cmd: CommandCode.CommitTransaction, data: bytes(0, 0), expected: Status.LENGTH_ERROR },
    { name: 'CommitTransaction with an RFU option bit', cmd: CommandCode.CommitTransaction, data: bytes(0x02), expected: Status.PARAMETER_ERROR },
    { name: 'CommitTransaction asking for TMC/TMV without a TMAC file', cmd: CommandCode.CommitTransaction, data: bytes(0x01), expected: Status.PERMISSION_DENIED },
    { name: 'CommitTransaction with option 0', cmd: CommandCode.CommitTransaction, data: bytes(0x00), expected: Status.OPERATION_OK },
    { name: 'AbortTransaction with data', cmd: CommandCode.AbortTransaction, data: bytes(0), expected: Status.LENGTH_ERROR },
    { name: 'AbortTransaction', cmd: CommandCode.AbortTransaction, data: EMPTY, expected: Status.OPERATION_OK },
    { name: 'CommitReaderID without a TMAC file', cmd: CommandCode.CommitReaderID, data: new Uint8Array(16), expected: Status.PERMISSION_DENIED },
  ];
  for (const c of refusals) {
    it(`${c.name} → 0x${c.expected.toString(16).padStart(2, '0')}`, async () => {
      const reader = await fixture();
      await changeEverything(reader);
      if (c.picc) await ok(reader, CommandCode.SelectApplication, uintLE(0, 3));
      expect((await reader.send(c.cmd, c.data)).status).toBe(c.expected);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Transaction MAC, checked against an independent computation (@noble/ciphers) of MF2DL(H)x0 §10.3.

function truncate(mac: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: 8 }, (_, i) => mac[2 * i + 1]);
}

function sessionKey(label: number, tmc: number): Uint8Array {
  return cmac(concat(bytes(label, 0x00, 0x01, 0x00, 0x80), uintLE(tmc + 1, 4), UID), TM_KEY);
}

function pad16(part: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(part.length / 16) * 16);
  out.set(part);
  return out;
}

function expectedTmv(tmc: number, tmi: Uint8Array): Uint8Array {
  return truncate(cmac(tmi, sessionKey(0x5a, tmc)));
}

async function tmacFixture(readWrite: number): Promise<TestReader> {
  const reader = await fixture();
  expect(await authenticateIn(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
  const clear = concat(bytes(TMAC, 0x00), rights(FREE, NEVER, readWrite, 0), bytes(0x02));
  await reader.ok(CommandCode.CreateTransactionMACFile, clear, concat(TM_KEY, bytes(0x01)), { command: 'full', answer: 'mac' });
  return reader;
}

describe('Transaction MAC', () => {
  it('computes TMV over the TMI of reads and writes, returns TMC || TMV on request and keeps them in the TMAC file', async () => {
    const reader = await tmacFixture(NEVER);
    const modes = (kind: 'read' | 'write') => fileModes(reader.channel, 'plain', kind);
    // A read of the standard file, a credit, a record: the TMI collects all three.
    const read = await reader.ok(CommandCode.ReadData, dataHeader(STD, 2, 0), EMPTY, modes('read'));
    await reader.ok(CommandCode.Credit, bytes(VALUE), int32LE(5), modes('write'));
    await reader.ok(CommandCode.WriteRecord, dataHeader(LINEAR, 1, 2), bytes(0xab, 0xcd), modes('write'));
    const answer = await reader.ok(CommandCode.CommitTransaction, EMPTY, bytes(0x01), maced(reader.channel));

    const tmi = concat(
      pad16(concat(bytes(CommandCode.ReadData, STD), uintLE(2, 3), uintLE(14, 3))),
      pad16(read),
      pad16(concat(bytes(CommandCode.Credit, VALUE), int32LE(5))),
      pad16(concat(bytes(CommandCode.WriteRecord, LINEAR), uintLE(1, 3), uintLE(2, 3))),
      pad16(bytes(0xab, 0xcd)),
    );
    expect(toHex(answer)).toBe(toHex(concat(uintLE(1, 4), expectedTmv(0, tmi))));
    const file = await reader.ok(CommandCode.ReadData, dataHeader(TMAC, 0, 0), EMPTY, modes('read'));
    expect(toHex(file)).toBe(toHex(answer));

    // The next transaction: a GetValue alone commits (reads count), under the key of TMC 1 + 1.
    const value = await reader.ok(CommandCode.GetValue, bytes(VALUE), EMPTY, modes('read'));
    const second = await reader.ok(CommandCode.CommitTransaction, EMPTY, bytes(0x01), maced(reader.channel));
    expect(toHex(second)).toBe(toHex(concat(uintLE(2, 4), expectedTmv(1, pad16(concat(bytes(CommandCode.GetValue, VALUE), value))))));
    // Nothing read or written: nothing to commit.
    expect((await secureAccepting(reader, CommandCode.CommitTransaction, EMPTY, EMPTY, maced(reader.channel))).status).toBe(Status.NO_CHANGES);
  });

  it('aborting drops the TMI', async () => {
    const reader = await tmacFixture(NEVER);
    await reader.ok(CommandCode.ReadData, dataHeader(STD, 0, 1), EMPTY, fileModes(reader.channel, 'plain', 'read'));
    await reader.ok(CommandCode.AbortTransaction, EMPTY, EMPTY, maced(reader.channel));
    await reader.ok(CommandCode.ClearRecordFile, EMPTY, bytes(LINEAR), maced(reader.channel));
    const answer = await reader.ok(CommandCode.CommitTransaction, EMPTY, bytes(0x01), maced(reader.channel));
    expect(toHex(answer)).toBe(toHex(concat(uintLE(1, 4), expectedTmv(0, pad16(bytes(CommandCode.ClearRecordFile, LINEAR))))));
  });

  it('CommitReaderID: EncTMRI of the previous reader ID, which the commit stores', async () => {
    const reader = await tmacFixture(1);
    expect(await authenticateIn(reader, 'ev2', 'aes', 1)).toBe(Status.OPERATION_OK);
    const first = fromHex('0102030405060708090a0b0c0d0e0f10');
    const enc1 = await reader.ok(CommandCode.CommitReaderID, EMPTY, first, maced(reader.channel));
    expect(toHex(ecb(sessionKey(0xa5, 0), { disablePadding: true }).decrypt(enc1))).toBe('00'.repeat(16));
    await reader.ok(CommandCode.Credit, bytes(VALUE), int32LE(1), fileModes(reader.channel, 'plain', 'write'));
    const answer = await reader.ok(CommandCode.CommitTransaction, EMPTY, bytes(0x01), maced(reader.channel));
    const tmi = concat(pad16(concat(bytes(CommandCode.CommitReaderID), first)), pad16(concat(bytes(CommandCode.Credit, VALUE), int32LE(1))));
    expect(toHex(answer)).toBe(toHex(concat(uintLE(1, 4), expectedTmv(0, tmi))));

    const second = fromHex('f0e0d0c0b0a090807060504030201000');
    const enc2 = await reader.ok(CommandCode.CommitReaderID, EMPTY, second, maced(reader.channel));
    expect(toHex(ecb(sessionKey(0xa5, 1), { disablePadding: true }).decrypt(enc2))).toBe(toHex(first));
    expect((await reader.secure(CommandCode.CommitReaderID, EMPTY, second, maced(reader.channel))).status).toBe(Status.PERMISSION_DENIED);
  });

  const readerIdCases: readonly { name: string; readWrite: number; keyNo?: number; data?: Uint8Array; commitOnly?: boolean; expected: number }[] = [
    { name: 'CommitReaderID: disabled (Read&Write 0xF)', readWrite: NEVER, keyNo: 0, expected: Status.PERMISSION_DENIED },
    { name: 'CommitReaderID: key 1, not authenticated', readWrite: 1, expected: Status.AUTHENTICATION_ERROR },
    { name: 'CommitReaderID: key 1, authenticated with key 2', readWrite: 1, keyNo: 2, expected: Status.PERMISSION_DENIED },
    { name: 'CommitReaderID: free, not authenticated (no answer data)', readWrite: FREE, expected: Status.OPERATION_OK },
    { name: 'CommitReaderID: 15 bytes', readWrite: FREE, data: new Uint8Array(15), expected: Status.LENGTH_ERROR },
    { name: 'CommitTransaction without CommitReaderID while commitment is enabled', readWrite: FREE, commitOnly: true, expected: Status.PERMISSION_DENIED },
  ];
  for (const c of readerIdCases) {
    it(`${c.name} → 0x${c.expected.toString(16).padStart(2, '0')}`, async () => {
      const reader = await tmacFixture(c.readWrite);
      reader.channel = undefined;
      await ok(reader, CommandCode.SelectApplication, uintLE(AID, 3));
      if (c.keyNo !== undefined) expect(await authenticateIn(reader, 'ev2', 'aes', c.keyNo)).toBe(Status.OPERATION_OK);
      const modes: { command: CommMode; answer: CommMode } = reader.channel ? maced(reader.channel) : PLAIN;
      if (c.commitOnly) {
        await ok(reader, CommandCode.Debit, concat(bytes(VALUE), int32LE(1)));
        expect((await reader.send(CommandCode.CommitTransaction)).status).toBe(c.expected);
        return;
      }
      const answer = await reader.secure(CommandCode.CommitReaderID, EMPTY, c.data ?? new Uint8Array(16), modes);
      expect(answer.status).toBe(c.expected);
      if (answer.status === Status.OPERATION_OK) expect(answer.data.length).toBe(0);
    });
  }
});
