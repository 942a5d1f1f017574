import { assertBytes, constantTimeEqual, EMPTY, wipe } from './bytes.js';
import { Cmac } from './crypto/cmac.js';
import { DesfireError, integrityError, lengthError } from './errors.js';
import {
  DEFAULT_PREPARE_PC_ANSWER,
  encodePreparePcAnswer,
  parsePreparePcAnswer,
  PC_SUCCESS,
  ProximityCommand,
  type PreparePcAnswer,
} from './proximity/prepare.js';
import { checkParts, encodeRoundCommand, evenParts, joinRandoms, parseRoundCommand, PC_RANDOM_LENGTH, type RoundCount } from './proximity/rounds.js';
import { ProximityTimingError, roundLimitNs, type NanoTimer, type RoundTiming } from './proximity/timing.js';
import { cardVerifyPcMac, readerVerifyPcMac } from './proximity/verify-mac.js';
import type { RandomSource } from './random.js';
import { Status } from './status.js';

/**
 * The MIFARE DESFire EV2/EV3 proximity check, both roles, as pure state machines (no I/O):
 * PreparePC (0xF0) → ProximityCheck (0xF2) × 1..8 rounds → VerifyPC (0xFD).
 * Facts and their sources are in `proximity/prepare.ts`, `rounds.ts`, `verify-mac.ts` and `timing.ts`.
 *
 * The reader's round commands are all known once RndC is drawn, so a relayed reader host can run
 * the timed rounds locally and report the answers and times (`acceptRound`); the MAC is checked
 * wherever the key is.
 */

export {
  DEFAULT_PREPARE_PC_ANSWER,
  encodePreparePcAnswer,
  parsePreparePcAnswer,
  PC_SUCCESS,
  ProximityCommand,
  type PreparePcAnswer,
} from './proximity/prepare.js';
export { evenParts, PC_RANDOM_LENGTH, type RoundCount } from './proximity/rounds.js';
export { ProximityTimingError, roundLimitNs, systemTimer, type NanoTimer, type RoundTiming } from './proximity/timing.js';
export { proximityKeySource, VC_PROXIMITY_KEY_NO, verifyPcMacInput, type ProximityKeySource } from './proximity/verify-mac.js';

const MAC_LENGTH = 8;

/** One answer of the card to a proximity-check command. */
export interface ProximityAnswer {
  /** 0x90 on success: the native status byte, or SW2 after 0x91 when ISO-wrapped. */
  readonly status: number;
  readonly data: Uint8Array;
  /**
   * False for ProximityCheck: in native framing the card sends pRndR alone, without a status byte
   * (ISO-wrapped it still ends with 91 90). True for PreparePC and VerifyPC.
   */
  readonly statusInNativeFrame: boolean;
}

/** A card status other than 0x90 in a proximity-check answer: the card refused. */
function checkCardStatus(status: number, command: number): void {
  if (status !== PC_SUCCESS) throw new DesfireError(status, undefined, { command, origin: 'card' });
}

export interface ReaderProximityOptions {
  /**
   * AES-CMAC under VCProximityKey (card key 0x21) or the session MAC key (see `proximityKeySource`;
   * `SecureChannel.proximityMac` gives the latter without exposing the key).
   */
  readonly mac: Cmac;
  /** Where RndC comes from. */
  readonly random: RandomSource;
  /** Even split of RndC (default 8 rounds of one byte, as NXP's and Proxmark's defaults). */
  readonly rounds?: RoundCount;
  /** Explicit part lengths instead (1..8 rounds adding up to 8 bytes), e.g. NXP's [1, 1, 6]. */
  readonly parts?: readonly number[];
  /** Added to the publicised response time to allow for the reader path (ns, default 0). */
  readonly toleranceNs?: bigint;
}

type ReaderState = 'prepare' | 'rounds' | 'verify' | 'answer' | 'done' | 'failed';

/** The reader (PCD) side of one proximity check. */
export class ReaderProximityCheck {
  readonly #mac: Cmac;
  readonly #random: RandomSource;
  readonly #parts: readonly number[];
  readonly #toleranceNs: bigint;
  readonly #timings: RoundTiming[] = [];
  readonly #rndRParts: Uint8Array[] = [];
  #state: ReaderState = 'prepare';
  #prepare: PreparePcAnswer | undefined;
  #prepareData: Uint8Array = EMPTY;
  #rndC: Uint8Array | undefined;

  constructor(options: ReaderProximityOptions) {
    this.#mac = options.mac;
    this.#random = options.random;
    this.#parts = options.parts ? [...options.parts] : evenParts(options.rounds ?? 8);
    checkParts(this.#parts);
    this.#toleranceNs = options.toleranceNs ?? 0n;
    if (this.#toleranceNs < 0n) throw new RangeError('tolerance must not be negative');
  }

  /** The card's publicised values, once PreparePC was answered. */
  get prepared(): PreparePcAnswer | undefined {
    return this.#prepare;
  }

  /** The rounds timed so far. */
  get timings(): readonly RoundTiming[] {
    return this.#timings;
  }

  /** PreparePC command data (after the code 0xF0): none. */
  prepareCommand(): Uint8Array {
    this.#expect('prepare');
    return EMPTY;
  }

  /** Takes the card's PreparePC answer (status and data after it). */
  acceptPrepare(status: number, data: Uint8Array): PreparePcAnswer {
    this.#expect('prepare');
    try {
      checkCardStatus(status, ProximityCommand.PreparePC);
      this.#prepare = parsePreparePcAnswer(data);
    } catch (e) {
      this.#state = 'failed';
      throw e instanceof DesfireError ? e.forCommand(ProximityCommand.PreparePC) : e;
    }
    this.#prepareData = data.slice();
    this.#state = 'rounds';
    return this.#prepare;
  }

  /** Command data of every ProximityCheck round (after the code 0xF2), in order: len || pRndC. */
  roundCommands(): Uint8Array[] {
    this.#expect('rounds');
    const rndC = (this.#rndC ??= this.#drawRndC());
    const out: Uint8Array[] = [];
    let offset = 0;
    for (const len of this.#parts) {
      out.push(encodeRoundCommand(rndC.subarray(offset, offset + len)));
      offset += len;
    }
    return out;
  }

  /**
   * Takes the next round's answer (pRndR, without any status) and the time it took. A wrong length
   * is LENGTH_ERROR; a round slower than PubRespTime + tolerance throws `ProximityTimingError`.
   * Either ends this check.
   */
  acceptRound(answer: Uint8Array, elapsedNs: bigint): void {
    this.#expect('rounds');
    if (this.#rndC === undefined) throw new Error('roundCommands() must be called before the rounds are run');
    const round = this.#rndRParts.length;
    const expected = this.#parts[round];
    assertBytes(answer, 'ProximityCheck answer');
    if (answer.length !== expected) {
      this.#state = 'failed';
      throw lengthError(`ProximityCheck round ${round + 1} answered ${answer.length} bytes, ${expected} expected`).forCommand(ProximityCommand.ProximityCheck);
    }
    const timing: RoundTiming = { round, elapsedNs, limitNs: roundLimitNs(this.#prepare!.pubRespTimeUs, this.#toleranceNs) };
    this.#timings.push(timing);
    if (elapsedNs > timing.limitNs) {
      this.#state = 'failed';
      throw new ProximityTimingError(timing);
    }
    this.#rndRParts.push(answer.slice());
    if (this.#rndRParts.length === this.#parts.length) this.#state = 'verify';
  }

  /**
   * Runs the rounds through `exchange` (command data in, pRndR out), timing each with `timer`.
   * Only the exchange itself is inside the measured interval.
   */
  async runRounds(exchange: (commandData: Uint8Array) => Promise<Uint8Array> | Uint8Array, timer: NanoTimer): Promise<void> {
    for (const command of this.roundCommands()) {
      const start = timer();
      const answer = await exchange(command);
      const end = timer();
      this.acceptRound(answer, end - start);
    }
  }

  /** VerifyPC command data (after the code 0xFD): the reader's 8-byte MAC. */
  verifyCommand(): Uint8Array {
    this.#expect('verify');
    this.#state = 'answer';
    return readerVerifyPcMac(this.#mac, this.#prepareData, this.#rndRC());
  }

  /** Checks the card's VerifyPC answer (status and data after it); on success the card is near. */
  acceptVerify(status: number, data: Uint8Array): void {
    this.#expect('answer');
    this.#state = 'failed';
    checkCardStatus(status, ProximityCommand.VerifyPC);
    assertBytes(data, 'VerifyPC answer');
    if (data.length !== MAC_LENGTH) {
      throw lengthError(`VerifyPC answer of ${data.length} bytes, ${MAC_LENGTH} expected`).forCommand(ProximityCommand.VerifyPC);
    }
    if (!constantTimeEqual(cardVerifyPcMac(this.#mac, this.#prepareData, this.#rndRC()), data)) {
      throw integrityError("the card's VerifyPC MAC does not match").forCommand(ProximityCommand.VerifyPC);
    }
    this.#state = 'done';
  }

  /** True once the card's VerifyPC MAC matched with every round in time. */
  get passed(): boolean {
    return this.#state === 'done';
  }

  /** Wipes RndC. The MAC belongs to the caller (often the session's), so it is left alone. */
  destroy(): void {
    if (this.#rndC) wipe(this.#rndC);
  }

  #drawRndC(): Uint8Array {
    const rndC = this.#random(PC_RANDOM_LENGTH);
    assertBytes(rndC, 'RndC', PC_RANDOM_LENGTH);
    return rndC.slice();
  }

  #rndRC(): Uint8Array {
    const rounds: { rndR: Uint8Array; rndC: Uint8Array }[] = [];
    let offset = 0;
    this.#parts.forEach((len, i) => {
      rounds.push({ rndR: this.#rndRParts[i], rndC: this.#rndC!.subarray(offset, offset + len) });
      offset += len;
    });
    return joinRandoms(rounds);
  }

  #expect(state: ReaderState): void {
    if (this.#state !== state) throw new Error(`proximity check is at step "${this.#state}", not "${state}"`);
  }
}

export interface CardProximityOptions {
  /** Where the card's RndR comes from (drawn round by round, as many bytes as the round's part). */
  readonly random: RandomSource;
  /** What PreparePC publicises (default `DEFAULT_PREPARE_PC_ANSWER`). */
  readonly publication?: PreparePcAnswer;
}

type CardState = 'idle' | 'rounds' | 'verify';

/**
 * The card (PICC) side of the proximity check. Any refusal drops the check in progress, as a card
 * does on an error. The emulator must also call `abort()` when any other command comes in between,
 * `reset()` at power-off, and must pass the key `proximityKeySource` names to `verifyPc`.
 *
 * Statuses for refusals are a judgement (no public document lists the card's PC error codes):
 * data where none belongs, or a wrong length: LENGTH_ERROR; a step out of order: PERMISSION_DENIED;
 * a wrong VerifyPC MAC: INTEGRITY_ERROR, DESFire's "CRC or MAC does not match data".
 */
export class CardProximityCheck {
  readonly #random: RandomSource;
  readonly #prepareData: Uint8Array;
  #state: CardState = 'idle';
  #rounds: { rndR: Uint8Array; rndC: Uint8Array }[] = [];
  #received = 0;
  #verified = false;

  constructor(options: CardProximityOptions) {
    this.#random = options.random;
    this.#prepareData = encodePreparePcAnswer(options.publication ?? DEFAULT_PREPARE_PC_ANSWER);
  }

  /** True after a VerifyPC with the right MAC, until the next PreparePC or `reset()` (power-off). */
  get verified(): boolean {
    return this.#verified;
  }

  /** PreparePC: starts (or restarts) a check; answers 0x90 || publicised values. */
  preparePc(data: Uint8Array): ProximityAnswer {
    this.reset();
    if (data.length !== 0) this.#refuse(lengthError(`PreparePC takes no data, got ${data.length} bytes`), ProximityCommand.PreparePC);
    this.#state = 'rounds';
    return { status: PC_SUCCESS, data: this.#prepareData.slice(), statusInNativeFrame: true };
  }

  /** ProximityCheck: one round; answers pRndR, as many bytes as the reader's pRndC. */
  proximityCheck(data: Uint8Array): ProximityAnswer {
    if (this.#state !== 'rounds') this.#refuse(new DesfireError(Status.PERMISSION_DENIED, 'ProximityCheck without PreparePC'), ProximityCommand.ProximityCheck);
    let rndC: Uint8Array;
    try {
      rndC = parseRoundCommand(data, this.#received);
    } catch (e) {
      if (e instanceof DesfireError) this.#refuse(e, ProximityCommand.ProximityCheck);
      throw e;
    }
    const rndR = this.#random(rndC.length);
    assertBytes(rndR, 'RndR part', rndC.length);
    this.#rounds.push({ rndR: rndR.slice(), rndC });
    this.#received += rndC.length;
    if (this.#received === PC_RANDOM_LENGTH) this.#state = 'verify';
    return { status: PC_SUCCESS, data: rndR.slice(), statusInNativeFrame: false };
  }

  /** VerifyPC: checks the reader's MAC under `mac` (the key `proximityKeySource` names), answers 0x90 || the card's MAC. */
  verifyPc(data: Uint8Array, mac: Cmac): ProximityAnswer {
    if (this.#state !== 'verify') this.#refuse(new DesfireError(Status.PERMISSION_DENIED, 'VerifyPC before all ProximityCheck rounds'), ProximityCommand.VerifyPC);
    if (data.length !== MAC_LENGTH) this.#refuse(lengthError(`VerifyPC carries ${data.length} bytes, ${MAC_LENGTH} expected`), ProximityCommand.VerifyPC);
    const rndRC = joinRandoms(this.#rounds);
    if (!constantTimeEqual(readerVerifyPcMac(mac, this.#prepareData, rndRC), data)) this.#refuse(integrityError('VerifyPC MAC does not match'), ProximityCommand.VerifyPC);
    const answer = cardVerifyPcMac(mac, this.#prepareData, rndRC);
    this.abort();
    this.#verified = true;
    return { status: PC_SUCCESS, data: answer, statusInNativeFrame: true };
  }

  /** Drops a check in progress (another command came in between, or an error); a passed check stays passed. */
  abort(): void {
    this.#state = 'idle';
    this.#rounds = [];
    this.#received = 0;
  }

  /** Power-on state: no check in progress, none passed. */
  reset(): void {
    this.abort();
    this.#verified = false;
  }

  #refuse(error: DesfireError, command: number): never {
    this.abort();
    throw error.forCommand(command);
  }
}
