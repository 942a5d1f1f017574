import { concat } from '../bytes.js';
import { DesfireError } from '../errors.js';
import { Status } from '../status.js';
import type { CommandFrame } from './command-frame.js';
import { ADDITIONAL_FRAME, type FrameStyle } from './frame-style.js';
import { MAX_CHAINED_COMMAND_LENGTH, MAX_NATIVE_COMMAND_DATA, MAX_WRAPPED_COMMAND_DATA } from './limits.js';

/**
 * A command longer than one frame goes out as `CMD data0`, `AF data1`, `AF data2`, ...; the card
 * answers 0xAF (no data) to every frame but the last, then runs the whole command. This is how
 * a genuine card takes WriteData (desox-rs replay), and how Proxmark3 (`DesfireExchangeNative`,
 * `DesfireExchangeISONative`) and libfreefare (`write_data`) send it.
 */

export interface SplitOptions {
  /** Data bytes per frame after the CMD / AF byte; default `defaultFrameData(style)`. */
  readonly maxDataPerFrame?: number;
  /**
   * Data bytes of the first frame when a command needs a fixed first frame: CreateDelegatedApplication
   * "must go out as C9 + AF frames" with the application data first (Proxmark3 `DesfireCreateDelegatedApplication`,
   * its `firsttxdatalen`). At most `maxDataPerFrame` and the data length.
   */
  readonly firstFrameDataLength?: number;
}

/** Default data bytes per command frame: 59 native, 54 wrapped (limits.ts). */
export function defaultFrameData(style: FrameStyle): number {
  return style === 'native' ? MAX_NATIVE_COMMAND_DATA : MAX_WRAPPED_COMMAND_DATA;
}

/** Reader side: cuts a command's data into frames, the first carrying `cmd`, the rest 0xAF. Always at least one frame. */
export function splitCommand(style: FrameStyle, cmd: number, data: Uint8Array, options: SplitOptions = {}): CommandFrame[] {
  const max = options.maxDataPerFrame ?? defaultFrameData(style);
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxDataPerFrame must be a positive integer, got ${max}`);
  const first = options.firstFrameDataLength ?? Math.min(max, data.length);
  if (!Number.isInteger(first) || first < 0 || first > Math.min(max, data.length)) {
    throw new RangeError(`firstFrameDataLength must be 0..${Math.min(max, data.length)}, got ${first}`);
  }
  const frames: CommandFrame[] = [{ style, cmd, data: data.slice(0, first) }];
  for (let offset = first; offset < data.length; offset += max) {
    frames.push({ style, cmd: ADDITIONAL_FRAME, data: data.slice(offset, offset + max) });
  }
  return frames;
}

/** Card side: a chained command being collected. */
export interface PendingCommand {
  readonly cmd: number;
  /** Data collected so far (all frames joined, command byte excluded). */
  readonly data: Uint8Array;
  /** Total data length the command needs; the handler knows it from the command's own fields. */
  readonly expectedLength: number;
}

/** Either the whole command, or the state to keep while the card answers 0xAF for more. */
export type CollectStep =
  | { readonly complete: true; readonly cmd: number; readonly data: Uint8Array }
  | { readonly complete: false; readonly pending: PendingCommand };

function step(cmd: number, data: Uint8Array, expectedLength: number): CollectStep {
  return data.length === expectedLength ? { complete: true, cmd, data } : { complete: false, pending: { cmd, data, expectedLength } };
}

/**
 * Card side, first frame of a command whose handler expects `expectedLength` data bytes in all.
 * More data than expected, or an expected length above `maxLength`, is a LENGTH_ERROR.
 */
export function beginCommand(frame: CommandFrame, expectedLength: number, maxLength = MAX_CHAINED_COMMAND_LENGTH): CollectStep {
  const command = frame.cmd;
  if (!Number.isInteger(expectedLength) || expectedLength < 0 || expectedLength > maxLength) {
    throw new DesfireError(Status.LENGTH_ERROR, `command of ${expectedLength} bytes exceeds the ${maxLength}-byte limit`, { command });
  }
  if (frame.data.length > expectedLength) {
    throw new DesfireError(Status.LENGTH_ERROR, `first frame carries ${frame.data.length} bytes, command takes ${expectedLength}`, { command });
  }
  return step(frame.cmd, frame.data.slice(), expectedLength);
}

/**
 * Card side, a frame received while `pending` (possibly nothing) waits for more data.
 * - nothing pending and an 0xAF frame: ILLEGAL_COMMAND_CODE. A genuine EV2 answers `91 1C` to
 *   `90 AF 00 00 00` once its chain was broken (santigimeno/node-pcsclite issue #103).
 * - a frame other than 0xAF while data is pending: COMMAND_ABORTED, "previous command was not fully
 *   completed" (status.ts); the caller drops `pending` and may then run the new command.
 * - an 0xAF frame without data, or with more data than still expected: LENGTH_ERROR.
 */
export function continueCommand(pending: PendingCommand | undefined, frame: CommandFrame): CollectStep {
  if (pending === undefined) {
    if (frame.cmd === ADDITIONAL_FRAME) throw new DesfireError(Status.ILLEGAL_COMMAND_CODE, '0xAF continuation with no command pending');
    throw new RangeError('continueCommand needs a pending command or an 0xAF frame');
  }
  const command = pending.cmd;
  if (frame.cmd !== ADDITIONAL_FRAME) {
    throw new DesfireError(Status.COMMAND_ABORTED, `command 0x${frame.cmd.toString(16).padStart(2, '0')} arrived while more frames were expected`, { command });
  }
  if (frame.data.length === 0) throw new DesfireError(Status.LENGTH_ERROR, '0xAF continuation without data', { command });
  const missing = pending.expectedLength - pending.data.length;
  if (frame.data.length > missing) {
    throw new DesfireError(Status.LENGTH_ERROR, `continuation carries ${frame.data.length} bytes, only ${missing} still expected`, { command });
  }
  return step(pending.cmd, concat(pending.data, frame.data), pending.expectedLength);
}
