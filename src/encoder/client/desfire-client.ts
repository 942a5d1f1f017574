import { decodeAccessRights, encodeAccessRights, type AccessRights } from '../../desfire/access-rights.js';
import { ReaderAuthentication } from '../../desfire/auth/handshake.js';
import type { AuthScheme } from '../../desfire/auth/scheme.js';
import { ev1Scheme, ev2Scheme, legacyScheme } from '../../desfire/auth/schemes.js';
import { concat, EMPTY, int32LE, readInt32LE, readUintLE, uintLE } from '../../desfire/bytes.js';
import { changeKeyCryptogram, type KeyChange } from '../../desfire/change-key.js';
import { commModeFromByte, commModeToByte, type CommMode } from '../../desfire/comm-mode.js';
import { CommandCode, requireCommandSpec, type Protection } from '../../desfire/commands.js';
import { createBlockCipher, effectiveKeyType, type KeyType } from '../../desfire/crypto/key-type.js';
import { DesfireError, lengthError } from '../../desfire/errors.js';
import { encodeCommandFrame, exchange, parseAnswerFrame, type CardAnswer, type FrameStyle } from '../../desfire/framing/index.js';
import { ProximityCommand, ReaderProximityCheck, type NanoTimer, type RoundCount } from '../../desfire/proximity-check.js';
import { Cmac } from '../../desfire/crypto/cmac.js';
import { parseReadSigAnswer } from '../../desfire/originality.js';
import { systemRandom, type RandomSource } from '../../desfire/random.js';
import type { Ev2Channel } from '../../desfire/sm/ev2-channel.js';
import type { SecureChannel } from '../../desfire/sm/secure-channel.js';
import { Status } from '../../desfire/status.js';
import type { TimedAnswer, Transport } from '../../desfire/transport.js';
import { TransportError } from '../transport-error.js';
import { parseCardVersion, type CardVersion } from './card-version.js';

/** How to authenticate: legacy d40 (0x0A), EV1 (0x1A/0xAA by key type), EV2 First (0x71) or NonFirst (0x77). */
export type AuthMethod = 'd40' | 'ev1' | 'ev2' | 'ev2-non-first';

export interface CardKey {
  readonly type: KeyType;
  readonly key: Uint8Array;
}

export interface ClientOptions {
  /** Native frames or ISO/IEC 7816-4 wrapped ones (default: wrapped, what PC/SC readers pass best). */
  readonly style?: FrameStyle;
  /** Where RndA comes from (scripted in tests). */
  readonly random?: RandomSource;
}

export interface FileSettings {
  readonly fileType: number;
  readonly commMode: CommMode;
  readonly access: AccessRights;
  /** The type-specific rest, raw (size, limits or record sizes, little-endian). */
  readonly details: Uint8Array;
}

const OK: readonly number[] = [Status.OPERATION_OK];
const PC_OK: readonly number[] = [Status.OPERATION_OK_90];
const EMPTY_ANSWER = 'empty answer from the reader: the card left the field or lost power';

/** Modes of one command and its answer in the current session. */
interface Modes {
  readonly command: CommMode;
  readonly answer: CommMode;
}

/**
 * The reader side of DESFire: one typed method per command, over any `Transport`. The steps a
 * command goes through, in order: the command table gives its protection in the session's
 * generation (a file's comm mode for 'file' rows, given by the caller) → secure messaging wraps
 * it → framing cuts it into frames and joins the answer's → the status is checked (anything but
 * OK is a DesfireError from the card, and the card has then ended the session) → secure messaging
 * unwraps the answer → the method parses it and checks its length.
 */
export class DesfireClient {
  readonly #transport: Transport;
  readonly #style: FrameStyle;
  readonly #random: RandomSource;
  #session: SecureChannel | undefined;
  #sessionKeyNo: number | undefined;

  constructor(transport: Transport, options: ClientOptions = {}) {
    this.#transport = transport;
    this.#style = options.style ?? 'wrapped';
    this.#random = options.random ?? systemRandom;
  }

  /** The secure channel of the current authentication, if any. */
  get session(): SecureChannel | undefined {
    return this.#session;
  }

  get authenticatedKeyNo(): number | undefined {
    return this.#sessionKeyNo;
  }

  /** Forgets the session (the card forgets it on its own on any error, selection or re-authentication). */
  dropSession(): void {
    this.#session?.destroy();
    this.#session = undefined;
    this.#sessionKeyNo = undefined;
  }

  // ---- the exchange

  async #frames(cmd: number, data: Uint8Array, followAnswerChain = true): Promise<CardAnswer> {
    return exchange((frame) => this.#transceive(frame), cmd, data, { style: this.#style, followAnswerChain });
  }

  /** One frame to the card and its whole answer. */
  async #transceive(frame: Uint8Array): Promise<Uint8Array> {
    let answer: Uint8Array;
    try {
      answer = await this.#transport.transceive(frame);
    } catch (e) {
      throw this.#linkFailure(e);
    }
    // A card pulled mid-command can come back as an empty answer through PC/SC (see emulator/vpcd).
    if (answer.length === 0) throw new TransportError(EMPTY_ANSWER);
    return answer;
  }

  /** A failure of the link to the card, as a TransportError: the card's session is lost with it. */
  #linkFailure(e: unknown): TransportError {
    this.dropSession();
    return e instanceof TransportError ? e : new TransportError(e instanceof Error ? e.message : String(e), { cause: e });
  }

  /** Refuses any status but the accepted ones; the card ends the session on an error, so do we. */
  #check(answer: CardAnswer, cmd: number, accepted: readonly number[] = OK): CardAnswer {
    if (accepted.includes(answer.status)) return answer;
    this.dropSession();
    throw new DesfireError(answer.status, undefined, { command: cmd, origin: 'card' });
  }

  /** Resolves a table protection to the modes of this session; 'file' takes the file's effective mode from the caller. */
  #modes(cmd: number, fileMode?: CommMode): Modes | undefined {
    const session = this.#session;
    if (!session) return undefined;
    const spec = requireCommandSpec(cmd);
    const resolve = (p: Protection): CommMode => {
      if (p === 'plain' || p === 'mac' || p === 'full') return p;
      if (p === 'file') {
        if (fileMode === undefined) throw new RangeError(`${spec.name} needs the file's comm mode in a session`);
        return fileMode;
      }
      throw new RangeError(`${spec.name} (${p}) is not sent through send()`);
    };
    return { command: resolve(spec.command[session.generation]), answer: resolve(spec.response[session.generation]) };
  }

  /**
   * One command through secure messaging: returns the plain answer data. `answerLength`, when
   * known, makes d40/EV1 full-mode unpadding exact.
   */
  async send(
    cmd: number,
    header: Uint8Array,
    data: Uint8Array,
    options: { fileMode?: CommMode; answerLength?: number; accepted?: readonly number[] } = {},
  ): Promise<Uint8Array> {
    const modes = this.#modes(cmd, options.fileMode);
    const session = this.#session;
    const body = session && modes ? session.wrapCommand(cmd, header, data, modes.command) : concat(header, data);
    const answer = this.#check(await this.#frames(cmd, body), cmd, options.accepted);
    if (!session || !modes) return answer.data;
    try {
      return session.unwrapResponse(answer.status, answer.data, modes.answer, options.answerLength);
    } catch (e) {
      this.dropSession(); // an answer that fails its MAC or CRC ends the session: never trust it further
      throw e instanceof DesfireError ? e.forCommand(cmd) : e;
    }
  }

  // ---- authentication

  /** Mutual authentication with `key` as key `keyNo` of the selected level; opens the session. */
  async authenticate(method: AuthMethod, keyNo: number, key: CardKey): Promise<void> {
    const type = effectiveKeyType(key.type, key.key);
    let scheme: AuthScheme;
    if (method === 'd40') scheme = legacyScheme(type, key.key);
    else if (method === 'ev1') scheme = ev1Scheme(type, key.key);
    else if (method === 'ev2') scheme = ev2Scheme(type, key.key);
    else {
      const current = this.#session;
      if (current?.generation !== 'ev2') throw new RangeError('AuthenticateEV2NonFirst continues an EV2 session; there is none');
      const ev2 = current as Ev2Channel;
      scheme = ev2Scheme(type, key.key, { continuing: { ti: ev2.ti, cmdCtr: ev2.cmdCtr } });
    }
    this.dropSession();
    const reader = new ReaderAuthentication(scheme, this.#random);
    const challenge = this.#check(await this.#frames(scheme.command, scheme.commandData(keyNo), false), scheme.command, [Status.ADDITIONAL_FRAME]);
    const answer = this.#check(await this.#frames(0xaf, reader.answerChallenge(challenge.data), false), scheme.command);
    this.#session = reader.finish(answer.data);
    this.#sessionKeyNo = keyNo;
  }

  // ---- PICC level

  async getVersion(): Promise<CardVersion> {
    return parseCardVersion(await this.send(CommandCode.GetVersion, EMPTY, EMPTY));
  }

  async selectApplication(aid: number): Promise<void> {
    this.dropSession(); // selecting ends any authentication, on the card too
    this.#check(await this.#frames(CommandCode.SelectApplication, uintLE(aid, 3)), CommandCode.SelectApplication);
  }

  async getApplicationIds(): Promise<number[]> {
    const data = await this.send(CommandCode.GetApplicationIDs, EMPTY, EMPTY);
    if (data.length % 3 !== 0) throw lengthError('GetApplicationIDs answer is not whole AIDs');
    return Array.from({ length: data.length / 3 }, (_, i) => readUintLE(data, 3 * i, 3));
  }

  async createApplication(app: { aid: number; keySettings: number; keyType: KeyType; keyCount: number; isoFid?: number; dfName?: Uint8Array }): Promise<void> {
    const crypto = app.keyType === 'aes' ? 0x80 : app.keyType === '3k3des' ? 0x40 : 0x00;
    const iso = app.isoFid !== undefined;
    const keySettings2 = crypto | (iso ? 0x20 : 0) | app.keyCount;
    const isoPart = iso ? concat(uintLE(app.isoFid ?? 0, 2), app.dfName ?? EMPTY) : EMPTY;
    await this.send(CommandCode.CreateApplication, EMPTY, concat(uintLE(app.aid, 3), Uint8Array.of(app.keySettings, keySettings2), isoPart));
  }

  async deleteApplication(aid: number): Promise<void> {
    await this.send(CommandCode.DeleteApplication, EMPTY, uintLE(aid, 3));
  }

  async formatPicc(): Promise<void> {
    await this.send(CommandCode.FormatPICC, EMPTY, EMPTY);
  }

  async freeMemory(): Promise<number> {
    return readUintLE(await this.send(CommandCode.FreeMemory, EMPTY, EMPTY, { answerLength: 3 }), 0, 3);
  }

  /** The real UID (also when random UID is on); needs a session. */
  async getCardUid(): Promise<Uint8Array> {
    const uid = await this.send(CommandCode.GetCardUID, EMPTY, EMPTY, { answerLength: 7 });
    if (uid.length !== 7 && uid.length !== 10) throw lengthError(`GetCardUID answered ${uid.length} bytes`);
    return uid;
  }

  async setConfiguration(option: number, data: Uint8Array): Promise<void> {
    await this.send(CommandCode.SetConfiguration, Uint8Array.of(option), data);
  }

  // ---- keys

  async getKeySettings(): Promise<{ keySettings: number; keyCount: number; keyType: KeyType }> {
    const data = await this.send(CommandCode.GetKeySettings, EMPTY, EMPTY, { answerLength: 2 });
    if (data.length !== 2) throw lengthError('GetKeySettings answers 2 bytes');
    const keyType: KeyType = data[1] >> 6 === 2 ? 'aes' : data[1] >> 6 === 1 ? '3k3des' : '2k3des';
    return { keySettings: data[0], keyCount: data[1] & 0x0f, keyType };
  }

  async changeKeySettings(keySettings: number): Promise<void> {
    await this.send(CommandCode.ChangeKeySettings, EMPTY, Uint8Array.of(keySettings));
  }

  async getKeyVersion(keyNo: number): Promise<number> {
    const data = await this.send(CommandCode.GetKeyVersion, EMPTY, Uint8Array.of(keyNo), { answerLength: 1 });
    if (data.length !== 1) throw lengthError('GetKeyVersion answers 1 byte');
    return data[0];
  }

  /**
   * ChangeKey. Give `oldKey` when changing another key than the session's. Changing the session's
   * own key ends the session: its answer carries no MAC.
   */
  async changeKey(change: KeyChange): Promise<void> {
    const session = this.#session;
    if (!session) throw new RangeError('ChangeKey needs an authenticated session');
    const cmd = CommandCode.ChangeKey;
    const header = Uint8Array.of(change.keyNo);
    const answer = this.#check(await this.#frames(cmd, session.wrapCryptogram(cmd, header, changeKeyCryptogram(session.generation, change))), cmd);
    if (!change.oldKey) {
      this.dropSession();
      if (answer.data.length !== 0) throw lengthError('ChangeKey of the session key answers no data');
      return;
    }
    session.unwrapResponse(answer.status, answer.data, session.generation === 'ev2' ? 'mac' : 'plain', 0);
  }

  // ---- files

  async createStdDataFile(fileNo: number, commMode: CommMode, access: AccessRights, size: number, isoFid?: number): Promise<void> {
    await this.#createFile(CommandCode.CreateStdDataFile, fileNo, commMode, access, uintLE(size, 3), isoFid);
  }

  async createBackupDataFile(fileNo: number, commMode: CommMode, access: AccessRights, size: number, isoFid?: number): Promise<void> {
    await this.#createFile(CommandCode.CreateBackupDataFile, fileNo, commMode, access, uintLE(size, 3), isoFid);
  }

  async createValueFile(fileNo: number, commMode: CommMode, access: AccessRights, limits: { lower: number; upper: number; value: number; options: number }): Promise<void> {
    const rest = concat(int32LE(limits.lower), int32LE(limits.upper), int32LE(limits.value), Uint8Array.of(limits.options));
    await this.#createFile(CommandCode.CreateValueFile, fileNo, commMode, access, rest);
  }

  async createRecordFile(cyclic: boolean, fileNo: number, commMode: CommMode, access: AccessRights, recordSize: number, maxRecords: number, isoFid?: number): Promise<void> {
    const cmd = cyclic ? CommandCode.CreateCyclicRecordFile : CommandCode.CreateLinearRecordFile;
    await this.#createFile(cmd, fileNo, commMode, access, concat(uintLE(recordSize, 3), uintLE(maxRecords, 3)), isoFid);
  }

  async #createFile(cmd: number, fileNo: number, commMode: CommMode, access: AccessRights, rest: Uint8Array, isoFid?: number): Promise<void> {
    const iso = isoFid === undefined ? EMPTY : uintLE(isoFid, 2);
    await this.send(cmd, EMPTY, concat(Uint8Array.of(fileNo), iso, Uint8Array.of(commModeToByte(commMode)), encodeAccessRights(access), rest));
  }

  async deleteFile(fileNo: number): Promise<void> {
    await this.send(CommandCode.DeleteFile, EMPTY, Uint8Array.of(fileNo));
  }

  async getFileIds(): Promise<number[]> {
    return [...(await this.send(CommandCode.GetFileIDs, EMPTY, EMPTY))];
  }

  async getFileSettings(fileNo: number): Promise<FileSettings> {
    const data = await this.send(CommandCode.GetFileSettings, Uint8Array.of(fileNo), EMPTY);
    if (data.length < 4) throw lengthError(`GetFileSettings answered ${data.length} bytes`);
    return { fileType: data[0], commMode: commModeFromByte(data[1]), access: decodeAccessRights(data, 2), details: data.slice(4) };
  }

  /** ChangeFileSettings; `plain` when the file's change right is free (as the card then expects it). */
  async changeFileSettings(fileNo: number, commMode: CommMode, access: AccessRights, plain = false): Promise<void> {
    const data = concat(Uint8Array.of(commModeToByte(commMode)), encodeAccessRights(access));
    await this.send(CommandCode.ChangeFileSettings, Uint8Array.of(fileNo), data, { fileMode: plain ? 'plain' : 'full' });
  }

  // ---- data; `mode` is the file's effective comm mode (plain when the right used is free)

  async readData(fileNo: number, offset: number, length: number, mode: CommMode): Promise<Uint8Array> {
    const header = concat(Uint8Array.of(fileNo), uintLE(offset, 3), uintLE(length, 3));
    const data = await this.send(CommandCode.ReadData, header, EMPTY, { fileMode: mode, answerLength: length || undefined });
    if (length !== 0 && data.length !== length) throw lengthError(`ReadData answered ${data.length} bytes, ${length} asked`);
    return data;
  }

  async writeData(fileNo: number, offset: number, data: Uint8Array, mode: CommMode): Promise<void> {
    const header = concat(Uint8Array.of(fileNo), uintLE(offset, 3), uintLE(data.length, 3));
    await this.send(CommandCode.WriteData, header, data, { fileMode: mode, answerLength: 0 });
  }

  async getValue(fileNo: number, mode: CommMode): Promise<number> {
    const data = await this.send(CommandCode.GetValue, Uint8Array.of(fileNo), EMPTY, { fileMode: mode, answerLength: 4 });
    if (data.length !== 4) throw lengthError('GetValue answers 4 bytes');
    return readInt32LE(data, 0);
  }

  /** Credit, Debit or LimitedCredit of `amount` (staged until CommitTransaction). */
  async changeValue(cmd: typeof CommandCode.Credit | typeof CommandCode.Debit | typeof CommandCode.LimitedCredit, fileNo: number, amount: number, mode: CommMode): Promise<void> {
    await this.send(cmd, Uint8Array.of(fileNo), int32LE(amount), { fileMode: mode, answerLength: 0 });
  }

  async writeRecord(fileNo: number, offset: number, data: Uint8Array, mode: CommMode): Promise<void> {
    const header = concat(Uint8Array.of(fileNo), uintLE(offset, 3), uintLE(data.length, 3));
    await this.send(CommandCode.WriteRecord, header, data, { fileMode: mode, answerLength: 0 });
  }

  /** ReadRecords: `count` records from record `offset` (0 = the newest); count 0 = all. Answers oldest first. */
  async readRecords(fileNo: number, offset: number, count: number, mode: CommMode, recordSize?: number): Promise<Uint8Array> {
    const header = concat(Uint8Array.of(fileNo), uintLE(offset, 3), uintLE(count, 3));
    const answerLength = recordSize !== undefined && count !== 0 ? recordSize * count : undefined;
    return this.send(CommandCode.ReadRecords, header, EMPTY, { fileMode: mode, answerLength });
  }

  async clearRecordFile(fileNo: number): Promise<void> {
    await this.send(CommandCode.ClearRecordFile, EMPTY, Uint8Array.of(fileNo));
  }

  async commitTransaction(): Promise<void> {
    await this.#transactionEnd(CommandCode.CommitTransaction);
  }

  async abortTransaction(): Promise<void> {
    await this.#transactionEnd(CommandCode.AbortTransaction);
  }

  /** Commit/Abort: NO_CHANGES (nothing was pending) is a success status too, and keeps the session. */
  async #transactionEnd(cmd: number): Promise<void> {
    await this.send(cmd, EMPTY, EMPTY, { accepted: [Status.OPERATION_OK, Status.NO_CHANGES] });
  }

  // ---- EV3 extras

  /**
   * The proximity check (PreparePC, timed ProximityCheck rounds, VerifyPC) under the session's MAC
   * key, or `vcProximityKey` outside an AES session. Resolves when the card proved it is near;
   * a slow round rejects with ProximityTimingError, a wrong MAC with DesfireError. The rounds are
   * timed by the transport when it offers `timedExchange` (a relay: its network cannot be timed),
   * else here with `timer` around each transceive.
   */
  async proximityCheck(options: { timer: NanoTimer; toleranceNs?: bigint; rounds?: RoundCount; vcProximityKey?: Uint8Array }): Promise<void> {
    const mac = this.#session?.proximityMac ?? (options.vcProximityKey ? new Cmac(createBlockCipher('aes', options.vcProximityKey)) : undefined);
    if (!mac) throw new RangeError('the proximity check needs an AES session or the VCProximityKey');
    const check = new ReaderProximityCheck({ mac, random: this.#random, rounds: options.rounds, toleranceNs: options.toleranceNs });
    const prepared = this.#check(await this.#frames(ProximityCommand.PreparePC, check.prepareCommand()), ProximityCommand.PreparePC, PC_OK);
    check.acceptPrepare(prepared.status, prepared.data);
    // Rounds go out raw: the card answers them without a status byte in native framing.
    const round = (data: Uint8Array) => encodeCommandFrame({ style: this.#style, cmd: ProximityCommand.ProximityCheck, data });
    if (this.#transport.timedExchange) {
      for (const answer of await this.#timedExchange(check.roundCommands().map(round))) check.acceptRound(this.#roundAnswer(answer.response), answer.elapsedNs);
    } else {
      await check.runRounds(async (data) => this.#roundAnswer(await this.#transceive(round(data))), options.timer);
    }
    const verified = this.#check(await this.#frames(ProximityCommand.VerifyPC, check.verifyCommand()), ProximityCommand.VerifyPC, PC_OK);
    check.acceptVerify(verified.status, verified.data);
  }

  /** The transport's timed exchange of `frames`: one non-empty answer per frame, or a TransportError. */
  async #timedExchange(frames: readonly Uint8Array[]): Promise<TimedAnswer[]> {
    let answers: TimedAnswer[];
    try {
      answers = await this.#transport.timedExchange!(frames);
    } catch (e) {
      throw this.#linkFailure(e);
    }
    if (answers.length !== frames.length) throw this.#linkFailure(new TransportError(`the timed exchange gave ${answers.length} answers to ${frames.length} commands`));
    if (answers.some((a) => a.response.length === 0)) throw this.#linkFailure(new TransportError(EMPTY_ANSWER));
    return answers;
  }

  /** pRndR of a round's answer: the answer itself in native framing, the data before 91 90 when wrapped. */
  #roundAnswer(answer: Uint8Array): Uint8Array {
    if (this.#style === 'native') return answer;
    return this.#check(parseAnswerFrame('wrapped', answer, ProximityCommand.ProximityCheck), ProximityCommand.ProximityCheck, PC_OK).data;
  }

  /** Read_Sig: the card's originality signature (56 bytes), to verify with the issuer's public key. */
  async readSignature(): Promise<Uint8Array> {
    const cmd = CommandCode.Read_Sig;
    const data = await this.send(cmd, Uint8Array.of(0x00), EMPTY, { accepted: [Status.OPERATION_OK_90], answerLength: 56 });
    return parseReadSigAnswer(Status.OPERATION_OK_90, data);
  }
}
