import { concat } from '../bytes.js';
import { DesfireError } from '../errors.js';
import { Status } from '../status.js';

/** A command APDU split into its ISO/IEC 7816-4 fields. */
export interface IsoApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** Nc, the number of data bytes (0 when the APDU has no data field). */
  readonly lc: number;
  readonly data: Uint8Array;
  /** Ne, the decoded Le: 1..256 (short) or 1..65536 (extended); `undefined` when there is no Le field. */
  readonly le: number | undefined;
  /** The APDU used the extended-length encoding (a 00 byte, then 2-byte Lc and/or Le). */
  readonly extended: boolean;
}

const HEADER = 4;

function malformed(detail: string): DesfireError {
  return new DesfireError(Status.LENGTH_ERROR, detail);
}

/**
 * Parses the four cases of ISO/IEC 7816-4 §5.1 in short and extended form.
 * Short: `H`, `H Le`, `H Lc data`, `H Lc data Le` with Lc 1..255 and Le 00 meaning 256.
 * Extended: the byte after the header is 00, then a 2-byte Lc (1..65535) and/or a 2-byte Le
 * (0000 meaning 65536): `H 00 Le Le`, `H 00 Lc Lc data`, `H 00 Lc Lc data Le Le`.
 * Anything else (a truncated header, an Lc that does not match the bytes after it, an
 * extended Lc of 0) is a LENGTH_ERROR. Length limits of the card are not checked here.
 */
export function parseIsoApdu(bytes: Uint8Array): IsoApdu {
  const n = bytes.length;
  if (n < HEADER) throw malformed(`APDU of ${n} bytes is shorter than its 4-byte header`);
  const header = { cla: bytes[0], ins: bytes[1], p1: bytes[2], p2: bytes[3] };
  if (n === HEADER) return { ...header, lc: 0, data: new Uint8Array(0), le: undefined, extended: false };

  const b4 = bytes[HEADER];
  if (n === HEADER + 1) return { ...header, lc: 0, data: new Uint8Array(0), le: b4 || 256, extended: false };

  if (b4 !== 0) {
    const lc = b4;
    const dataEnd = HEADER + 1 + lc;
    if (n === dataEnd) return { ...header, lc, data: bytes.slice(HEADER + 1, dataEnd), le: undefined, extended: false };
    if (n === dataEnd + 1) return { ...header, lc, data: bytes.slice(HEADER + 1, dataEnd), le: bytes[dataEnd] || 256, extended: false };
    throw malformed(`Lc = ${lc} does not match the ${n - HEADER - 1} bytes after it`);
  }

  // Extended length: 00, then two bytes.
  if (n === HEADER + 2) throw malformed('extended-length APDU truncated after its 00 marker');
  const first = (bytes[HEADER + 1] << 8) | bytes[HEADER + 2];
  if (n === HEADER + 3) return { ...header, lc: 0, data: new Uint8Array(0), le: first || 65536, extended: true };
  const lc = first;
  if (lc === 0) throw malformed('extended Lc of 0 followed by more bytes');
  const dataEnd = HEADER + 3 + lc;
  if (n === dataEnd) return { ...header, lc, data: bytes.slice(HEADER + 3, dataEnd), le: undefined, extended: true };
  if (n === dataEnd + 2) {
    const le = (bytes[dataEnd] << 8) | bytes[dataEnd + 1];
    return { ...header, lc, data: bytes.slice(HEADER + 3, dataEnd), le: le || 65536, extended: true };
  }
  throw malformed(`extended Lc = ${lc} does not match the ${n - HEADER - 3} bytes after it`);
}

/**
 * A short command APDU `CLA INS P1 P2 [Lc data] [Le]`; `le` is Ne (1..256, 256 encoded as 00).
 * Data longer than 255 bytes does not fit a short APDU: LENGTH_ERROR.
 */
export function encodeShortApdu(cla: number, ins: number, p1: number, p2: number, data: Uint8Array, le?: number): Uint8Array {
  if (data.length > 255) throw malformed(`${data.length} data bytes do not fit a short APDU (Lc <= 255)`);
  if (le !== undefined && !(Number.isInteger(le) && le >= 1 && le <= 256)) throw new RangeError(`Le must be 1..256, got ${le}`);
  const lcField = data.length > 0 ? Uint8Array.of(data.length) : new Uint8Array(0);
  const leField = le === undefined ? new Uint8Array(0) : Uint8Array.of(le & 0xff);
  return concat(Uint8Array.of(cla, ins, p1, p2), lcField, data, leField);
}

/** A response APDU `data SW1 SW2` from a 16-bit status word (for ISO/IEC 7816-4 commands the card handles). */
export function encodeIsoAnswer(data: Uint8Array, sw: number): Uint8Array {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) throw new RangeError(`status word must be 16 bits, got ${sw}`);
  return concat(data, Uint8Array.of(sw >> 8, sw & 0xff));
}
