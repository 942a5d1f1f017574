import type { CommMode } from '../desfire/comm-mode.js';
import type { CommandSpec } from '../desfire/commands.js';
import type { RandomSource } from '../desfire/random.js';
import type { PiccState } from './model.js';
import type { NvMemory } from './nv-memory.js';
import type { Session } from './session.js';

/** Everything a command handler may use: one explicit object, no globals. */
export interface CardContext {
  /** Persistent state: read freely, change only inside `nv.write`. */
  readonly picc: PiccState;
  readonly session: Session;
  readonly nv: NvMemory;
  readonly random: RandomSource;
}

/** A command as the handler sees it: secure messaging already removed. */
export interface Request {
  readonly cmd: number;
  readonly spec: CommandSpec;
  /** The leading bytes the table keeps in clear (`spec.headerLength`). */
  readonly header: Uint8Array;
  /** The rest, unwrapped (for 'auth', 'changekey' and 'none' rows: exactly as received). */
  readonly data: Uint8Array;
}

export interface Answer {
  /** Plain answer data; the dispatcher protects it with the answer's comm mode. */
  readonly data: Uint8Array;
  /** Default OPERATION_OK; ADDITIONAL_FRAME for a handshake's challenge. */
  readonly status?: number;
  /** The answer leaves secure messaging alone (handshake steps). */
  readonly unprotected?: boolean;
  /** No status byte in a native frame (ProximityCheck rounds). */
  readonly bareInNativeFrame?: boolean;
  /** Sizes of the leading frames when the card always splits this answer (GetVersion: 7, 7). */
  readonly leadingFrames?: readonly number[];
}

/** How a command's data and its answer are protected, when the table says 'file' or the handler knows better. */
export interface Modes {
  readonly command: CommMode;
  readonly answer: CommMode;
}

export interface CommandHandler {
  /** Modes in an authenticated session; required for rows whose protection is 'file'. */
  modes?(ctx: CardContext, header: Uint8Array): Modes;
  /** The plain data length when the header tells it (d40/EV1 full mode needs it to unpad exactly). */
  dataLength?(ctx: CardContext, header: Uint8Array, mode: CommMode): number | undefined;
  /** For chained commands: the whole command body's length (after the command byte), known from the first frame. */
  chainedLength?(ctx: CardContext, firstFrame: Uint8Array): number;
  run(ctx: CardContext, request: Request): Answer;
}
