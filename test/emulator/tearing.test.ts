import { describe, expect, it } from 'vitest';
import { concat, EMPTY, fromHex, int32LE, toHex, uintLE } from '../../src/desfire/bytes.js';
import { CommandCode } from '../../src/desfire/commands.js';
import { Status } from '../../src/desfire/status.js';
import { CardPowerLost } from '../../src/emulator/card-endpoint.js';
import type { Application } from '../../src/emulator/model.js';
import {
  authenticateIn,
  bytes,
  createAndSelectApplication,
  dataFileParams,
  dataHeader,
  FREE,
  NEVER,
  OPEN,
  recordFileParams,
  rights,
  TestReader,
  valueFileParams,
} from './support/harness.js';

const AID = 0x0a0b0c;
const UID = fromHex('04010203040506');
const STD = 1;
const BACKUP = 2;
const VALUE = 3;
const LINEAR = 4;
const CYCLIC = 5;
const TMAC = 6;

/** One command that must succeed (a power loss propagates as CardPowerLost). */
async function run(reader: TestReader, cmd: number, data: Uint8Array = EMPTY): Promise<Uint8Array> {
  const answer = await reader.send(cmd, data);
  if (answer.status !== Status.OPERATION_OK) throw new Error(`command 0x${cmd.toString(16)} answered 0x${answer.status.toString(16)}`);
  return answer.data;
}

/** An application with a file of every kind (free rights) and a transaction MAC file. */
async function setUp(): Promise<TestReader> {
  const reader = new TestReader({ uid: UID });
  await createAndSelectApplication(reader, AID, { keyType: 'aes' });
  await run(reader, CommandCode.CreateStdDataFile, dataFileParams(STD, 'plain', OPEN, 16));
  await run(reader, CommandCode.CreateBackupDataFile, dataFileParams(BACKUP, 'plain', OPEN, 16));
  await run(reader, CommandCode.CreateValueFile, valueFileParams(VALUE, 'plain', OPEN, 0, 1000, 100, 0x01));
  await run(reader, CommandCode.CreateLinearRecordFile, recordFileParams(LINEAR, 'plain', OPEN, 4, 4));
  await run(reader, CommandCode.CreateCyclicRecordFile, recordFileParams(CYCLIC, 'plain', OPEN, 2, 3));
  expect(await authenticateIn(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
  const clear = concat(bytes(TMAC, 0x00), rights(FREE, NEVER, NEVER, 0), bytes(0x02));
  await reader.ok(CommandCode.CreateTransactionMACFile, clear, concat(new Uint8Array(16).fill(0x5a), bytes(0)), { command: 'full', answer: 'mac' });
  reader.channel = undefined;
  await run(reader, CommandCode.SelectApplication, uintLE(AID, 3));
  return reader;
}

/**
 * The sequence under test: standard-file writes (persistent at once) and three transactions across
 * backup, value, record and transaction-MAC files, each ending with a commit (one persistent write).
 */
const STEPS: readonly ((reader: TestReader) => Promise<unknown>)[] = [
  (r) => run(r, CommandCode.WriteData, concat(dataHeader(STD, 0, 4), bytes(1, 1, 1, 1))),
  async (r) => {
    await run(r, CommandCode.WriteData, concat(dataHeader(BACKUP, 0, 4), bytes(2, 2, 2, 2)));
    await run(r, CommandCode.Credit, concat(bytes(VALUE), int32LE(50)));
    await run(r, CommandCode.WriteRecord, concat(dataHeader(LINEAR, 0, 4), bytes(3, 3, 3, 3)));
    await run(r, CommandCode.WriteRecord, concat(dataHeader(CYCLIC, 0, 2), bytes(4, 4)));
    await run(r, CommandCode.CommitTransaction, bytes(0x01));
  },
  async (r) => {
    await run(r, CommandCode.Debit, concat(bytes(VALUE), int32LE(30)));
    await run(r, CommandCode.WriteRecord, concat(dataHeader(CYCLIC, 0, 2), bytes(5, 5)));
    await run(r, CommandCode.WriteRecord, concat(dataHeader(CYCLIC, 0, 2), bytes(5, 6)));
    await run(r, CommandCode.WriteData, concat(dataHeader(BACKUP, 4, 2), bytes(7, 7)));
    await run(r, CommandCode.ReadData, dataHeader(STD, 0, 0));
    await run(r, CommandCode.CommitTransaction);
  },
  (r) => run(r, CommandCode.WriteData, concat(dataHeader(STD, 8, 2), bytes(8, 8))),
  async (r) => {
    await run(r, CommandCode.LimitedCredit, concat(bytes(VALUE), int32LE(30)));
    await run(r, CommandCode.WriteRecord, concat(dataHeader(CYCLIC, 0, 2), bytes(9, 9)));
    await run(r, CommandCode.UpdateRecord, concat(bytes(LINEAR), uintLE(0, 3), uintLE(1, 3), uintLE(2, 3), bytes(0xaa, 0xbb)));
    await run(r, CommandCode.ClearRecordFile, bytes(CYCLIC));
    await run(r, CommandCode.CommitTransaction, bytes(0x01));
  },
];

/** The application as the model holds it (the rest of the card — keys, random originality key — is not under test). */
function image(reader: TestReader): Application {
  return structuredClone(reader.card.state.applications.get(AID)!);
}

/** The same state read back through commands. */
async function observe(reader: TestReader): Promise<Record<string, string>> {
  const read = async (cmd: number, data: Uint8Array) => {
    const answer = await reader.send(cmd, data);
    return answer.status === Status.OPERATION_OK ? toHex(answer.data) : `status ${answer.status.toString(16)}`;
  };
  await run(reader, CommandCode.SelectApplication, uintLE(AID, 3));
  return {
    std: await read(CommandCode.ReadData, dataHeader(STD, 0, 0)),
    backup: await read(CommandCode.ReadData, dataHeader(BACKUP, 0, 0)),
    value: await read(CommandCode.GetValue, bytes(VALUE)),
    valueSettings: await read(CommandCode.GetFileSettings, bytes(VALUE)),
    linear: await read(CommandCode.ReadRecords, dataHeader(LINEAR, 0, 0)),
    cyclic: await read(CommandCode.ReadRecords, dataHeader(CYCLIC, 0, 0)),
    tmac: await read(CommandCode.ReadData, dataHeader(TMAC, 0, 0)),
  };
}

describe('tearing', () => {
  it('a power loss at any persistent write leaves the state of the last completed write', async () => {
    // Reference run: the state after each persistent write of the sequence.
    const reference = await setUp();
    const first = reference.card.completedWrites;
    const images = [image(reference)];
    for (const step of STEPS) {
      const before = reference.card.completedWrites;
      await step(reference);
      expect(reference.card.completedWrites - before, 'a step makes at most one persistent write').toBeLessThanOrEqual(1);
      if (reference.card.completedWrites > before) images.push(image(reference));
    }
    const writes = reference.card.completedWrites - first;
    expect(writes).toBe(5);
    expect(images.length).toBe(writes + 1);
    for (let k = 1; k < images.length; k++) expect(images[k], `write ${k} changes the application`).not.toEqual(images[k - 1]);

    const observations: Record<string, string>[] = [];
    for (let k = 0; k <= writes; k++) {
      const replay = await setUp();
      for (const step of STEPS.slice(0, k)) await step(replay);
      observations.push(await observe(replay));
    }

    for (let n = 1; n <= writes; n++) {
      const reader = await setUp();
      reader.card.tearAtWrite(n);
      let lost: unknown;
      try {
        for (const step of STEPS) await step(reader);
      } catch (e) {
        lost = e;
      }
      expect(lost, `tear at write ${n}`).toBeInstanceOf(CardPowerLost);
      expect(reader.card.powered).toBe(false);
      expect(reader.card.completedWrites - first).toBe(n - 1);

      reader.card.powerOn();
      reader.channel = undefined;
      expect(image(reader), `model after a tear at write ${n}`).toEqual(images[n - 1]);
      expect(await observe(reader), `commands after a tear at write ${n}`).toEqual(observations[n - 1]);
    }
  });

  it('a torn commit leaves nothing of the transaction, and the card works on afterwards', async () => {
    const reader = await setUp();
    await run(reader, CommandCode.Credit, concat(bytes(VALUE), int32LE(1)));
    reader.card.tearAtWrite(1);
    await expect(reader.send(CommandCode.CommitTransaction)).rejects.toBeInstanceOf(CardPowerLost);
    reader.card.powerOn();
    await run(reader, CommandCode.SelectApplication, uintLE(AID, 3));
    expect((await reader.send(CommandCode.CommitTransaction)).status).toBe(Status.NO_CHANGES);
    expect(toHex(await run(reader, CommandCode.GetValue, bytes(VALUE)))).toBe(toHex(int32LE(100)));
    await run(reader, CommandCode.Credit, concat(bytes(VALUE), int32LE(1)));
    await run(reader, CommandCode.CommitTransaction);
    expect(toHex(await run(reader, CommandCode.GetValue, bytes(VALUE)))).toBe(toHex(int32LE(101)));
  });
});
