import { concat, int32LE, readInt32LE, readUintLE, uintLE } from '../desfire/bytes.js';
import { MAX_FILE_NO, RESERVED_ISO_FIDS } from '../desfire/card-limits.js';
import { decodeAccessRights, encodeAccessRights } from '../desfire/access-rights.js';
import { commModeFromByte, commModeToByte, type CommMode } from '../desfire/comm-mode.js';
import { DesfireError, lengthError } from '../desfire/errors.js';
import { Status } from '../desfire/status.js';
import { FileType, type AccessRights, type CardFile, type FileTypeCode } from './model.js';

/**
 * File settings as they travel on the wire: the access-rights word, the communication-settings
 * byte, the parameters of the Create*File commands and the answer of GetFileSettings.
 *
 * Sources (facts only, nothing copied):
 * - access rights, two bytes little-endian `read<<12 | write<<8 | readWrite<<4 | change`:
 *   Proxmark3 `DesfireEncodeFileAcessMode` / `DesfireDecodeFileAcessMode` (client/src/mifare/desfirecore.c),
 *   libfreefare `MDAR_*` macros;
 * - Create*File layouts: Proxmark3 `DesfireFileCommands[]` (data files 6(+2) bytes after the file
 *   number, value 16, record 9(+2), transaction MAC 21) and libfreefare `create_file1` / `create_file2`
 *   / `mifare_desfire_create_value_file`; the optional ISO file ID follows the file number;
 * - GetFileSettings answer: Proxmark3 `DesfireFillFileSettings`, libfreefare
 *   `mifare_desfire_get_file_settings`: type, option, rights, then size (3) | lower, upper, limited
 *   credit value (4 each) and the limited-credit byte | record size, max records, current records
 *   (3 each) | TMKeyOption and TMKeyVersion for the transaction MAC file.
 */


/** Communication-settings / file-option byte: bits 1..0 comm mode (bit 6 SDM and bit 7 additional access rights are EV2/EV3 options). */
const COMM_MODE_BITS = 0x03;

/** Value-file option byte of CreateValueFile / GetFileSettings: bit 0 LimitedCredit enabled, bit 1 free GetValue. */
export const LIMITED_CREDIT_ENABLED = 0x01;
export const FREE_GET_VALUE = 0x02;

/** TMKeyOption of CreateTransactionMACFile: bits 1..0 = 10b, an AES key (the only kind MF2DL(H)x0 §11.7.6 defines). */
export const TM_KEY_OPTION_AES = 0x02;

/**
 * The communication-settings byte of a Create*File / ChangeFileSettings command. 0b10 is plain
 * (the comm-mode.ts note). Additional access rights (bit 7) and Secure Dynamic Messaging (bit 6)
 * are EV2/EV3 features this card does not implement, and the other bits are RFU: PARAMETER_ERROR.
 */
export function decodeCommSettings(byte: number): CommMode {
  if ((byte & ~COMM_MODE_BITS) !== 0) {
    throw new DesfireError(Status.PARAMETER_ERROR, `communication settings 0x${byte.toString(16).padStart(2, '0')}: only bits 1..0 are supported`);
  }
  return commModeFromByte(byte);
}

function requireFileNo(fileNo: number): number {
  if (fileNo > MAX_FILE_NO) throw new DesfireError(Status.PARAMETER_ERROR, `file number 0x${fileNo.toString(16)} is above 0x1F`);
  return fileNo;
}


/** The fields every Create*File command starts with. */
export interface CreateFileHead {
  readonly fileNo: number;
  readonly isoFid?: number;
  readonly commMode: CommMode;
  readonly access: AccessRights;
}

/**
 * Splits the optional ISO file ID off: `withoutIso` is the parameter length without it; with it the
 * command is two bytes longer. An application created without ISO file identifiers takes only the
 * short form (any other length is LENGTH_ERROR).
 */
function readHead(data: Uint8Array, withoutIso: number, isoAllowed: boolean): { head: CreateFileHead; rest: Uint8Array } {
  const withIso = isoAllowed && data.length === withoutIso + 2;
  if (data.length !== withoutIso && !withIso) {
    throw lengthError(`expected ${withoutIso}${isoAllowed ? ` or ${withoutIso + 2}` : ''} bytes of file parameters, got ${data.length}`);
  }
  const fileNo = requireFileNo(data[0]);
  let offset = 1;
  let isoFid: number | undefined;
  if (withIso) {
    isoFid = readUintLE(data, 1, 2);
    if (RESERVED_ISO_FIDS.has(isoFid)) throw new DesfireError(Status.PARAMETER_ERROR, `ISO file ID ${isoFid.toString(16)} is reserved`);
    offset = 3;
  }
  const commMode = decodeCommSettings(data[offset]);
  const access = decodeAccessRights(data, offset + 1);
  return { head: { fileNo, isoFid, commMode, access }, rest: data.subarray(offset + 3) };
}

export interface CreateDataFileParams extends CreateFileHead {
  readonly size: number;
}

/** CreateStdDataFile / CreateBackupDataFile: FileNo [|| ISOFileID] || CommSett || AccessRights || FileSize (3). */
export function decodeCreateDataFile(data: Uint8Array, isoAllowed: boolean): CreateDataFileParams {
  const { head, rest } = readHead(data, 7, isoAllowed);
  const size = readUintLE(rest, 0, 3);
  if (size === 0) throw new DesfireError(Status.PARAMETER_ERROR, 'a data file needs at least one byte');
  return { ...head, size };
}

export interface CreateValueFileParams extends CreateFileHead {
  readonly lowerLimit: number;
  readonly upperLimit: number;
  readonly value: number;
  readonly limitedCreditEnabled: boolean;
  readonly freeGetValue: boolean;
}

/**
 * CreateValueFile: FileNo || CommSett || AccessRights || LowerLimit || UpperLimit || Value (signed,
 * 4 each) || LimitedCreditEnabled. No ISO file ID (Proxmark `mayHaveISOfid` false). The limits must be
 * ordered and the value inside them, else PARAMETER_ERROR (the vectors of a virtual PICC "measured on a
 * genuine EV1" read through the public code index agree).
 */
export function decodeCreateValueFile(data: Uint8Array): CreateValueFileParams {
  const { head, rest } = readHead(data, 17, false);
  const lowerLimit = readInt32LE(rest, 0);
  const upperLimit = readInt32LE(rest, 4);
  const value = readInt32LE(rest, 8);
  const options = rest[12];
  if (lowerLimit > upperLimit) throw new DesfireError(Status.PARAMETER_ERROR, 'lower limit above upper limit');
  if (value < lowerLimit || value > upperLimit) throw new DesfireError(Status.PARAMETER_ERROR, 'initial value outside the limits');
  if ((options & ~(LIMITED_CREDIT_ENABLED | FREE_GET_VALUE)) !== 0) throw new DesfireError(Status.PARAMETER_ERROR, 'value file options: only bits 1..0 are defined');
  return {
    ...head,
    lowerLimit,
    upperLimit,
    value,
    limitedCreditEnabled: (options & LIMITED_CREDIT_ENABLED) !== 0,
    freeGetValue: (options & FREE_GET_VALUE) !== 0,
  };
}

export interface CreateRecordFileParams extends CreateFileHead {
  readonly recordSize: number;
  readonly maxRecords: number;
}

/**
 * CreateLinearRecordFile / CreateCyclicRecordFile: FileNo [|| ISOFileID] || CommSett || AccessRights ||
 * RecordSize (3) || MaxNumberOfRecords (3). A cyclic file keeps one record for its own backup (see
 * staging.ts), so it needs at least two.
 */
export function decodeCreateRecordFile(data: Uint8Array, isoAllowed: boolean, cyclic: boolean): CreateRecordFileParams {
  const { head, rest } = readHead(data, 10, isoAllowed);
  const recordSize = readUintLE(rest, 0, 3);
  const maxRecords = readUintLE(rest, 3, 3);
  if (recordSize === 0) throw new DesfireError(Status.PARAMETER_ERROR, 'record size 0');
  if (maxRecords < (cyclic ? 2 : 1)) throw new DesfireError(Status.PARAMETER_ERROR, `a ${cyclic ? 'cyclic' : 'linear'} record file needs at least ${cyclic ? 2 : 1} records`);
  return { ...head, recordSize, maxRecords };
}

/** CreateTransactionMACFile: the clear part (FileNo || CommSett || AccessRights || TMKeyOption); the header of the command table row. */
export const CREATE_TMAC_HEADER_LENGTH = 5;
/** ... and the enciphered part: TMKey (16) || TMKeyVer. */
export const CREATE_TMAC_DATA_LENGTH = 17;

export interface CreateTransactionMacFileParams extends CreateFileHead {
  readonly tmKeyOption: number;
  readonly tmKey: Uint8Array;
  readonly tmKeyVersion: number;
}

export function decodeCreateTransactionMacFile(header: Uint8Array, data: Uint8Array): CreateTransactionMacFileParams {
  if (data.length !== CREATE_TMAC_DATA_LENGTH) throw lengthError(`TMKey and TMKeyVer are ${CREATE_TMAC_DATA_LENGTH} bytes, got ${data.length}`);
  const { head } = readHead(header.subarray(0, 4), 4, false);
  const tmKeyOption = header[4];
  if (tmKeyOption !== TM_KEY_OPTION_AES) throw new DesfireError(Status.PARAMETER_ERROR, 'TMKeyOption: only AES (02) is defined');
  return { ...head, tmKeyOption, tmKey: data.slice(0, 16), tmKeyVersion: data[16] };
}

/** ChangeFileSettings data after the clear file number: CommSett || AccessRights (no additional rights, no SDM). */
export const CHANGE_FILE_SETTINGS_LENGTH = 3;

export function decodeChangeFileSettings(data: Uint8Array): { commMode: CommMode; access: AccessRights } {
  if (data.length !== CHANGE_FILE_SETTINGS_LENGTH) throw lengthError(`ChangeFileSettings takes CommSett and AccessRights (3 bytes), got ${data.length}`);
  return { commMode: decodeCommSettings(data[0]), access: decodeAccessRights(data, 1) };
}

/** GetFileSettings: FileType || FileOption || AccessRights || the type's own fields. */
export function encodeFileSettings(file: CardFile): Uint8Array {
  const head = concat(Uint8Array.of(file.type, commModeToByte(file.commMode)), encodeAccessRights(file.access));
  switch (file.type) {
    case FileType.STANDARD:
    case FileType.BACKUP:
      return concat(head, uintLE(file.data.length, 3));
    case FileType.VALUE: {
      const options = (file.limitedCreditEnabled ? LIMITED_CREDIT_ENABLED : 0) | (file.freeGetValue ? FREE_GET_VALUE : 0);
      return concat(head, int32LE(file.lowerLimit), int32LE(file.upperLimit), int32LE(file.limitedCreditValue), Uint8Array.of(options));
    }
    case FileType.LINEAR_RECORD:
    case FileType.CYCLIC_RECORD:
      return concat(head, uintLE(file.recordSize, 3), uintLE(file.maxRecords, 3), uintLE(file.records.length, 3));
    case FileType.TRANSACTION_MAC:
      return concat(head, Uint8Array.of(file.tmKeyOption, file.tmKeyVersion));
  }
}

/** Readable names for messages. */
export function fileTypeName(type: FileTypeCode): string {
  switch (type) {
    case FileType.STANDARD:
      return 'standard data file';
    case FileType.BACKUP:
      return 'backup data file';
    case FileType.VALUE:
      return 'value file';
    case FileType.LINEAR_RECORD:
      return 'linear record file';
    case FileType.CYCLIC_RECORD:
      return 'cyclic record file';
    case FileType.TRANSACTION_MAC:
      return 'transaction MAC file';
  }
}
