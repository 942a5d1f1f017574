import { concat, EMPTY, uintLE } from '../../desfire/bytes.js';
import { CommandCode } from '../../desfire/commands.js';
import { DesfireError, lengthError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import { requireKey, selectedApplication } from '../access.js';
import type { CommandHandler } from '../handler.js';
import { FREE_ACCESS, NO_ACCESS } from '../model.js';
import { appendTmi, contentUpdates, hasPendingWork, stagedCopy, transactionMacInput, workingTransactionMac, type TransactionMacWork } from '../staging.js';
import { commitReaderIdTmiPart, encryptedReaderId, findTransactionMacFile, transactionMacValue } from '../transaction-mac.js';

/**
 * CommitTransaction, AbortTransaction and CommitReaderID.
 *
 * A transaction holds the changes to backup, value and record files of the selected application
 * (staging.ts) and, when the application has a transaction MAC file, the Transaction MAC Input.
 * It ends with CommitTransaction (everything written in ONE persistent write, so a power loss leaves
 * either all of it or none), AbortTransaction, or implicitly with anything that ends the session
 * (an error status, SelectApplication, a new authentication, power loss: session.ts).
 *
 * With nothing to commit or abort, both answer NO_CHANGES (0x0C), a success status: the virtual-PICC
 * vectors "from card" in the public code index answer 0x0C there, and Proxmark3 `DesfireExchangeEx`
 * accepts MFDES_S_NO_CHANGES as success.
 */

const COMMIT_OPTION_TMAC = 0x01;
const TMC_LIMIT = 0xffffffff;
const READER_ID_LENGTH = 16;

/**
 * CommitTransaction [Option]. EV2 and later take an option byte (MF2DL(H)x0, as quoted in
 * transaction-mac.ts): bit 0 asks for TMC (4, LSB first) || TMV (8) in the answer; bits 7..1 are RFU
 * (PARAMETER_ERROR). Asking for them without a transaction MAC file "is rejected": the status is not
 * public, we answer PERMISSION_DENIED.
 *
 * With a transaction MAC file and a non-empty TMI, the commit also computes TMV under the session key of
 * TMC+1, stores TMC+1 and TMV and, when CommitReaderID ran, TMRICur as TMRIPrev — in the same write.
 * When ReaderID commitment is enabled (the TMAC file's Read&Write right is not 0xF), a transaction
 * without CommitReaderID cannot commit: PERMISSION_DENIED (Proxmark3: "Read-write right should be 0xF if
 * you not need to submit CommitReaderID command each time transaction starts"; the status is our choice).
 */
const commitTransaction: CommandHandler = {
  run(ctx, { data }) {
    const app = selectedApplication(ctx);
    if (data.length > 1) throw lengthError('CommitTransaction takes at most an option byte');
    const option = data.length === 1 ? data[0] : 0;
    if ((option & ~COMMIT_OPTION_TMAC) !== 0) throw new DesfireError(Status.PARAMETER_ERROR, 'CommitTransaction option: only bit 0 is defined');
    const tmacFile = findTransactionMacFile(app);
    const wantsTmac = (option & COMMIT_OPTION_TMAC) !== 0;
    if (wantsTmac && !tmacFile) throw new DesfireError(Status.PERMISSION_DENIED, 'no transaction MAC file in this application');

    const updates = contentUpdates(ctx, app);
    let tmacUpdate: (() => void) | undefined;
    if (tmacFile) {
      const work = stagedCopy(ctx, tmacFile) as TransactionMacWork | undefined;
      const tmi = transactionMacInput(work);
      if (work && tmi.length > 0) {
        if (tmacFile.access.readWrite !== NO_ACCESS && !work.work.readerId) {
          throw new DesfireError(Status.PERMISSION_DENIED, 'ReaderID commitment is enabled: CommitReaderID first');
        }
        if (tmacFile.tmc >= TMC_LIMIT) throw new DesfireError(Status.PERMISSION_DENIED, 'the transaction MAC counter is exhausted');
        const tmv = transactionMacValue(tmacFile.tmKey, tmacFile.tmc, ctx.picc.uid, tmi);
        const tmc = tmacFile.tmc + 1;
        const readerId = work.work.readerId;
        tmacUpdate = () => {
          tmacFile.tmc = tmc;
          tmacFile.tmv = tmv;
          if (readerId) tmacFile.tmri = readerId.slice();
        };
      }
    }

    if (updates.length === 0 && !tmacUpdate) {
      ctx.session.transaction.clear();
      return { data: EMPTY, status: Status.NO_CHANGES };
    }
    ctx.nv.write(() => {
      for (const update of updates) update();
      tmacUpdate?.();
    });
    ctx.session.transaction.clear();
    return { data: wantsTmac && tmacFile ? concat(uintLE(tmacFile.tmc, 4), tmacFile.tmv) : EMPTY };
  },
};

/** AbortTransaction: forgets the transaction (and the TMAC calculation with it); NO_CHANGES when there was none. */
const abortTransaction: CommandHandler = {
  run(ctx, { data }) {
    selectedApplication(ctx);
    if (data.length !== 0) throw lengthError('AbortTransaction takes no data');
    const pending = hasPendingWork(ctx);
    ctx.session.transaction.clear();
    return pending ? { data: EMPTY } : { data: EMPTY, status: Status.NO_CHANGES };
  },
};

/**
 * CommitReaderID (EV2): TMRI (16 bytes) becomes TMRICur of this transaction and goes into the TMI.
 * Who may: the TMAC file's Read&Write right (a key, free 0xE, or 0xF: disabled, PERMISSION_DENIED);
 * without a transaction MAC file PERMISSION_DENIED too (our choice; not public). Answer: in an
 * authenticated session EncTMRI = E(SesTMENCKey, TMRIPrev), else nothing (Proxmark3 unofficial DESFire
 * bible, MF2DL(H)x0 §10.3). A second CommitReaderID in the same transaction is refused with
 * PERMISSION_DENIED (our choice: the data sheet speaks of one TMRICur per transaction).
 */
const commitReaderId: CommandHandler = {
  run(ctx, { cmd, data }) {
    const app = selectedApplication(ctx);
    const tmacFile = findTransactionMacFile(app);
    if (!tmacFile) throw new DesfireError(Status.PERMISSION_DENIED, 'no transaction MAC file in this application');
    const right = tmacFile.access.readWrite;
    if (right === NO_ACCESS) throw new DesfireError(Status.PERMISSION_DENIED, 'ReaderID commitment is disabled');
    if (right !== FREE_ACCESS) requireKey(ctx, right, 'CommitReaderID');
    if (data.length !== READER_ID_LENGTH) throw lengthError(`CommitReaderID takes a ${READER_ID_LENGTH}-byte reader ID`);
    const work = workingTransactionMac(ctx, tmacFile);
    if (work.work.readerId) throw new DesfireError(Status.PERMISSION_DENIED, 'a reader ID was committed in this transaction already');
    work.work.readerId = data.slice();
    appendTmi(ctx, app, commitReaderIdTmiPart(cmd, data));
    if (!ctx.session.auth) return { data: EMPTY };
    return { data: encryptedReaderId(tmacFile.tmKey, tmacFile.tmc, ctx.picc.uid, tmacFile.tmri) };
  },
};

export const TRANSACTION_HANDLERS: ReadonlyMap<number, CommandHandler> = new Map([
  [CommandCode.CommitTransaction, commitTransaction], // 0xC7
  [CommandCode.AbortTransaction, abortTransaction], // 0xA7
  [CommandCode.CommitReaderID, commitReaderId], // 0xC8
]);
