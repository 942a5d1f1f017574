import { concat, EMPTY, uintLE } from '../../desfire/bytes.js';
import { MAX_FILES } from '../../desfire/card-limits.js';
import { CommandCode } from '../../desfire/commands.js';
import { DesfireError, lengthError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import { requireKey, requireMasterKeyUnless, selectedApplication } from '../access.js';
import { requireFile } from '../file-access.js';
import {
  CHANGE_FILE_SETTINGS_LENGTH,
  CREATE_TMAC_DATA_LENGTH,
  decodeChangeFileSettings,
  decodeCreateDataFile,
  decodeCreateRecordFile,
  decodeCreateTransactionMacFile,
  decodeCreateValueFile,
  encodeFileSettings,
  type CreateFileHead,
} from '../file-settings.js';
import type { CardContext, CommandHandler } from '../handler.js';
import { fileFootprint, requireFreeMemory } from '../memory.js';
import { FileType, FREE_ACCESS, KeySettingsFlag, NO_ACCESS, type Application, type CardFile } from '../model.js';
import { orphanStagedCopy } from '../staging.js';
import { findTransactionMacFile } from '../transaction-mac.js';

/**
 * File management: create (six file types), delete, list, settings.
 *
 * Who may: creating and deleting need the application master key unless the application's key
 * settings allow free create/delete (bit 2); listing (GetFileIDs, GetISOFileIDs, GetFileSettings)
 * needs it unless free directory listing is set (bit 1) (DESFire key settings, as picc.ts applies
 * them at PICC level). Everything refuses with PERMISSION_DENIED at PICC level (access.ts
 * `selectedApplication`).
 */
function requireFileManagement(ctx: CardContext, what: string): Application {
  const app = selectedApplication(ctx);
  requireMasterKeyUnless(ctx, app.keySettings, KeySettingsFlag.FREE_CREATE_DELETE, what);
  return app;
}

function requireListing(ctx: CardContext, what: string): Application {
  const app = selectedApplication(ctx);
  requireMasterKeyUnless(ctx, app.keySettings, KeySettingsFlag.FREE_LISTING, what);
  return app;
}

/**
 * The checks every creation ends with, in this order: the file number is taken (DUPLICATE_ERROR),
 * the ISO file ID is taken (DUPLICATE_ERROR), the application is full (COUNT_ERROR), the card's
 * memory is (OUT_OF_EEPROM_ERROR); then the one persistent write.
 */
function addFile(ctx: CardContext, app: Application, head: CreateFileHead, file: CardFile): void {
  if (app.files.has(head.fileNo)) throw new DesfireError(Status.DUPLICATE_ERROR, `file 0x${head.fileNo.toString(16)} exists`);
  if (head.isoFid !== undefined) {
    for (const other of app.files.values()) {
      if (other.isoFid === head.isoFid) throw new DesfireError(Status.DUPLICATE_ERROR, `ISO file ID ${head.isoFid.toString(16)} is taken`);
    }
  }
  if (app.files.size >= MAX_FILES) throw new DesfireError(Status.COUNT_ERROR, `an application holds at most ${MAX_FILES} files`);
  requireFreeMemory(ctx.picc, fileFootprint(file));
  ctx.nv.write(() => app.files.set(head.fileNo, file));
}

/** CreateStdDataFile / CreateBackupDataFile: contents start as zero bytes (libfreefare's card test reads zeros back). */
function createDataFile(type: typeof FileType.STANDARD | typeof FileType.BACKUP, what: string): CommandHandler {
  return {
    run(ctx, { data }) {
      const app = requireFileManagement(ctx, what);
      const params = decodeCreateDataFile(data, app.isoFid !== undefined);
      const { fileNo, isoFid, commMode, access, size } = params;
      addFile(ctx, app, params, { type, fileNo, isoFid, commMode, access, data: new Uint8Array(size) });
      return { data: EMPTY };
    },
  };
}

/**
 * CreateValueFile. The limited-credit value starts at 0: nothing was debited yet (the EV1 vectors
 * quoted in file-settings.ts refuse LimitedCredit on a fresh file with BOUNDARY_ERROR).
 */
const createValueFile: CommandHandler = {
  run(ctx, { data }) {
    const app = requireFileManagement(ctx, 'CreateValueFile');
    const params = decodeCreateValueFile(data);
    const { fileNo, commMode, access, lowerLimit, upperLimit, value, limitedCreditEnabled, freeGetValue } = params;
    addFile(ctx, app, params, {
      type: FileType.VALUE,
      fileNo,
      commMode,
      access,
      lowerLimit,
      upperLimit,
      value,
      limitedCreditEnabled,
      freeGetValue,
      limitedCreditValue: 0,
    });
    return { data: EMPTY };
  },
};

function createRecordFile(type: typeof FileType.LINEAR_RECORD | typeof FileType.CYCLIC_RECORD, what: string): CommandHandler {
  return {
    run(ctx, { data }) {
      const app = requireFileManagement(ctx, what);
      const params = decodeCreateRecordFile(data, app.isoFid !== undefined, type === FileType.CYCLIC_RECORD);
      const { fileNo, isoFid, commMode, access, recordSize, maxRecords } = params;
      addFile(ctx, app, params, { type, fileNo, isoFid, commMode, access, recordSize, maxRecords, records: [] });
      return { data: EMPTY };
    },
  };
}

/**
 * CreateTransactionMACFile (EV2): FileNo || CommSett || AccessRights || TMKeyOption in clear, then
 * TMKey || TMKeyVer enciphered in a session (the command table's header of 5). As for the other
 * Create commands, a free create/delete application takes it without a session (Proxmark3's
 * `hf mfdes createmacfile` offers `--no-auth` "depend on application settings"), the key then in plain.
 * Access rights (MF2DL(H)x0 as Proxmark prints them): Read reads TMC || TMV, Write is never used,
 * Read&Write is the key for CommitReaderID (0xF disables it), Change as for any file.
 * A second transaction MAC file in the application is refused with COUNT_ERROR: the public documents
 * say there is at most one per application but not which status a second one gets (our choice).
 * The counter starts at 0, TMV and TMRIPrev at zero bytes (MF2DL(H)x0 §11.7.6: "The initial TMRIPrev
 * ... is set to all zero bytes").
 */
const createTransactionMacFile: CommandHandler = {
  dataLength: () => CREATE_TMAC_DATA_LENGTH,
  run(ctx, { header, data }) {
    const app = requireFileManagement(ctx, 'CreateTransactionMACFile');
    const params = decodeCreateTransactionMacFile(header, data);
    if (!app.files.has(params.fileNo) && findTransactionMacFile(app)) {
      throw new DesfireError(Status.COUNT_ERROR, 'the application has a transaction MAC file already');
    }
    const { fileNo, commMode, access, tmKey, tmKeyVersion, tmKeyOption } = params;
    addFile(ctx, app, params, {
      type: FileType.TRANSACTION_MAC,
      fileNo,
      commMode,
      access,
      tmKey,
      tmKeyVersion,
      tmKeyOption,
      tmc: 0,
      tmv: new Uint8Array(8),
      tmri: new Uint8Array(16),
    });
    return { data: EMPTY };
  },
};

/**
 * DeleteFile. Changes to the file waiting in the transaction are dropped with it (the virtual-PICC
 * vectors quoted in file-access.ts: Credit, DeleteFile, CommitTransaction answers NO_CHANGES); other
 * files' changes stay pending.
 */
const deleteFile: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 1) throw lengthError('DeleteFile takes a file number');
    const app = requireFileManagement(ctx, 'DeleteFile');
    const file = app.files.get(data[0]);
    if (!file) throw new DesfireError(Status.FILE_NOT_FOUND);
    ctx.nv.write(() => app.files.delete(file.fileNo));
    orphanStagedCopy(ctx, file);
    return { data: EMPTY };
  },
};

/** GetFileIDs: the file numbers, in the order the files were created; at most 32 bytes, one frame. */
const getFileIds: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('GetFileIDs takes no data');
    const app = requireListing(ctx, 'GetFileIDs');
    return { data: Uint8Array.from(app.files.keys()) };
  },
};

/** GetISOFileIDs: the ISO file IDs (2 bytes each, LSB first) of the files that have one; may need several frames. */
const getIsoFileIds: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('GetISOFileIDs takes no data');
    const app = requireListing(ctx, 'GetISOFileIDs');
    const ids = [...app.files.values()].flatMap((f) => (f.isoFid === undefined ? [] : [uintLE(f.isoFid, 2)]));
    return { data: concat(...ids) };
  },
};

const getFileSettings: CommandHandler = {
  run(ctx, { header, data }) {
    if (data.length !== 0) throw lengthError('GetFileSettings takes a file number only');
    requireListing(ctx, 'GetFileSettings');
    const { file } = requireFile(ctx, header[0]);
    return { data: encodeFileSettings(file) };
  },
};

/**
 * ChangeFileSettings: FileNo in clear, CommSett || AccessRights enciphered in a session. Who may: the
 * file's Change right: a key (authenticated with it), free (0xE: anyone), never (0xF: PERMISSION_DENIED).
 * The new settings apply to the committed file; a pending transaction keeps its contents and commits
 * them under the new settings.
 *
 * Not supported: libfreefare sends the data plain (CMACed in EV1) when the Change right is free, but the
 * command table row is enciphered in every session and the dispatcher unwraps it before this handler
 * runs, so in a session this card takes the enciphered form only (outside a session, plain as always).
 * Additional access rights, SDM options and the TMAC file's TMCLimit are not supported either.
 */
const changeFileSettings: CommandHandler = {
  // A free Change right means plain (libfreefare); otherwise enciphered, answered as management commands are.
  modes(ctx, header) {
    const { file } = requireFile(ctx, header[0]);
    if (file.access.change === FREE_ACCESS) return { command: 'plain', answer: 'plain' };
    return { command: 'full', answer: ctx.session.auth?.channel.generation === 'd40' ? 'plain' : 'mac' };
  },
  dataLength: () => CHANGE_FILE_SETTINGS_LENGTH,
  run(ctx, { header, data }) {
    const { app, file } = requireFile(ctx, header[0]);
    const change = file.access.change;
    if (change === NO_ACCESS) throw new DesfireError(Status.PERMISSION_DENIED, 'the file settings are frozen');
    if (change !== FREE_ACCESS) requireKey(ctx, change, 'ChangeFileSettings');
    const { commMode, access } = decodeChangeFileSettings(data);
    ctx.nv.write(() => {
      const target = app.files.get(file.fileNo)!;
      target.commMode = commMode;
      target.access = access;
    });
    return { data: EMPTY };
  },
};

export const FILE_HANDLERS: ReadonlyMap<number, CommandHandler> = new Map([
  [CommandCode.CreateStdDataFile, createDataFile(FileType.STANDARD, 'CreateStdDataFile')], // 0xCD
  [CommandCode.CreateBackupDataFile, createDataFile(FileType.BACKUP, 'CreateBackupDataFile')], // 0xCB
  [CommandCode.CreateValueFile, createValueFile], // 0xCC
  [CommandCode.CreateLinearRecordFile, createRecordFile(FileType.LINEAR_RECORD, 'CreateLinearRecordFile')], // 0xC1
  [CommandCode.CreateCyclicRecordFile, createRecordFile(FileType.CYCLIC_RECORD, 'CreateCyclicRecordFile')], // 0xC0
  [CommandCode.CreateTransactionMACFile, createTransactionMacFile], // 0xCE
  [CommandCode.DeleteFile, deleteFile], // 0xDF
  [CommandCode.GetFileIDs, getFileIds], // 0x6F
  [CommandCode.GetISOFileIDs, getIsoFileIds], // 0x61
  [CommandCode.GetFileSettings, getFileSettings], // 0xF5
  [CommandCode.ChangeFileSettings, changeFileSettings], // 0x5F
]);
