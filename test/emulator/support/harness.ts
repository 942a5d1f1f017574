import { ReaderAuthentication } from '../../../src/desfire/auth/handshake.js';
import type { AuthScheme } from '../../../src/desfire/auth/scheme.js';
import { EMPTY } from '../../../src/desfire/bytes.js';
import type { CommMode } from '../../../src/desfire/comm-mode.js';
import { DesfireError } from '../../../src/desfire/errors.js';
import { exchange, type CardAnswer, type FrameStyle } from '../../../src/desfire/framing/index.js';
import { systemRandom, type RandomSource } from '../../../src/desfire/random.js';
import type { SecureChannel } from '../../../src/desfire/sm/secure-channel.js';
import { Status } from '../../../src/desfire/status.js';
import { factoryState, type NewCardOptions } from '../../../src/emulator/factory.js';
import { VirtualCard } from '../../../src/emulator/virtual-card.js';
import { ev1Scheme, ev2Scheme, legacyScheme } from '../../../src/desfire/auth/schemes.js';
import { concat, int32LE, uintLE } from '../../../src/desfire/bytes.js';
import { changeKeyCryptogram } from '../../../src/desfire/change-key.js';
import { commModeToByte } from '../../../src/desfire/comm-mode.js';
import { CommandCode } from '../../../src/desfire/commands.js';
import type { KeyType } from '../../../src/desfire/crypto/key-type.js';

/**
 * A minimal reader for card tests: frames through the shared framing `exchange`, secure
 * messaging through the shared channels. (The product's reader is src/encoder.)
 */
export class TestReader {
  readonly card: VirtualCard;
  style: FrameStyle = 'native';
  channel: SecureChannel | undefined;

  constructor(options: NewCardOptions & { random?: RandomSource } = {}) {
    this.card = new VirtualCard(factoryState(options), { random: options.random });
    this.card.powerOn();
  }

  /** One command, all frames, no secure messaging. */
  async send(cmd: number, data: Uint8Array = EMPTY, followAnswerChain = true): Promise<CardAnswer> {
    const answer = await exchange(async (frame) => this.card.transceive(frame), cmd, data, { style: this.style, followAnswerChain });
    if (answer.status !== Status.OPERATION_OK && answer.status !== Status.ADDITIONAL_FRAME) this.channel = undefined;
    return answer;
  }

  /** Runs a whole authentication; returns the status (0x00 on success) and keeps the channel. */
  async authenticate(scheme: AuthScheme, keyNo: number): Promise<number> {
    this.channel = undefined;
    const reader = new ReaderAuthentication(scheme, systemRandom);
    const challenge = await this.send(scheme.command, scheme.commandData(keyNo), false);
    if (challenge.status !== Status.ADDITIONAL_FRAME) return challenge.status;
    const answer = await this.send(0xaf, reader.answerChallenge(challenge.data));
    if (answer.status !== Status.OPERATION_OK) return answer.status;
    this.channel = reader.finish(answer.data);
    return Status.OPERATION_OK;
  }

  /** One command inside the session (or plain without one): wrap, exchange, unwrap a successful answer. */
  async secure(
    cmd: number,
    header: Uint8Array,
    data: Uint8Array,
    modes: { command: CommMode; answer: CommMode; answerLength?: number },
  ): Promise<CardAnswer> {
    const channel = this.channel;
    const body = channel ? channel.wrapCommand(cmd, header, data, modes.command) : Uint8Array.from([...header, ...data]);
    const answer = await this.send(cmd, body);
    if (!channel || answer.status !== Status.OPERATION_OK) return answer;
    return { status: answer.status, data: channel.unwrapResponse(answer.status, answer.data, modes.answer, modes.answerLength) };
  }

  /** `secure` that must succeed; returns the answer data. */
  async ok(cmd: number, header: Uint8Array, data: Uint8Array, modes: { command: CommMode; answer: CommMode; answerLength?: number }): Promise<Uint8Array> {
    const answer = await this.secure(cmd, header, data, modes);
    if (answer.status !== Status.OPERATION_OK) throw new DesfireError(answer.status, undefined, { command: cmd, origin: 'card' });
    return answer.data;
  }
}

export const PLAIN = { command: 'plain', answer: 'plain' } as const;
/** Management commands in a session: d40 plain, EV1 CMACed answer, EV2 MACed both ways (commands.ts MACED). */
export function maced(channel: SecureChannel | undefined): { command: CommMode; answer: CommMode } {
  if (!channel || channel.generation === 'd40') return PLAIN;
  return channel.generation === 'ev1' ? { command: 'plain', answer: 'mac' } : { command: 'mac', answer: 'mac' };
}

// ---------------------------------------------------------------------------------------------
// Files, data and transactions (files/data/transactions/tearing tests).

/** All-zero keys as a new application holds them (the factory default key cut to the type's length). */
export const ZERO_KEY: Readonly<Record<KeyType, Uint8Array>> = {
  des: new Uint8Array(8),
  '2k3des': new Uint8Array(16),
  '3k3des': new Uint8Array(24),
  aes: new Uint8Array(16),
};

/** KeySett2 of CreateApplication: crypto method (bits 7..6), ISO file IDs (bit 5), key count. */
export function keySettings2(keyType: KeyType, keyCount: number, iso = false): number {
  const crypto = keyType === 'aes' ? 0x80 : keyType === '3k3des' ? 0x40 : 0x00;
  return crypto | (iso ? 0x20 : 0) | keyCount;
}

export interface AppOptions {
  readonly keyType: KeyType;
  readonly keyCount?: number;
  /** KeySett1; default 0x0F (everything free, as a factory card's default). */
  readonly keySettings?: number;
  /** ISO FID of the application, which enables ISO file IDs for its files. */
  readonly isoFid?: number;
}

/**
 * Creates an application with the factory PICC master key (DES, zero) and selects it; the reader
 * ends unauthenticated at application level.
 */
export async function createAndSelectApplication(reader: TestReader, aid: number, options: AppOptions): Promise<void> {
  await reader.send(CommandCode.SelectApplication, uintLE(0, 3));
  const status = await reader.authenticate(legacyScheme('des', ZERO_KEY.des), 0);
  if (status !== Status.OPERATION_OK) throw new Error(`PICC authentication: status ${status.toString(16)}`);
  const iso = options.isoFid !== undefined;
  const data = concat(
    uintLE(aid, 3),
    Uint8Array.of(options.keySettings ?? 0x0f, keySettings2(options.keyType, options.keyCount ?? 4, iso)),
    iso ? uintLE(options.isoFid ?? 0, 2) : new Uint8Array(0),
  );
  await reader.ok(CommandCode.CreateApplication, EMPTY, data, maced(reader.channel));
  const select = await reader.send(CommandCode.SelectApplication, uintLE(aid, 3));
  if (select.status !== Status.OPERATION_OK) throw new Error(`SelectApplication: status ${select.status.toString(16)}`);
  reader.channel = undefined;
}

export type SessionGeneration = 'd40' | 'ev1' | 'ev2';

/** Authenticates with `key` (default: zero) in the given generation; returns the status. */
export function authenticateIn(reader: TestReader, generation: SessionGeneration, keyType: KeyType, keyNo: number, key = ZERO_KEY[keyType]): Promise<number> {
  switch (generation) {
    case 'd40':
      return reader.authenticate(legacyScheme(keyType, key), keyNo);
    case 'ev1':
      return reader.authenticate(ev1Scheme(keyType, key), keyNo);
    case 'ev2':
      return reader.authenticate(ev2Scheme(keyType, key), keyNo);
  }
}

/** ChangeKey of another key than the session's (old key given), in the session's generation. */
export async function changeOtherKey(reader: TestReader, keyNo: number, newKeyType: KeyType, newKey: Uint8Array, oldKey: Uint8Array): Promise<number> {
  const channel = reader.channel;
  if (!channel) throw new Error('ChangeKey needs a session');
  const header = Uint8Array.of(keyNo);
  const cryptogram = changeKeyCryptogram(channel.generation, { keyNo, newKey, newKeyType, newKeyVersion: 0, oldKey });
  const answer = await reader.send(CommandCode.ChangeKey, channel.wrapCryptogram(CommandCode.ChangeKey, header, cryptogram));
  if (answer.status === Status.OPERATION_OK && channel.generation !== 'd40') {
    channel.unwrapResponse(answer.status, answer.data, channel.generation === 'ev2' ? 'mac' : 'plain');
  }
  return answer.status;
}

/**
 * The reader's modes for a file command in the current session, from the command table's columns:
 * reads send their header as is in d40/EV1 and MACed (unless plain) in EV2, answer in `mode`;
 * writes send their data in `mode`, answered bare (d40), CMACed (EV1), MACed unless plain (EV2).
 */
export function fileModes(
  channel: SecureChannel | undefined,
  mode: CommMode,
  kind: 'read' | 'write',
  answerLength?: number,
): { command: CommMode; answer: CommMode; answerLength?: number } {
  if (!channel) return PLAIN;
  const reduced: CommMode = mode === 'plain' ? 'plain' : 'mac';
  if (kind === 'read') return { command: channel.generation === 'ev2' ? reduced : 'plain', answer: mode, answerLength };
  return { command: mode, answer: channel.generation === 'd40' ? 'plain' : channel.generation === 'ev1' ? 'mac' : reduced };
}

/**
 * `TestReader.secure` that also takes success statuses other than 0x00 (NO_CHANGES 0x0C): the
 * session stays and the answer is unwrapped with its status.
 */
export async function secureAccepting(
  reader: TestReader,
  cmd: number,
  header: Uint8Array,
  data: Uint8Array,
  modes: { command: CommMode; answer: CommMode; answerLength?: number },
  accepted: readonly number[] = [Status.OPERATION_OK, Status.NO_CHANGES],
): Promise<CardAnswer> {
  const channel = reader.channel;
  const body = channel ? channel.wrapCommand(cmd, header, data, modes.command) : concat(header, data);
  const answer = await exchange(async (frame) => reader.card.transceive(frame), cmd, body, { style: reader.style });
  if (!accepted.includes(answer.status)) {
    reader.channel = undefined;
    return answer;
  }
  if (!channel) return answer;
  return { status: answer.status, data: channel.unwrapResponse(answer.status, answer.data, modes.answer, modes.answerLength) };
}

/** Access-rights word as sent: read, write, read&write, change nibbles, LSB first. */
export function rights(read: number, write: number, readWrite: number, change: number): Uint8Array {
  return uintLE((read << 12) | (write << 8) | (readWrite << 4) | change, 2);
}

/** Access-right nibbles: free, never; and a file open to all. */
export const FREE = 0xe;
export const NEVER = 0xf;
export const OPEN = rights(FREE, FREE, FREE, FREE);

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export function commSettings(mode: CommMode): Uint8Array {
  return Uint8Array.of(commModeToByte(mode));
}

/** CreateStdDataFile / CreateBackupDataFile parameters. */
export function dataFileParams(fileNo: number, mode: CommMode, access: Uint8Array, size: number, isoFid?: number): Uint8Array {
  const iso = isoFid === undefined ? new Uint8Array(0) : uintLE(isoFid, 2);
  return concat(Uint8Array.of(fileNo), iso, commSettings(mode), access, uintLE(size, 3));
}

/** CreateValueFile parameters. */
export function valueFileParams(fileNo: number, mode: CommMode, access: Uint8Array, lower: number, upper: number, value: number, options = 0): Uint8Array {
  return concat(Uint8Array.of(fileNo), commSettings(mode), access, int32LE(lower), int32LE(upper), int32LE(value), Uint8Array.of(options));
}

/** CreateLinearRecordFile / CreateCyclicRecordFile parameters. */
export function recordFileParams(fileNo: number, mode: CommMode, access: Uint8Array, recordSize: number, maxRecords: number, isoFid?: number): Uint8Array {
  const iso = isoFid === undefined ? new Uint8Array(0) : uintLE(isoFid, 2);
  return concat(Uint8Array.of(fileNo), iso, commSettings(mode), access, uintLE(recordSize, 3), uintLE(maxRecords, 3));
}

/** FileNo || Offset (3) || Length (3): ReadData, WriteData, WriteRecord; ReadRecords with RecNo and RecCount. */
export function dataHeader(fileNo: number, offset: number, length: number): Uint8Array {
  return concat(Uint8Array.of(fileNo), uintLE(offset, 3), uintLE(length, 3));
}

/** Runs management commands (create/delete file, ...) in the current session's MACED modes; throws unless 0x00. */
export function manage(reader: TestReader, cmd: number, data: Uint8Array, header: Uint8Array = EMPTY): Promise<Uint8Array> {
  return reader.ok(cmd, header, data, maced(reader.channel));
}
