import { concat, EMPTY, int32LE, readInt32LE, readUintLE, uintLE } from '../../desfire/bytes.js';
import type { CommMode } from '../../desfire/comm-mode.js';
import { CommandCode } from '../../desfire/commands.js';
import { DesfireError, lengthError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import {
  chainedBodyLength,
  effectiveMode,
  fileRowModes,
  grantAccess,
  requireFileOfType,
  rightsFor,
  type AccessKind,
} from '../file-access.js';
import type { CardContext, CommandHandler } from '../handler.js';
import { FileType, type Application, type CardFile, type FileTypeCode, type RecordFile } from '../model.js';
import { appendTmi, stagedRecords, workingBackup, workingRecords, workingValue, type ValueWork } from '../staging.js';
import { tmiPart } from '../transaction-mac.js';

/**
 * Data commands: ReadData / WriteData (standard, backup and — read only — transaction MAC files),
 * GetValue / Credit / Debit / LimitedCredit (value files), WriteRecord / UpdateRecord / ReadRecords /
 * ClearRecordFile (record files).
 *
 * - Standard data files change at once (one persistent write per WriteData); backup, value and record
 *   files change in the session's transaction only (staging.ts) until CommitTransaction.
 * - Reads see committed contents (libfreefare's card test reads a backup file, a value and records
 *   between writes and CommitTransaction and finds them unchanged).
 * - Who may and in which mode: file-access.ts. Refusals drop the transaction (virtual-card.ts ends the
 *   session on every error status, as libfreefare's card test observes: "The previous failure has
 *   aborted the transaction").
 * - Order of checks: file exists (FILE_NOT_FOUND), its type (PERMISSION_DENIED), access
 *   (AUTHENTICATION_ERROR / PERMISSION_DENIED), then lengths and limits.
 * - Each successful command adds its part to the Transaction MAC Input when the application has a
 *   transaction MAC file (transaction-mac.ts).
 */

const DATA_HEADER = 7; // FileNo || Offset (3) || Length (3); ReadRecords: FileNo || RecNo (3) || RecCount (3)
const UPDATE_RECORD_HEADER = 10; // FileNo || RecNo (3) || Offset (3) || Length (3)
const VALUE_LENGTH = 4;

interface Resolved<F extends CardFile> {
  readonly app: Application;
  readonly file: F;
  readonly mode: CommMode;
}

/** File of one of `types`, access of `kind` (the TMAC file is read with its Read right only), effective comm mode. */
function resolve<T extends FileTypeCode>(
  ctx: CardContext,
  fileNo: number,
  types: readonly T[],
  kind: AccessKind,
  what: string,
  honourFreeGetValue = false,
): Resolved<Extract<CardFile, { type: T }>> {
  const { app, file } = requireFileOfType(ctx, fileNo, types, what);
  const rights = file.type === FileType.TRANSACTION_MAC ? [file.access.read] : rightsFor(file.access, kind);
  const checked = file as CardFile;
  const freeGetValue = honourFreeGetValue && checked.type === FileType.VALUE && checked.freeGetValue;
  const grant = grantAccess(ctx, rights, what, freeGetValue);
  return { app, file, mode: effectiveMode(file, grant) };
}

function header3(header: Uint8Array, offset: number): number {
  return readUintLE(header, offset, 3);
}

/** Parameters as they go into the TMI: the command byte followed by the clear header fields. */
function tmiParameters(cmd: number, ...fields: Uint8Array[]): Uint8Array {
  return concat(Uint8Array.of(cmd), ...fields);
}

/** The data a write carries must be as long as its header says. */
function requireDataLength(data: Uint8Array, length: number): void {
  if (data.length !== length) throw lengthError(`the header announces ${length} data bytes, ${data.length} came`);
}

/**
 * A write of `length` bytes at `offset` into something of `size` bytes. A zero length is
 * PARAMETER_ERROR (our choice: the public documents give Length's range as starting at 1 but not the
 * status for 0); beyond the end BOUNDARY_ERROR.
 */
function requireWriteRange(offset: number, length: number, size: number): void {
  if (length === 0) throw new DesfireError(Status.PARAMETER_ERROR, 'nothing to write');
  if (offset + length > size) throw new DesfireError(Status.BOUNDARY_ERROR, `${length} bytes at ${offset} go beyond ${size}`);
}

// ---------------------------------------------------------------------------------------------
// ReadData / WriteData

const DATA_TYPES = [FileType.STANDARD, FileType.BACKUP] as const;
const READABLE_DATA_TYPES = [FileType.STANDARD, FileType.BACKUP, FileType.TRANSACTION_MAC] as const;

function resolveReadData(ctx: CardContext, header: Uint8Array) {
  return resolve(ctx, header[0], READABLE_DATA_TYPES, 'read', 'ReadData');
}

/**
 * ReadData: Length 0 reads to the end of the file; an offset at or beyond the end, or a range beyond
 * it, is BOUNDARY_ERROR. The transaction MAC file reads as TMC (4, LSB first) || TMV (8) (Proxmark3
 * `hf mfdes read` expects these 12 bytes) and is the one read that adds nothing to the TMI.
 * Long answers go out in several frames (the dispatcher cuts them).
 */
const readData: CommandHandler = {
  modes: (ctx, header) => fileRowModes(ctx, CommandCode.ReadData, resolveReadData(ctx, header).mode, 'read'),
  run(ctx, { cmd, header, data }) {
    if (data.length !== 0) throw lengthError('ReadData takes its header only');
    const { app, file } = resolveReadData(ctx, header);
    const content = file.type === FileType.TRANSACTION_MAC ? concat(uintLE(file.tmc, 4), file.tmv) : file.data;
    const offset = header3(header, 1);
    const length = header3(header, 4);
    if (offset >= content.length) throw new DesfireError(Status.BOUNDARY_ERROR, `offset ${offset} is beyond the file's ${content.length} bytes`);
    const end = length === 0 ? content.length : offset + length;
    if (end > content.length) throw new DesfireError(Status.BOUNDARY_ERROR, `${length} bytes at ${offset} go beyond the file's ${content.length}`);
    const out = content.slice(offset, end);
    if (file.type !== FileType.TRANSACTION_MAC) {
      appendTmi(ctx, app, tmiPart(tmiParameters(cmd, header.subarray(0, 4), uintLE(out.length, 3)), out));
    }
    return { data: out };
  },
};

function resolveWriteData(ctx: CardContext, header: Uint8Array) {
  return resolve(ctx, header[0], DATA_TYPES, 'write', 'WriteData');
}

/** WriteData: a standard data file is written at once (one persistent write), a backup data file in the transaction. */
const writeData: CommandHandler = {
  modes: (ctx, header) => fileRowModes(ctx, CommandCode.WriteData, resolveWriteData(ctx, header).mode, 'write'),
  dataLength: (_ctx, header) => header3(header, 4),
  chainedLength(ctx, first) {
    if (first.length < DATA_HEADER) return first.length; // too short: LENGTH_ERROR once dispatched
    const header = first.subarray(0, DATA_HEADER);
    const { file, mode } = resolveWriteData(ctx, header);
    const length = header3(header, 4);
    requireWriteRange(header3(header, 1), length, file.data.length);
    return chainedBodyLength(ctx, DATA_HEADER, length, fileRowModes(ctx, CommandCode.WriteData, mode, 'write').command);
  },
  run(ctx, { cmd, header, data }) {
    const { app, file } = resolveWriteData(ctx, header);
    const offset = header3(header, 1);
    const length = header3(header, 4);
    requireWriteRange(offset, length, file.data.length);
    requireDataLength(data, length);
    if (file.type === FileType.STANDARD) {
      ctx.nv.write(() => file.data.set(data, offset));
    } else {
      const work = workingBackup(ctx, file);
      work.data.set(data, offset);
      work.work.written = true;
    }
    appendTmi(ctx, app, tmiPart(tmiParameters(cmd, header), data));
    return { data: EMPTY };
  },
};

// ---------------------------------------------------------------------------------------------
// Value files

const VALUE_TYPES = [FileType.VALUE] as const;

function resolveGetValue(ctx: CardContext, header: Uint8Array) {
  return resolve(ctx, header[0], VALUE_TYPES, 'any', 'GetValue', true);
}

/** GetValue: the committed value (signed, 4 bytes LSB first); free when the file's free-GetValue flag is set. */
const getValue: CommandHandler = {
  modes: (ctx, header) => fileRowModes(ctx, CommandCode.GetValue, resolveGetValue(ctx, header).mode, 'read'),
  run(ctx, { cmd, header, data }) {
    if (data.length !== 0) throw lengthError('GetValue takes a file number only');
    const { app, file } = resolveGetValue(ctx, header);
    const value = int32LE(file.value);
    appendTmi(ctx, app, tmiPart(tmiParameters(cmd, header, value)));
    return { data: value };
  },
};

/**
 * Credit, Debit, LimitedCredit: FileNo in clear, the amount (signed 4 bytes, LSB first) in the file's
 * mode. A negative amount is PARAMETER_ERROR; a result beyond the limits BOUNDARY_ERROR (EV1 vectors
 * quoted in file-settings.ts: Debit 11 from 10 with lower limit 0 answers 0xBE). Limits are checked
 * against the value as the transaction has it so far (the same vectors: Credit 7 then Debit 2 from 0 succeed).
 */
function valueOperation(cmd: number, kind: AccessKind, what: string, apply: (work: ValueWork, amount: number) => void): CommandHandler {
  const resolveValue = (ctx: CardContext, header: Uint8Array) => resolve(ctx, header[0], VALUE_TYPES, kind, what);
  return {
    modes: (ctx, header) => fileRowModes(ctx, cmd, resolveValue(ctx, header).mode, 'write'),
    dataLength: () => VALUE_LENGTH,
    run(ctx, { header, data }) {
      const { app, file } = resolveValue(ctx, header);
      if (data.length !== VALUE_LENGTH) throw lengthError(`${what} takes a 4-byte amount`);
      const amount = readInt32LE(data, 0);
      if (amount < 0) throw new DesfireError(Status.PARAMETER_ERROR, `${what} takes no negative amount`);
      if (cmd === CommandCode.LimitedCredit && !file.limitedCreditEnabled) {
        // The EV1 vectors quoted in file-settings.ts: LimitedCredit on a file without the feature answers 0x9D.
        throw new DesfireError(Status.PERMISSION_DENIED, 'limited credit is not enabled for this file');
      }
      apply(workingValue(ctx, file), amount);
      appendTmi(ctx, app, tmiPart(tmiParameters(cmd, header, data)));
      return { data: EMPTY };
    },
  };
}

/** Credit needs Read&Write. */
const credit = valueOperation(CommandCode.Credit, 'readWrite', 'Credit', (work, amount) => {
  if (work.value + amount > work.upperLimit) throw new DesfireError(Status.BOUNDARY_ERROR, 'credit beyond the upper limit');
  work.value += amount;
  work.work.changed = true;
});

/** Debit needs Read, Write or Read&Write; the debited sum is what a later LimitedCredit may give back. */
const debit = valueOperation(CommandCode.Debit, 'any', 'Debit', (work, amount) => {
  if (work.value - amount < work.lowerLimit) throw new DesfireError(Status.BOUNDARY_ERROR, 'debit below the lower limit');
  work.value -= amount;
  work.work.debited += amount;
  work.work.changed = true;
});

/**
 * LimitedCredit needs Write or Read&Write, the file's limited-credit feature, and at most the sum the
 * last committed transaction with a Debit debited (the file's limited-credit value), once: it leaves
 * no limit behind (libfreefare's card test; the datasheet wording of EV1 as libfreefare documents it).
 */
const limitedCredit = valueOperation(CommandCode.LimitedCredit, 'write', 'LimitedCredit', (work, amount) => {
  if (amount > work.limitedCreditValue) {
    throw new DesfireError(Status.BOUNDARY_ERROR, `limited credit of ${amount} above the ${work.limitedCreditValue} available`);
  }
  if (work.value + amount > work.upperLimit) throw new DesfireError(Status.BOUNDARY_ERROR, 'credit beyond the upper limit');
  work.value += amount;
  work.limitedCreditValue = 0;
  work.work.limitedCreditUsed = true;
  work.work.changed = true;
});

// ---------------------------------------------------------------------------------------------
// Record files

const RECORD_TYPES = [FileType.LINEAR_RECORD, FileType.CYCLIC_RECORD] as const;

/**
 * How many records a file keeps: a linear file its MaxNumberOfRecords; a cyclic file one less, the
 * spare one holding the backup (libfreefare's card test: a cyclic file created for 22 records returns
 * 21 and refuses the 22nd read).
 */
function recordCapacity(file: RecordFile): number {
  return file.type === FileType.CYCLIC_RECORD ? file.maxRecords - 1 : file.maxRecords;
}

function resolveReadRecords(ctx: CardContext, header: Uint8Array) {
  return resolve(ctx, header[0], RECORD_TYPES, 'read', 'ReadRecords');
}

/**
 * ReadRecords: RecNo counts back from the newest record (0 = newest), RecCount records from there
 * towards the oldest, 0 meaning all of them; the answer lists them oldest first (libfreefare's card
 * test reads "the oldest record" at RecNo count-1 and the newest at 0; Proxmark3 prints a multi-record
 * answer "Latest record at the bottom"). An empty file, or records that are not there, BOUNDARY_ERROR
 * (libfreefare: "Reading records from an empty file would abort the transaction").
 */
const readRecords: CommandHandler = {
  modes: (ctx, header) => fileRowModes(ctx, CommandCode.ReadRecords, resolveReadRecords(ctx, header).mode, 'read'),
  run(ctx, { cmd, header, data }) {
    if (data.length !== 0) throw lengthError('ReadRecords takes its header only');
    const { app, file } = resolveReadRecords(ctx, header);
    const records = file.records;
    const recNo = header3(header, 1);
    const asked = header3(header, 4);
    if (recNo >= records.length) throw new DesfireError(Status.BOUNDARY_ERROR, `record ${recNo} of ${records.length}`);
    const count = asked === 0 ? records.length - recNo : asked;
    if (recNo + count > records.length) throw new DesfireError(Status.BOUNDARY_ERROR, `${count} records from ${recNo} of ${records.length}`);
    const out = concat(...records.slice(records.length - recNo - count, records.length - recNo));
    appendTmi(ctx, app, tmiPart(tmiParameters(cmd, header.subarray(0, 4), uintLE(count, 3)), out));
    return { data: out };
  },
};

function resolveRecordWrite(ctx: CardContext, header: Uint8Array, what: string) {
  return resolve(ctx, header[0], RECORD_TYPES, 'write', what);
}

/**
 * What a record write's handler needs before it runs, from its header layout alone (offset at
 * `offsetAt`, length right after it): the comm modes, the data length, the chained length.
 */
function recordWriteFraming(cmd: number, name: string, headerLength: number, offsetAt: number): Pick<CommandHandler, 'modes' | 'dataLength' | 'chainedLength'> {
  const lengthAt = offsetAt + 3;
  return {
    modes: (ctx, header) => fileRowModes(ctx, cmd, resolveRecordWrite(ctx, header, name).mode, 'write'),
    dataLength: (_ctx, header) => header3(header, lengthAt),
    chainedLength(ctx, first) {
      if (first.length < headerLength) return first.length;
      const header = first.subarray(0, headerLength);
      const { file, mode } = resolveRecordWrite(ctx, header, name);
      const length = header3(header, lengthAt);
      requireWriteRange(header3(header, offsetAt), length, file.recordSize);
      return chainedBodyLength(ctx, headerLength, length, fileRowModes(ctx, cmd, mode, 'write').command);
    },
  };
}

/**
 * WriteRecord: the first WriteRecord of a transaction adds a new record (zero bytes), every further one
 * in the same transaction writes into that same record (libfreefare's card test writes bytes 2..3, then
 * 0..1 of one record per transaction). A full linear file refuses with BOUNDARY_ERROR (our reading of
 * the status "attempt to write beyond the file's limits"; the public documents name no other); a full
 * cyclic file drops its oldest record on commit. After ClearRecordFile in the same transaction:
 * PERMISSION_DENIED (libfreefare's card test).
 */
const writeRecord: CommandHandler = {
  ...recordWriteFraming(CommandCode.WriteRecord, 'WriteRecord', DATA_HEADER, 1),
  run(ctx, { cmd, header, data }) {
    const { app, file } = resolveRecordWrite(ctx, header, 'WriteRecord');
    const offset = header3(header, 1);
    const length = header3(header, 4);
    requireWriteRange(offset, length, file.recordSize);
    requireDataLength(data, length);
    const work = workingRecords(ctx, file);
    if (work.work.cleared) throw new DesfireError(Status.PERMISSION_DENIED, 'the file was cleared in this transaction');
    if (!work.work.newRecord) {
      if (work.records.length >= recordCapacity(file)) {
        if (file.type === FileType.LINEAR_RECORD) throw new DesfireError(Status.BOUNDARY_ERROR, 'the linear record file is full');
        work.records.shift();
      }
      work.work.newRecord = new Uint8Array(file.recordSize);
    }
    work.work.newRecord.set(data, offset);
    appendTmi(ctx, app, tmiPart(tmiParameters(cmd, header), data));
    return { data: EMPTY };
  },
};

/**
 * UpdateRecord (EV2): RecNo counts back from the newest record as in ReadRecords, over the records as
 * the transaction has them (a record added by WriteRecord in this transaction is the newest).
 * A record that is not there is BOUNDARY_ERROR; after ClearRecordFile PERMISSION_DENIED, as WriteRecord.
 */
const updateRecord: CommandHandler = {
  ...recordWriteFraming(CommandCode.UpdateRecord, 'UpdateRecord', UPDATE_RECORD_HEADER, 4),
  run(ctx, { cmd, header, data }) {
    const { app, file } = resolveRecordWrite(ctx, header, 'UpdateRecord');
    const recNo = header3(header, 1);
    const offset = header3(header, 4);
    const length = header3(header, 7);
    requireWriteRange(offset, length, file.recordSize);
    requireDataLength(data, length);
    const work = workingRecords(ctx, file);
    if (work.work.cleared) throw new DesfireError(Status.PERMISSION_DENIED, 'the file was cleared in this transaction');
    const view = stagedRecords(work);
    if (recNo >= view.length) throw new DesfireError(Status.BOUNDARY_ERROR, `record ${recNo} of ${view.length}`);
    const target = view[view.length - 1 - recNo];
    target.set(data, offset);
    if (target !== work.work.newRecord) work.work.updated = true;
    appendTmi(ctx, app, tmiPart(tmiParameters(cmd, header), data));
    return { data: EMPTY };
  },
};

/** ClearRecordFile: FileNo, Read&Write access; the records go on commit. */
const clearRecordFile: CommandHandler = {
  run(ctx, { cmd, data }) {
    if (data.length !== 1) throw lengthError('ClearRecordFile takes a file number');
    const { app, file } = resolve(ctx, data[0], RECORD_TYPES, 'readWrite', 'ClearRecordFile');
    const work = workingRecords(ctx, file);
    work.records = [];
    work.work.newRecord = undefined;
    work.work.cleared = true;
    appendTmi(ctx, app, tmiPart(tmiParameters(cmd, data)));
    return { data: EMPTY };
  },
};

export const DATA_HANDLERS: ReadonlyMap<number, CommandHandler> = new Map([
  [CommandCode.ReadData, readData], // 0xBD
  [CommandCode.WriteData, writeData], // 0x3D
  [CommandCode.GetValue, getValue], // 0x6C
  [CommandCode.Credit, credit], // 0x0C
  [CommandCode.Debit, debit], // 0xDC
  [CommandCode.LimitedCredit, limitedCredit], // 0x1C
  [CommandCode.WriteRecord, writeRecord], // 0x3B
  [CommandCode.UpdateRecord, updateRecord], // 0xDB
  [CommandCode.ReadRecords, readRecords], // 0xBB
  [CommandCode.ClearRecordFile, clearRecordFile], // 0xEB
]);
