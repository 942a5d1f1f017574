import { constantTimeEqual } from '../bytes.js';
import { integrityError, lengthError } from '../errors.js';

/**
 * Padding and checksum framing inside enciphered messages.
 * d40 and EV1 append a CRC and pad with zeros (so the receiver must find where data ends);
 * EV2 pads with ISO/IEC 9797-1 method 2 (0x80 00..), always.
 */

/** Zero padding up to a whole number of blocks (none when already aligned). */
export function padZeros(data: Uint8Array, blockSize: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / blockSize) * blockSize);
  out.set(data);
  return out;
}

/**
 * Finds `data` in `plain = data || crc || zeros` (d40 and EV1 full mode). With `expectedLength`
 * the position is known; otherwise every position the padding allows is tried from the
 * shortest, accepting the first whose CRC matches. These CRCs have no final XOR, so the
 * candidates that match form a run: every longer one that swallows CRC bytes into the data
 * matches too (always), and a shorter one matches when the CRC ends in zero bytes (1 in 256).
 * Shortest first is right except in that case, which only the length can settle (see
 * SecureChannel.unwrapCommand). `crcOf(data)` computes the CRC the sender appended.
 */
export function stripCrcAndZeros(
  plain: Uint8Array,
  blockSize: number,
  crcLength: number,
  crcOf: (data: Uint8Array) => Uint8Array,
  expectedLength?: number,
): Uint8Array {
  const longest = plain.length - crcLength;
  if (longest < 0) throw lengthError(`enciphered message of ${plain.length} bytes cannot hold a ${crcLength}-byte CRC`);
  const shortest = Math.max(0, longest - (blockSize - 1));
  if (expectedLength !== undefined && (expectedLength < shortest || expectedLength > longest)) {
    throw lengthError(`enciphered message of ${plain.length} bytes cannot carry ${expectedLength} data bytes`);
  }
  const [first, last] = expectedLength === undefined ? [shortest, longest] : [expectedLength, expectedLength];
  for (let length = first; length <= last; length++) {
    if (!zerosFrom(plain, length + crcLength)) continue;
    const data = plain.subarray(0, length);
    if (constantTimeEqual(crcOf(data), plain.subarray(length, length + crcLength))) return data.slice();
  }
  throw integrityError('CRC of enciphered data does not match');
}

function zerosFrom(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Removes ISO/IEC 9797-1 method 2 padding; anything else is an integrity error. */
export function unpadIso9797M2(plain: Uint8Array, blockSize: number): Uint8Array {
  for (let i = plain.length - 1; i >= 0 && i >= plain.length - blockSize; i--) {
    if (plain[i] === 0x80) return plain.slice(0, i);
    if (plain[i] !== 0) break;
  }
  throw integrityError('padding of enciphered data is not 0x80 00..');
}
