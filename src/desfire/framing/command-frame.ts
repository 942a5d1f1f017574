import { concat } from '../bytes.js';
import { DesfireError } from '../errors.js';
import { Status } from '../status.js';
import { WRAPPED_CLA, type FrameStyle } from './frame-style.js';
import { encodeShortApdu } from './iso-apdu.js';

/** One command frame as the reader means it: a command code (or 0xAF) and the data of this frame. */
export interface CommandFrame {
  readonly style: FrameStyle;
  readonly cmd: number;
  readonly data: Uint8Array;
}

/**
 * Reader side: the bytes of one frame.
 * - native:  `CMD DATA`
 * - wrapped: `90 CMD 00 00 Lc DATA 00`, or `90 CMD 00 00 00` without data (no Lc field).
 *   Le is always 00, as libfreefare (`desfire_transceive`) and Proxmark3 (`APDU_INCLUDE_LE_00`) send it.
 * More than 255 data bytes cannot be wrapped in a short APDU: LENGTH_ERROR (split first).
 */
export function encodeCommandFrame(frame: CommandFrame): Uint8Array {
  const { style, cmd, data } = frame;
  if (!Number.isInteger(cmd) || cmd < 0 || cmd > 0xff) throw new RangeError(`command code must be one byte, got ${cmd}`);
  if (style === 'native') return concat(Uint8Array.of(cmd), data);
  if (data.length > 255) {
    throw new DesfireError(Status.LENGTH_ERROR, `${data.length} data bytes do not fit one wrapped frame`, { command: cmd });
  }
  return encodeShortApdu(WRAPPED_CLA, cmd, 0x00, 0x00, data, 256);
}
