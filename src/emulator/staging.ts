import { concat, EMPTY } from '../desfire/bytes.js';
import type { CardContext } from './handler.js';
import { FileType, type Application, type CardFile, type DataFile, type RecordFile, type TransactionMacFile, type ValueFile } from './model.js';
import { findTransactionMacFile } from './transaction-mac.js';

/**
 * Working copies of backup, value, record and transaction-MAC files inside the session's
 * transaction (transaction.ts keeps them; this module adds what a transaction must remember about
 * each file). Reads never see them; CommitTransaction writes their contents over the committed
 * files in one persistent write; anything that clears the transaction forgets them.
 *
 * The per-transaction notes live on the copy itself (`work`), so they vanish with it: no second
 * structure has to be kept in step with `Transaction.clear()`.
 */

interface Work {
  /** The file was deleted during the transaction: the copy is stale and is not committed. */
  orphan?: boolean;
}

export interface BackupWork extends DataFile {
  work: Work & { written: boolean };
}

export interface ValueWork extends ValueFile {
  work: Work & {
    /** Sum of the Debit amounts of this transaction. */
    debited: number;
    /** Some Credit, Debit or LimitedCredit changed the value. */
    changed: boolean;
    /** LimitedCredit ran in this transaction. */
    limitedCreditUsed: boolean;
  };
}

export interface RecordWork extends RecordFile {
  work: Work & {
    /** ClearRecordFile ran: no more writes to this file until the transaction ends. */
    cleared: boolean;
    /** The record WriteRecord added in this transaction (every WriteRecord of the transaction writes into it). */
    newRecord: Uint8Array | undefined;
    /** Records before the transaction that UpdateRecord changed. */
    updated: boolean;
  };
}

export interface TransactionMacWork extends TransactionMacFile {
  work: Work & {
    /** Transaction MAC Input parts, in order. */
    tmi: Uint8Array[];
    /** TMRICur: the reader ID committed with CommitReaderID in this transaction. */
    readerId: Uint8Array | undefined;
  };
}

type Working = BackupWork | ValueWork | RecordWork | TransactionMacWork;

function freshWork(file: CardFile): Working['work'] {
  switch (file.type) {
    case FileType.STANDARD:
    case FileType.BACKUP:
      return { written: false };
    case FileType.VALUE:
      return { debited: 0, changed: false, limitedCreditUsed: false };
    case FileType.LINEAR_RECORD:
    case FileType.CYCLIC_RECORD:
      return { cleared: false, newRecord: undefined, updated: false };
    case FileType.TRANSACTION_MAC:
      return { tmi: [], readerId: undefined };
  }
}

/** The working copy of `file`, made on first use (and made afresh over a stale copy of a deleted file with the same number). */
function stage<W extends Working>(ctx: CardContext, file: CardFile): W {
  const copy = ctx.session.transaction.stage(file) as unknown as W & Record<string, unknown>;
  if (copy.work === undefined) {
    copy.work = freshWork(file);
  } else if (copy.work.orphan) {
    for (const key of Object.keys(copy)) delete copy[key];
    Object.assign(copy, structuredClone(file), { work: freshWork(file) });
  }
  return copy;
}

export function workingBackup(ctx: CardContext, file: DataFile): BackupWork {
  return stage<BackupWork>(ctx, file);
}

export function workingValue(ctx: CardContext, file: ValueFile): ValueWork {
  return stage<ValueWork>(ctx, file);
}

export function workingRecords(ctx: CardContext, file: RecordFile): RecordWork {
  return stage<RecordWork>(ctx, file);
}

/** The record file's records as the transaction sees them, oldest first (the new record last). */
export function stagedRecords(work: RecordWork): Uint8Array[] {
  return work.work.newRecord ? [...work.records, work.work.newRecord] : work.records;
}

/** The copy of `file` already in the transaction, if any (without making one). */
export function stagedCopy(ctx: CardContext, file: CardFile): Working | undefined {
  const copy = ctx.session.transaction.staged(file) as Working | undefined;
  return copy?.work && !copy.work.orphan && copy.type === file.type ? copy : undefined;
}

/** Whether the transaction holds anything but stale copies of deleted files. */
export function hasPendingWork(ctx: CardContext): boolean {
  return (ctx.session.transaction.copies() as Working[]).some((copy) => copy.work !== undefined && !copy.work.orphan);
}

/** DeleteFile: a copy of the deleted file in the transaction must never be committed. */
export function orphanStagedCopy(ctx: CardContext, file: CardFile): void {
  const copy = ctx.session.transaction.staged(file) as Working | undefined;
  if (copy?.work) copy.work.orphan = true;
}

/**
 * Appends a part to the Transaction MAC Input when the application has a transaction MAC file
 * (MF2DL(H)x0 §10.3.4: the TMI is updated by data commands on any file of the application but the
 * TMAC file itself). Called once the command has succeeded.
 */
export function appendTmi(ctx: CardContext, app: Application, part: Uint8Array): void {
  const tmacFile = findTransactionMacFile(app);
  if (!tmacFile) return;
  stage<TransactionMacWork>(ctx, tmacFile).work.tmi.push(part);
}

export function workingTransactionMac(ctx: CardContext, file: TransactionMacFile): TransactionMacWork {
  return stage<TransactionMacWork>(ctx, file);
}

/** The TMI collected so far (empty when none). */
export function transactionMacInput(work: TransactionMacWork | undefined): Uint8Array {
  return work ? concat(...work.work.tmi) : EMPTY;
}

/** One committed file's new contents: a function that writes them, run inside the single `nv.write` of CommitTransaction. */
export type ContentUpdate = () => void;

/**
 * What CommitTransaction writes for the working copies of `app` other than the transaction MAC
 * file: contents only (data, value and limited-credit value, records), never settings a
 * ChangeFileSettings may have changed meanwhile. Copies without changes and stale copies are left out.
 */
export function contentUpdates(ctx: CardContext, app: Application): ContentUpdate[] {
  const updates: ContentUpdate[] = [];
  for (const staged of ctx.session.transaction.copies() as Working[]) {
    if (!staged.work || staged.work.orphan) continue;
    const target = app.files.get(staged.fileNo);
    if (!target || target.type !== staged.type) continue;
    switch (staged.type) {
      case FileType.STANDARD:
      case FileType.BACKUP:
        if (staged.work.written) updates.push(() => ((target as DataFile).data = staged.data.slice()));
        break;
      case FileType.VALUE:
        if (staged.work.changed) {
          const { value, work } = staged;
          updates.push(() => {
            const file = target as ValueFile;
            file.value = value;
            // LimitedCredit may add back the debits of the last transaction that debited (libfreefare's
            // card test debits 1300 and 1700, credits 20, commits, then LimitedCredit 3000 succeeds), and
            // only once: LimitedCredit leaves nothing to add back.
            if (work.debited > 0) file.limitedCreditValue = work.debited;
            else if (work.limitedCreditUsed) file.limitedCreditValue = 0;
          });
        }
        break;
      case FileType.LINEAR_RECORD:
      case FileType.CYCLIC_RECORD:
        if (staged.work.cleared || staged.work.updated || staged.work.newRecord) {
          const records = stagedRecords(staged).map((r) => r.slice());
          updates.push(() => ((target as RecordFile).records = records));
        }
        break;
      case FileType.TRANSACTION_MAC:
        break; // CommitTransaction computes its update itself.
    }
  }
  return updates;
}
