import { concat } from '../bytes.js';
import { DesfireError } from '../errors.js';
import { Status } from '../status.js';
import { ISO_SW_OK, ISO_SW_WRONG_LENGTH, WRAPPED_SW1, type FrameStyle } from './frame-style.js';

/** One answer frame as the card meant it: a DESFire status byte and the data that came with it. */
export interface CardAnswer {
  readonly status: number;
  readonly data: Uint8Array;
  /** The card sends no status byte in a native frame (ProximityCheck rounds answer bare randoms). */
  readonly bareInNativeFrame?: boolean;
}

function hex4(sw: number): string {
  return sw.toString(16).padStart(4, '0');
}

/**
 * Reader side: splits one received frame into status and data.
 * - native `STATUS DATA`: an empty frame is a LENGTH_ERROR.
 * - wrapped `DATA SW1 SW2`: SW1 = 0x91 carries the status in SW2. `90 00` is taken as
 *   OPERATION_OK, as Proxmark3's `DESFIRESendApduEx` does. Any other status word means the card
 *   did not run a wrapped DESFire command at all (e.g. `6E 00` CLA not supported from a card that
 *   is no DESFire): a DesfireError from the card, LENGTH_ERROR for `67 00`, ILLEGAL_COMMAND_CODE
 *   otherwise, with the status word in the message.
 * `command` only labels errors.
 */
export function parseAnswerFrame(style: FrameStyle, frame: Uint8Array, command?: number): CardAnswer {
  if (style === 'native') {
    if (frame.length === 0) throw new DesfireError(Status.LENGTH_ERROR, 'empty answer frame, no status byte', { command });
    return { status: frame[0], data: frame.slice(1) };
  }
  if (frame.length < 2) {
    throw new DesfireError(Status.LENGTH_ERROR, `wrapped answer of ${frame.length} bytes has no SW1 SW2`, { command });
  }
  const sw1 = frame[frame.length - 2];
  const sw2 = frame[frame.length - 1];
  const data = frame.slice(0, frame.length - 2);
  if (sw1 === WRAPPED_SW1) return { status: sw2, data };
  const sw = (sw1 << 8) | sw2;
  if (sw === ISO_SW_OK) return { status: Status.OPERATION_OK, data };
  const status = sw === ISO_SW_WRONG_LENGTH ? Status.LENGTH_ERROR : Status.ILLEGAL_COMMAND_CODE;
  throw new DesfireError(status, `card answered ISO status word ${hex4(sw)}, not a DESFire status 91xx`, { command, origin: 'card' });
}

/** Card side: one answer frame in the style the command came in: `STATUS DATA` or `DATA 91 STATUS`. */
export function encodeAnswerFrame(style: FrameStyle, answer: CardAnswer): Uint8Array {
  const { status, data } = answer;
  if (!Number.isInteger(status) || status < 0 || status > 0xff) throw new RangeError(`status must be one byte, got ${status}`);
  if (style === 'native') return answer.bareInNativeFrame ? data.slice() : concat(Uint8Array.of(status), data);
  return concat(data, Uint8Array.of(WRAPPED_SW1, status));
}
