import type { CommMode } from '../desfire/comm-mode.js';
import { requireCommandSpec, type Protection } from '../desfire/commands.js';
import { DesfireError } from '../desfire/errors.js';
import { Status } from '../desfire/status.js';
import { authenticatedKey, requireAnyRight, selectedApplication } from './access.js';
import { fileTypeName } from './file-settings.js';
import type { CardContext, Modes } from './handler.js';
import { FREE_ACCESS, type AccessRights, type Application, type CardFile, type FileTypeCode } from './model.js';

/**
 * Which file a data command addresses, whether the session may run it, and how its data travels.
 *
 * Access rights per command (DESFire EV1 functional description as libfreefare and Proxmark3
 * apply it; libfreefare's card tests `test/test_mifare_desfire.c` exercise them on real cards):
 * ReadData / ReadRecords need Read or Read&Write; WriteData / WriteRecord / UpdateRecord /
 * LimitedCredit need Write or Read&Write; GetValue and Debit any of Read, Write, Read&Write;
 * Credit and ClearRecordFile Read&Write only.
 *
 * Communication mode: in an authenticated session the file's mode applies when the session's key
 * is one of the rights that grant the command; when only a free right (0xE) grants it, the command
 * runs in plain. That is how the reader libraries decide it: libfreefare
 * `madame_soleil_get_read/write_communication_settings` (file mode only when the authenticated key
 * is the Read/Write or Read&Write key, else plain), SpringCard `Desfire_WriteData2` ("If ctx->auth_key
 * does neither match w nor r/w and one of these settings contains 0xE, communication has to be done
 * in plain mode regardless of the mode indicated by comm_mode"). NXP's public material says no more.
 */

export type AccessKind = 'read' | 'write' | 'readWrite' | 'any';

export function rightsFor(access: AccessRights, kind: AccessKind): number[] {
  switch (kind) {
    case 'read':
      return [access.read, access.readWrite];
    case 'write':
      return [access.write, access.readWrite];
    case 'readWrite':
      return [access.readWrite];
    case 'any':
      return [access.read, access.write, access.readWrite];
  }
}

/** The file `fileNo` of the selected application: PERMISSION_DENIED at PICC level, FILE_NOT_FOUND when absent. */
export function requireFile(ctx: CardContext, fileNo: number): { app: Application; file: CardFile } {
  const app = selectedApplication(ctx);
  const file = app.files.get(fileNo);
  if (!file) throw new DesfireError(Status.FILE_NOT_FOUND, `no file 0x${fileNo.toString(16).padStart(2, '0')} in this application`);
  return { app, file };
}

/**
 * `requireFile` for a command that only works on some file types. Another type is PERMISSION_DENIED:
 * the virtual-PICC vectors "measured on a genuine EV1 4K" in the public code index answer GetValue,
 * Credit, Debit and LimitedCredit on a standard data file with 0x9D, and the datasheets list no other
 * status for a wrong file type.
 */
export function requireFileOfType<T extends FileTypeCode>(
  ctx: CardContext,
  fileNo: number,
  types: readonly T[],
  what: string,
): { app: Application; file: Extract<CardFile, { type: T }> } {
  const { app, file } = requireFile(ctx, fileNo);
  if (!(types as readonly number[]).includes(file.type)) {
    throw new DesfireError(Status.PERMISSION_DENIED, `${what} does not work on a ${fileTypeName(file.type)}`);
  }
  return { app, file: file as Extract<CardFile, { type: T }> };
}

/**
 * How the session gets in: `key` when it is authenticated with one of `rights`, `free` when only a
 * free right lets it in; otherwise the refusal of access.ts (AUTHENTICATION_ERROR when a key would
 * help and none is authenticated, PERMISSION_DENIED otherwise). `alsoFree` adds a free right (the
 * value file's free GetValue flag).
 */
export function grantAccess(ctx: CardContext, rights: readonly number[], what: string, alsoFree = false): 'key' | 'free' {
  const key = authenticatedKey(ctx);
  if (key !== undefined && rights.includes(key)) return 'key';
  if (alsoFree || rights.includes(FREE_ACCESS)) return 'free';
  requireAnyRight(ctx, rights, what);
  // Not reached: requireAnyRight throws when neither the session's key nor a free right is among `rights`.
  throw new DesfireError(Status.PERMISSION_DENIED, `${what} is not allowed`);
}

/** The mode a granted command runs in: the file's when a key granted it, plain when a free right did. */
export function effectiveMode(file: CardFile, grant: 'key' | 'free'): CommMode {
  return grant === 'key' ? file.commMode : 'plain';
}

/**
 * The modes of a command whose table row follows the file ('file' columns), given the effective mode:
 * - reads (ReadData, ReadRecords, GetValue): an EV2 command carries only its header, MACed unless the
 *   mode is plain; the answer travels in the mode itself;
 * - writes (WriteData, WriteRecord, UpdateRecord, Credit, Debit, LimitedCredit): the data travels in the
 *   mode; the EV2 answer has no data and is MACed unless the mode is plain.
 * Columns the table fixes (d40 and EV1 reads send their header as is) are taken from the table.
 */
export function fileRowModes(ctx: CardContext, cmd: number, mode: CommMode, kind: 'read' | 'write'): Modes {
  const channel = ctx.session.auth?.channel;
  if (!channel) return { command: 'plain', answer: 'plain' };
  const spec = requireCommandSpec(cmd);
  const generation = channel.generation;
  const macedOrPlain: CommMode = mode === 'plain' ? 'plain' : 'mac';
  const pick = (protection: Protection, fromFile: CommMode): CommMode =>
    protection === 'file' ? fromFile : (protection as CommMode);
  return kind === 'read'
    ? { command: pick(spec.command[generation], macedOrPlain), answer: pick(spec.response[generation], mode) }
    : { command: pick(spec.command[generation], mode), answer: pick(spec.response[generation], macedOrPlain) };
}

/**
 * The whole body length of a chained write (header + protected data), known from its first frame:
 * the header's length field through the session's `commandLength` in the command's mode.
 */
export function chainedBodyLength(ctx: CardContext, headerLength: number, dataLength: number, commandMode: CommMode): number {
  const channel = ctx.session.auth?.channel;
  return headerLength + (channel ? channel.commandLength(dataLength, commandMode) : dataLength);
}
