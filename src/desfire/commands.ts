/**
 * THE command table of the DESFire EV3 native command set: one frozen row per command, read by
 * the reader client, the card emulator and secure messaging alike.
 *
 * Sources (read for facts, nothing copied):
 * - codes: Proxmark3 `include/protocols.h` (MFDES_*), libfreefare `libfreefare/mifare_desfire.c`;
 * - comm modes per secure channel: Proxmark3 `client/src/mifare/desfiresecurechan.c`
 *   (`AllowedChannelModes`, where the EV2 channel reuses the EV1 rows, "ev2 like ev1";
 *   `EV1D40TransmitMAC`, the only commands whose MAC d40/EV1 sessions transmit; `D40ReceiveMAC`,
 *   the only answers a d40 session MACs), and libfreefare's `mifare_cryto_preprocess_data` /
 *   `postprocess_data` flags per command;
 * - clear header lengths: Proxmark3 `CmdHeaderLengths` (same file).
 */
import type { CommMode } from './comm-mode.js';
import { DesfireError } from './errors.js';
import type { SecureChannel } from './sm/secure-channel.js';
import { Status } from './status.js';

/** Card generations, oldest first: d40 = MF3ICD40, then EV1, EV2, EV3. */
export const CARD_GENERATIONS = Object.freeze(['d40', 'ev1', 'ev2', 'ev3'] as const);
export type CardGeneration = (typeof CARD_GENERATIONS)[number];

/** The secure-messaging generations a session can run (`SecureChannel.generation`): one column per protection record. */
export type ChannelGeneration = SecureChannel['generation'];

const CHANNEL_SET = { d40: true, ev1: true, ev2: true } as const satisfies Record<ChannelGeneration, true>;
export const CHANNEL_GENERATIONS: readonly ChannelGeneration[] = Object.freeze(Object.keys(CHANNEL_SET) as ChannelGeneration[]);

/**
 * How one direction of a command is protected inside an authenticated session:
 * - `plain` | `mac` | `full`: pass this CommMode to the session's SecureChannel. Note what the
 *   channels make of it: EV1 `plain` still runs the CMAC over a command (to move the IV) without
 *   sending it, and still appends a CMAC to an answer; d40 `plain` does nothing.
 * - `file`: the comm mode of the addressed file (its file settings; the file number is the first header byte).
 * - `auth`: an authentication handshake (see `auth/`): no secure messaging, it opens the session.
 * - `changekey`: the ChangeKey cryptogram (command) and its answer, which carries no MAC when the
 *   key changed is the one the session was opened with (the session ends), else a MAC.
 * - `none`: secure messaging is not involved at all; nothing moves (no EV1 CMAC, no EV2 counter step).
 */
export type Protection = CommMode | 'file' | 'auth' | 'changekey' | 'none';

export type ProtectionByChannel = Readonly<Record<ChannelGeneration, Protection>>;

export interface CommandSpec {
  readonly code: number;
  readonly name: string;
  /** First generation that has the command. */
  readonly since: CardGeneration;
  /** Protection of the command data, per secure-messaging generation of the session. */
  readonly command: ProtectionByChannel;
  /** Protection of the answer data, per secure-messaging generation of the session. */
  readonly response: ProtectionByChannel;
  /**
   * Leading command-data bytes sent in clear even in full mode (and left out of d40 MACs), e.g.
   * file number + offset + length for WriteData. 0 when there is none, and also for commands whose
   * data is never enciphered (Proxmark's `CMD_HEADER_LEN_ALL`), where it does not matter.
   */
  readonly headerLength: number;
  /** The command data may need more than one frame (0xAF continuation frames from the reader). */
  readonly chainedCommand: boolean;
  /** The answer may come in more than one frame (0xAF, then the reader asks for more). */
  readonly chainedResponse: boolean;
}

function byChannel(d40: Protection, ev1: Protection, ev2: Protection): ProtectionByChannel {
  return Object.freeze({ d40, ev1, ev2 });
}

interface Shape {
  readonly command: ProtectionByChannel;
  readonly response: ProtectionByChannel;
}

function shape(command: ProtectionByChannel, response: ProtectionByChannel): Shape {
  return Object.freeze({ command, response });
}

const everywhere = (p: Protection): ProtectionByChannel => byChannel(p, p, p);

/** Handshakes: 0x0A, 0x1A, 0xAA, 0x71, 0x77. */
const AUTH = shape(everywhere('auth'), everywhere('auth'));

/** Outside secure messaging: SelectApplication (it ends the session) and the proximity check. */
const OUTSIDE = shape(everywhere('none'), everywhere('none'));

/**
 * The management commands Proxmark marks DCMMACed in every channel. d40 MACs neither way (only
 * file data is MACed there); EV1 runs the CMAC over the command without sending it (libfreefare
 * `MDCM_PLAIN | CMAC_COMMAND`, not in Proxmark's EV1D40TransmitMAC) and the card CMACs its answer
 * (libfreefare `CMAC_VERIFY`); EV2 MACs both ways.
 */
const MACED = shape(byChannel('plain', 'plain', 'mac'), byChannel('plain', 'mac', 'mac'));

/** Like MACED, but d40/EV1 sessions transmit the command MAC too (Proxmark `EV1D40TransmitMAC`). */
const MACED_SENT = shape(everywhere('mac'), byChannel('plain', 'mac', 'mac'));

/** Enciphered command data (Proxmark DCMEncrypted; libfreefare `MDCM_ENCIPHERED | ENC_COMMAND`), MACed answer. */
const ENCIPHERED_COMMAND = shape(everywhere('full'), byChannel('plain', 'mac', 'mac'));

/** Plain/MACed command, enciphered answer (GetCardUID: Proxmark DCMEncrypted; libfreefare postprocess `MDCM_ENCIPHERED`). */
const ENCIPHERED_ANSWER = shape(byChannel('plain', 'plain', 'mac'), everywhere('full'));

/**
 * Reads (ReadData, ReadRecords, GetValue): the command has only a header, so d40 and EV1 send it
 * as is (EV1 runs the CMAC); EV2 MACs it when the file is MACed or enciphered. The answer follows
 * the file in every channel (Proxmark `D40ReceiveMAC` for d40).
 */
const FILE_READ = shape(byChannel('plain', 'plain', 'file'), everywhere('file'));

/**
 * Writes (WriteData, WriteRecord, UpdateRecord, Credit, Debit, LimitedCredit): the data follows the
 * file; the answer has no data: d40 leaves it bare, EV1 CMACs it, EV2 MACs it unless the file is plain.
 */
const FILE_WRITE = shape(everywhere('file'), byChannel('plain', 'mac', 'file'));

/** ChangeKey / ChangeKeyEV2: Proxmark DCMEncryptedPlain; libfreefare `MDCM_ENCIPHERED | ENC_COMMAND | NO_CRC` with its own CRCs. */
const CHANGE_KEY = shape(everywhere('changekey'), byChannel('plain', 'changekey', 'changekey'));

interface Framing {
  readonly headerLength?: number;
  readonly chainedCommand?: boolean;
  readonly chainedResponse?: boolean;
}

function row<const N extends string>(code: number, name: N, since: CardGeneration, protection: Shape, framing: Framing = {}) {
  const spec: CommandSpec & { readonly name: N } = {
    code,
    name,
    since,
    command: protection.command,
    response: protection.response,
    headerLength: framing.headerLength ?? 0,
    chainedCommand: framing.chainedCommand ?? false,
    chainedResponse: framing.chainedResponse ?? false,
  };
  return Object.freeze(spec);
}

/** Every command, ordered as NXP groups them. */
export const COMMANDS = Object.freeze([
  // --- Authentication. 0x71/0x77 are AuthenticateEV2First/NonFirst (Proxmark's protocols.h comments
  // them "LRP": the same codes run LRP when the reader asks for it in PCDcap2).
  row(0x0a, 'Authenticate', 'd40', AUTH),
  row(0x1a, 'AuthenticateISO', 'ev1', AUTH),
  row(0xaa, 'AuthenticateAES', 'ev1', AUTH),
  row(0x71, 'AuthenticateEV2First', 'ev2', AUTH),
  row(0x77, 'AuthenticateEV2NonFirst', 'ev2', AUTH),

  // --- Key management.
  row(0xc4, 'ChangeKey', 'd40', CHANGE_KEY, { headerLength: 1 }), // key number in clear
  row(0xc6, 'ChangeKeyEV2', 'ev2', CHANGE_KEY, { headerLength: 2 }), // key set number, key number
  row(0x54, 'ChangeKeySettings', 'd40', ENCIPHERED_COMMAND),
  row(0x45, 'GetKeySettings', 'd40', MACED),
  row(0x64, 'GetKeyVersion', 'd40', MACED),
  // Key sets are an EV2 feature; the three are in Proxmark's EV1D40TransmitMAC, hence MACED_SENT.
  row(0x56, 'InitializeKeySet', 'ev2', MACED_SENT),
  row(0x57, 'FinalizeKeySet', 'ev2', MACED_SENT),
  row(0x55, 'RollKeySet', 'ev2', MACED_SENT),
  // Proxmark calls 0x5C MFDES_CHANGE_CONFIGURATION; the option byte stays clear (header 1; libfreefare offset 2 = cmd + option).
  row(0x5c, 'SetConfiguration', 'ev1', ENCIPHERED_COMMAND, { headerLength: 1 }),

  // --- PICC level.
  row(0xca, 'CreateApplication', 'd40', MACED),
  row(0xda, 'DeleteApplication', 'd40', MACED),
  // Selecting ends any authentication, so nothing of the old session applies (Proxmark: DCMPlain in every channel).
  row(0x5a, 'SelectApplication', 'd40', OUTSIDE),
  row(0xfc, 'FormatPICC', 'd40', MACED),
  // Always three frames (7 + 7 + 14 bytes); the EV1 CMAC covers the joined answer (libfreefare).
  // Judgement: not in Proxmark's table; EV2 MACs it like every other authenticated non-file command.
  row(0x60, 'GetVersion', 'd40', MACED, { chainedResponse: true }),
  row(0x6a, 'GetApplicationIDs', 'd40', MACED, { chainedResponse: true }), // 3 bytes per AID, more than 59 beyond 19 applications
  row(0x6d, 'GetDFNames', 'ev1', MACED, { chainedResponse: true }), // one DF per frame
  row(0x6e, 'FreeMemory', 'ev1', MACED),
  row(0x51, 'GetCardUID', 'ev1', ENCIPHERED_ANSWER),
  // Sent as C9 + parameters, then AF + EncK || DAMMAC (Proxmark DesfireCreateDelegatedApplication); whole data clear (CMD_HEADER_LEN_ALL).
  row(0xc9, 'CreateDelegatedApplication', 'ev2', MACED, { chainedCommand: true }),
  row(0x69, 'GetDelegatedInfo', 'ev2', MACED, { headerLength: 2 }), // DAMSlotNo

  // --- Files.
  row(0xcd, 'CreateStdDataFile', 'd40', MACED),
  row(0xcb, 'CreateBackupDataFile', 'd40', MACED),
  row(0xcc, 'CreateValueFile', 'd40', MACED),
  row(0xc1, 'CreateLinearRecordFile', 'd40', MACED),
  row(0xc0, 'CreateCyclicRecordFile', 'd40', MACED),
  // File number, comm settings, access rights (2), TMKeyOption in clear; TMKey + TMKeyVer enciphered.
  // Judgement for d40: Proxmark lists it only for the EV1/EV2/LRP channels; the table says full there too.
  row(0xce, 'CreateTransactionMACFile', 'ev2', ENCIPHERED_COMMAND, { headerLength: 5 }),
  row(0xdf, 'DeleteFile', 'd40', MACED),
  row(0x6f, 'GetFileIDs', 'd40', MACED), // at most 32 IDs: one frame
  row(0x61, 'GetISOFileIDs', 'ev1', MACED, { chainedResponse: true }), // up to 32 x 2 bytes
  row(0xf5, 'GetFileSettings', 'd40', MACED, { headerLength: 1 }),
  // Enciphered, except that libfreefare (mifare_desfire_change_file_settings) sends it plain when the
  // file's Change access right is free (0xE): so it depends on the file ('file'), and the card's
  // handler says which (plain when free, else enciphered with the management answer).
  row(0x5f, 'ChangeFileSettings', 'd40', FILE_WRITE, { headerLength: 1 }), // same shape as the file writes

  // --- Data. Headers: file number (1), offset/record (3), length/count (3) (Proxmark CmdHeaderLengths).
  row(0xbd, 'ReadData', 'd40', FILE_READ, { headerLength: 7, chainedResponse: true }),
  row(0x3d, 'WriteData', 'd40', FILE_WRITE, { headerLength: 7, chainedCommand: true }),
  row(0x6c, 'GetValue', 'd40', FILE_READ, { headerLength: 1 }),
  // Judgement: libfreefare MACs value operations per the file (`cs | MAC_COMMAND | CMAC_COMMAND`),
  // Proxmark since e1598cd62 (2025) no longer transmits their MAC in d40/EV1 sessions "to match real
  // card behavior". We follow the file, as libfreefare and NXP's comm-settings model do.
  row(0x0c, 'Credit', 'd40', FILE_WRITE, { headerLength: 1 }),
  row(0xdc, 'Debit', 'd40', FILE_WRITE, { headerLength: 1 }),
  row(0x1c, 'LimitedCredit', 'd40', FILE_WRITE, { headerLength: 1 }),
  row(0x3b, 'WriteRecord', 'd40', FILE_WRITE, { headerLength: 7, chainedCommand: true }),
  row(0xdb, 'UpdateRecord', 'ev2', FILE_WRITE, { headerLength: 10, chainedCommand: true }), // + record number (3)
  row(0xbb, 'ReadRecords', 'd40', FILE_READ, { headerLength: 7, chainedResponse: true }),
  row(0xeb, 'ClearRecordFile', 'd40', MACED),
  row(0xc7, 'CommitTransaction', 'd40', MACED), // EV2: optional option byte, answer optionally TMC || TMV
  row(0xa7, 'AbortTransaction', 'd40', MACED),
  row(0xc8, 'CommitReaderID', 'ev2', MACED_SENT), // TMRI in, EncTMRI out (enciphered by the TMAC key, not by SM)

  // --- Proximity check and originality signature: EV2 and later (Proxmark `hf mfdes info`:
  // "2.0 - DESFire Ev2, Originality check, proximity check"; it reads the signature on EV2+).
  // The proximity check runs outside secure messaging: VerifyPC carries its own 8-byte CMAC under the
  // proximity key and the card answers status 0x90 with its MAC (Proxmark DesfirePCRun). In native
  // framing the card seems to answer ProximityCheck without a status byte (Proxmark DESFIRESendRaw).
  row(0xf0, 'PreparePC', 'ev2', OUTSIDE),
  row(0xf2, 'ProximityCheck', 'ev2', OUTSIDE),
  row(0xfd, 'VerifyPC', 'ev2', OUTSIDE),
  // Answer: status 0x90 and a 56-byte ECC signature (Proxmark DesfireReadSignature). Judgement: in an
  // EV2 session enciphered (as NTAG 424 DNA documents Read_Sig, CommMode.Full), 64 + 8 bytes, so chained.
  row(0x3c, 'Read_Sig', 'ev2', shape(byChannel('plain', 'plain', 'mac'), byChannel('plain', 'mac', 'full')), { headerLength: 1, chainedResponse: true }),
] as const);

export type CommandName = (typeof COMMANDS)[number]['name'];

/** Command codes by name, e.g. `CommandCode.ReadData === 0xbd`. */
export const CommandCode: Readonly<Record<CommandName, number>> = Object.freeze(
  Object.fromEntries(COMMANDS.map((c) => [c.name, c.code])) as Record<CommandName, number>,
);

const BY_CODE: ReadonlyMap<number, CommandSpec> = new Map(COMMANDS.map((c) => [c.code, c]));

/** The row of `code`, or undefined for a code no DESFire EV3 knows. */
export function commandSpec(code: number): CommandSpec | undefined {
  return BY_CODE.get(code);
}

/** True when a card of `generation` has the command. */
export function isAvailableOn(spec: CommandSpec, generation: CardGeneration): boolean {
  return CARD_GENERATIONS.indexOf(spec.since) <= CARD_GENERATIONS.indexOf(generation);
}

/** The command set of a generation: the d40 base with each later generation's additions layered on. */
export function commandsFor(generation: CardGeneration): readonly CommandSpec[] {
  return Object.freeze(COMMANDS.filter((c) => isAvailableOn(c, generation)));
}

/** The row a card of `generation` dispatches `code` to; ILLEGAL_COMMAND_CODE when it has none (as the card answers). */
export function requireCommandSpec(code: number, generation: CardGeneration = 'ev3'): CommandSpec {
  const spec = BY_CODE.get(code);
  if (spec === undefined || !isAvailableOn(spec, generation)) {
    throw new DesfireError(Status.ILLEGAL_COMMAND_CODE, `no command 0x${code.toString(16).padStart(2, '0')} on a ${generation} card`, { command: code });
  }
  return spec;
}
