import { DesfireError, isDesfireError } from '../errors.js';
import { Status } from '../status.js';
import type { CommandFrame } from './command-frame.js';
import { ISO_CLA, WRAPPED_CLA } from './frame-style.js';
import { parseIsoApdu, type IsoApdu } from './iso-apdu.js';
import { MAX_COMMAND_FRAME_LENGTH } from './limits.js';

/** What the card received: a DESFire command frame (native or wrapped), or an ISO/IEC 7816-4 command for its ISO layer. */
export type IncomingFrame =
  | ({ readonly kind: 'desfire' } & CommandFrame)
  | { readonly kind: 'iso7816'; readonly apdu: IsoApdu };

export interface IncomingFrameLimits {
  /** Longest frame accepted, whole APDU included; default MAX_COMMAND_FRAME_LENGTH (60, see limits.ts). */
  readonly maxFrameLength?: number;
}

/**
 * Card side: classifies one received frame by its first byte.
 * - 0x90: a wrapped native command `90 CMD P1 P2 [Lc DATA] [Le]`.
 * - 0x00: an ISO/IEC 7816-4 command (ISOSelectFile, ISOReadBinary, ...), returned parsed for the
 *   card's ISO layer, which answers with ISO status words. CLA 0x00 is the only class treated so:
 *   the other byte values are native command codes (0x0C is Credit, not ISO secure messaging),
 *   and no DESFire command has code 0x00 or 0x90.
 * - anything else: a native frame `CMD DATA`.
 *
 * Rules (each breach is a DesfireError; nothing else is thrown):
 * - empty frame: LENGTH_ERROR.
 * - longer than `maxFrameLength` (default 60 = FSC 64 less the ISO/IEC 14443-4 block overhead):
 *   LENGTH_ERROR. The limit counts the whole APDU, so a wrapped command carries at most 55 data
 *   bytes without Le and 54 with it (NXP's forum answer: 55 with short APDUs).
 * - APDU structure (0x90 and 0x00): the ISO/IEC 7816-4 cases of `parseIsoApdu`; a truncated
 *   header or an Lc that does not match is LENGTH_ERROR. Extended-length encodings are accepted
 *   when they fit the frame limit: DESFire EV1 1.3 and later "Support extended APDU commands"
 *   (Proxmark3 `cmdhfmfdes.c`), and an NXP forum user wrote 53 bytes with extended APDUs, which is
 *   60 less the 7 header bytes. So, in practice, extended APDUs gain nothing and cost one byte.
 * - wrapped commands only: P1 and P2 must be 00 (PARAMETER_ERROR otherwise), and Le, when present,
 *   must be 00 / 0000, "all available" (LENGTH_ERROR otherwise): the card always answers in full.
 */
export function parseIncomingFrame(frame: Uint8Array, limits: IncomingFrameLimits = {}): IncomingFrame {
  const maxFrameLength = limits.maxFrameLength ?? MAX_COMMAND_FRAME_LENGTH;
  if (frame.length === 0) throw new DesfireError(Status.LENGTH_ERROR, 'empty command frame');
  if (frame.length > maxFrameLength) {
    throw new DesfireError(Status.LENGTH_ERROR, `frame of ${frame.length} bytes exceeds the ${maxFrameLength}-byte frame limit`);
  }
  const first = frame[0];
  if (first === WRAPPED_CLA) return parseWrapped(frame);
  if (first === ISO_CLA) return { kind: 'iso7816', apdu: parseIsoApdu(frame) };
  return { kind: 'desfire', style: 'native', cmd: first, data: frame.slice(1) };
}

function parseWrapped(frame: Uint8Array): IncomingFrame {
  const command = frame.length > 1 ? frame[1] : undefined;
  let apdu: IsoApdu;
  try {
    apdu = parseIsoApdu(frame);
  } catch (e) {
    throw isDesfireError(e) && command !== undefined ? e.forCommand(command) : e;
  }
  if (apdu.p1 !== 0 || apdu.p2 !== 0) {
    throw new DesfireError(Status.PARAMETER_ERROR, `wrapped command with P1 P2 = ${hex(apdu.p1)} ${hex(apdu.p2)}, not 00 00`, { command });
  }
  const allAvailable = apdu.extended ? 65536 : 256;
  if (apdu.le !== undefined && apdu.le !== allAvailable) {
    throw new DesfireError(Status.LENGTH_ERROR, `wrapped command asks for Le = ${apdu.le}; only 00 (all) is served`, { command });
  }
  return { kind: 'desfire', style: 'wrapped', cmd: apdu.ins, data: apdu.data };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
