import { concat, constantTimeEqual, EMPTY, fromHex, uintLE } from '../../desfire/bytes.js';
import { CommandCode, requireCommandSpec } from '../../desfire/commands.js';
import { DesfireError } from '../../desfire/errors.js';
import { encodeIsoAnswer, type IsoApdu } from '../../desfire/framing/index.js';
import { Status } from '../../desfire/status.js';
import type { CardContext, CommandHandler } from '../handler.js';
import { DATA_HANDLERS } from '../handlers/data.js';
import { FileType } from '../model.js';
import { PICC_AID } from '../session.js';
import { IsoStatus, isoStatusOf } from './iso-status.js';

/**
 * The card's ISO/IEC 7816-4 layer (CLA 00): SELECT FILE, READ BINARY, UPDATE BINARY, READ RECORD,
 * APPEND RECORD and GET CHALLENGE, as DESFire EV1+ offer them over ISO DF names and file IDs.
 * Data commands are mapped onto the native handlers (ReadData, WriteData, ReadRecords,
 * WriteRecord), so access rights and transactions work exactly as natively; but ISO carries no
 * secure messaging, so a file reached in MAC or full mode is refused (6982). ISO authentication
 * (EXTERNAL/INTERNAL AUTHENTICATE) is not offered by this card (6D00).
 */

/** MF file ID and the DF name of the PICC level (DESFire EV1+). */
const MF_FID = 0x3f00;
const PICC_DF_NAME = fromHex('d2760000850100');

export function answerIso7816(ctx: CardContext, apdu: IsoApdu): Uint8Array {
  try {
    const data = dispatchIso(ctx, apdu);
    return encodeIsoAnswer(data, IsoStatus.OK);
  } catch (e) {
    if (e instanceof IsoRefusal) return encodeIsoAnswer(EMPTY, e.sw);
    return encodeIsoAnswer(EMPTY, isoStatusOf(e));
  }
}

/** A refusal that has its own status word (no native status behind it). */
class IsoRefusal extends Error {
  constructor(readonly sw: number) {
    super(`ISO status ${sw.toString(16)}`);
  }
}

function dispatchIso(ctx: CardContext, apdu: IsoApdu): Uint8Array {
  switch (apdu.ins) {
    case 0xa4:
      return select(ctx, apdu);
    case 0xb0:
      return readBinary(ctx, apdu);
    case 0xd6:
      return updateBinary(ctx, apdu);
    case 0xb2:
      return readRecord(ctx, apdu);
    case 0xe2:
      return appendRecord(ctx, apdu);
    case 0x84:
      return getChallenge(ctx, apdu);
    default:
      throw new IsoRefusal(IsoStatus.INS_NOT_SUPPORTED);
  }
}

/**
 * SELECT FILE: P1 00 by file ID (3F00 = PICC level, an application's ISO FID, or an EF of the
 * selected application), P1 02 an EF under the current DF, P1 04 by DF name; P2 00 or 0C, no FCI
 * is returned. Selecting a DF ends any session, as SelectApplication does.
 */
function select(ctx: CardContext, { p1, p2, data }: IsoApdu): Uint8Array {
  if (p2 !== 0x00 && p2 !== 0x0c) throw new IsoRefusal(IsoStatus.WRONG_PARAMETERS);
  const aid = selectedDf(ctx, p1, data);
  if (aid !== undefined) {
    ctx.session.dropAuthentication();
    ctx.session.selectedAid = aid;
    ctx.session.isoFile = undefined;
    return EMPTY;
  }
  const fid = (data[0] << 8) | data[1];
  const current = ctx.picc.applications.get(ctx.session.selectedAid);
  const file = current && [...current.files.values()].find((f) => f.isoFid === fid);
  if (!file) throw new IsoRefusal(IsoStatus.FILE_NOT_FOUND);
  ctx.session.isoFile = file.fileNo;
  return EMPTY;
}

/** The DF (PICC level or application) a SELECT names, or undefined when it names an EF. */
function selectedDf(ctx: CardContext, p1: number, data: Uint8Array): number | undefined {
  const apps = [...ctx.picc.applications.values()];
  if (p1 === 0x04) {
    if (data.length < 1 || data.length > 16) throw new IsoRefusal(IsoStatus.WRONG_LENGTH);
    if (constantTimeEqual(data, PICC_DF_NAME)) return PICC_AID;
    const app = apps.find((a) => a.dfName && constantTimeEqual(a.dfName, data));
    if (!app) throw new IsoRefusal(IsoStatus.FILE_NOT_FOUND);
    return app.aid;
  }
  if (p1 !== 0x00 && p1 !== 0x02) throw new IsoRefusal(IsoStatus.WRONG_PARAMETERS);
  if (data.length !== 2) throw new IsoRefusal(IsoStatus.WRONG_LENGTH);
  if (p1 === 0x02) return undefined;
  const fid = (data[0] << 8) | data[1];
  if (fid === MF_FID) return PICC_AID;
  return apps.find((a) => a.isoFid === fid)?.aid;
}

/**
 * The file a data command addresses: P1 bit 8 set means a short file identifier in P1 bits 5..1
 * (taken as the DESFire file number) and makes it the current EF; otherwise the current EF.
 */
function addressedFile(ctx: CardContext, p1: number, sfiInP1: boolean): number {
  if (sfiInP1 && p1 & 0x80) {
    ctx.session.isoFile = p1 & 0x1f;
    return p1 & 0x1f;
  }
  if (ctx.session.isoFile === undefined) throw new IsoRefusal(IsoStatus.FILE_NOT_FOUND);
  return ctx.session.isoFile;
}

/** Runs a native data handler for the ISO command; refuses what would need secure messaging. */
function runNative(ctx: CardContext, code: number, header: Uint8Array, data: Uint8Array): Uint8Array {
  const handler = DATA_HANDLERS.get(code) as CommandHandler;
  if (ctx.session.auth && handler.modes && handler.modes(ctx, header).command !== 'plain') {
    throw new IsoRefusal(IsoStatus.SECURITY_STATUS_NOT_SATISFIED);
  }
  return handler.run(ctx, { cmd: code, spec: requireCommandSpec(code), header, data }).data;
}

function binaryOffset(p1: number, p2: number): number {
  return p1 & 0x80 ? p2 : ((p1 & 0x7f) << 8) | p2;
}

function requireFileType(ctx: CardContext, fileNo: number, types: readonly number[]): void {
  const file = ctx.picc.applications.get(ctx.session.selectedAid)?.files.get(fileNo);
  if (!file) throw new IsoRefusal(IsoStatus.FILE_NOT_FOUND);
  if (!types.includes(file.type)) throw new IsoRefusal(IsoStatus.INCOMPATIBLE_FILE_STRUCTURE);
}

/** READ BINARY: Le bytes from the offset (Le 00 = up to 256, to the end of the file). */
function readBinary(ctx: CardContext, { p1, p2, le }: IsoApdu): Uint8Array {
  const fileNo = addressedFile(ctx, p1, true);
  requireFileType(ctx, fileNo, [FileType.STANDARD, FileType.BACKUP]);
  const offset = binaryOffset(p1, p2);
  const file = ctx.picc.applications.get(ctx.session.selectedAid)?.files.get(fileNo);
  const size = file && 'data' in file ? file.data.length : 0;
  if (offset >= size) throw new IsoRefusal(IsoStatus.WRONG_OFFSET);
  const length = Math.min(le ?? 256, size - offset);
  return runNative(ctx, CommandCode.ReadData, concat(Uint8Array.of(fileNo), uintLE(offset, 3), uintLE(length, 3)), EMPTY);
}

/** UPDATE BINARY: writes the data at the offset of a standard data file (written at once). */
function updateBinary(ctx: CardContext, { p1, p2, data }: IsoApdu): Uint8Array {
  const fileNo = addressedFile(ctx, p1, true);
  requireFileType(ctx, fileNo, [FileType.STANDARD]);
  if (data.length === 0) throw new IsoRefusal(IsoStatus.WRONG_LENGTH);
  const header = concat(Uint8Array.of(fileNo), uintLE(binaryOffset(p1, p2), 3), uintLE(data.length, 3));
  return runNative(ctx, CommandCode.WriteData, header, data);
}

/** The record file of READ/APPEND RECORD: SFI in P2 bits 8..4 (made current), else the current EF. */
function recordFile(ctx: CardContext, p2: number): number {
  const sfi = p2 >> 3;
  if (sfi) ctx.session.isoFile = sfi;
  const fileNo = addressedFile(ctx, 0, false);
  requireFileType(ctx, fileNo, [FileType.LINEAR_RECORD, FileType.CYCLIC_RECORD]);
  return fileNo;
}

/** READ RECORD: P1 = record number, 1 the newest; P2 = SFI << 3 | 100 (or 04, the current EF). */
function readRecord(ctx: CardContext, { p1, p2 }: IsoApdu): Uint8Array {
  if ((p2 & 0x07) !== 0x04) throw new IsoRefusal(IsoStatus.WRONG_PARAMETERS);
  const fileNo = recordFile(ctx, p2);
  if (p1 === 0) throw new IsoRefusal(IsoStatus.WRONG_PARAMETERS);
  try {
    return runNative(ctx, CommandCode.ReadRecords, concat(Uint8Array.of(fileNo), uintLE(p1 - 1, 3), uintLE(1, 3)), EMPTY);
  } catch (e) {
    if (e instanceof DesfireError && e.status === Status.BOUNDARY_ERROR) throw new IsoRefusal(IsoStatus.RECORD_NOT_FOUND);
    throw e;
  }
}

/** APPEND RECORD: a new record in the current record file (P2 = SFI << 3 or 00); like WriteRecord, it waits for CommitTransaction. */
function appendRecord(ctx: CardContext, { p1, p2, data }: IsoApdu): Uint8Array {
  if (p1 !== 0x00 || (p2 & 0x07) !== 0x00) throw new IsoRefusal(IsoStatus.WRONG_PARAMETERS);
  const fileNo = recordFile(ctx, p2);
  if (data.length === 0) throw new IsoRefusal(IsoStatus.WRONG_LENGTH);
  return runNative(ctx, CommandCode.WriteRecord, concat(Uint8Array.of(fileNo), uintLE(0, 3), uintLE(data.length, 3)), data);
}

/** GET CHALLENGE: 8 or 16 random bytes. */
function getChallenge(ctx: CardContext, { p1, p2, le }: IsoApdu): Uint8Array {
  if (p1 !== 0 || p2 !== 0) throw new IsoRefusal(IsoStatus.WRONG_PARAMETERS);
  if (le !== 8 && le !== 16) throw new IsoRefusal(IsoStatus.WRONG_LENGTH);
  return ctx.random(le);
}

