/**
 * Byte helpers shared by every layer. All binary data is `Uint8Array`;
 * functions return new arrays unless their name says "InPlace".
 */

/** Throws unless `value` is a Uint8Array (of `length` bytes when given). Names the argument. */
export function assertBytes(value: unknown, title: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${title} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${title} must be ${length} bytes, got ${value.length}`);
  }
}

/** The empty byte string, shared: allocating zero-length typed arrays is surprisingly slow in V8. */
export const EMPTY: Uint8Array = Object.freeze(new Uint8Array(0)) as Uint8Array;

const HEX_DIGITS = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX_DIGITS[b >> 4] + HEX_DIGITS[b & 15];
  return out;
}

/** Parses hex; spaces, colons and a leading 0x are tolerated so vectors can be pasted as published. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new RangeError(`not a hex byte string: "${hex.length > 40 ? hex.slice(0, 40) + '…' : hex}"`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** a XOR b; both must have the same length. */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError(`xor of ${a.length} and ${b.length} bytes`);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** target[offset + i] ^= mask[i] for the whole mask. */
export function xorInPlace(target: Uint8Array, mask: Uint8Array, offset = 0): void {
  if (offset < 0 || offset + mask.length > target.length) throw new RangeError('xor mask out of range');
  for (let i = 0; i < mask.length; i++) target[offset + i] ^= mask[i];
}

/** Rotates left by `n` bytes: RndB' = rotateLeft(RndB, 1) in every DESFire handshake. */
export function rotateLeft(bytes: Uint8Array, n = 1): Uint8Array {
  const len = bytes.length;
  if (len === 0) return new Uint8Array(0);
  const k = ((n % len) + len) % len;
  return concat(bytes.subarray(k), bytes.subarray(0, k));
}

export function rotateRight(bytes: Uint8Array, n = 1): Uint8Array {
  return rotateLeft(bytes, -n);
}

/**
 * Compares in time that depends only on the lengths, never on where the first
 * difference is: MACs and handshake tokens are compared with this, never `===`-loops.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Overwrites secrets once they are no longer needed. */
export function wipe(...arrays: Uint8Array[]): void {
  for (const a of arrays) a.fill(0);
}

/** Little-endian unsigned integer of `size` bytes (DESFire sends lengths, offsets and counters LSB first). */
export function uintLE(value: number, size: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * size)) {
    throw new RangeError(`${value} does not fit in ${size} unsigned bytes`);
  }
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  return out;
}

export function readUintLE(bytes: Uint8Array, offset: number, size: number): number {
  if (offset < 0 || offset + size > bytes.length) {
    throw new RangeError(`read of ${size} bytes at ${offset} beyond ${bytes.length}`);
  }
  let value = 0;
  for (let i = size - 1; i >= 0; i--) value = value * 256 + bytes[offset + i];
  return value;
}

/** Signed 32-bit little-endian (value files hold signed amounts). */
export function int32LE(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new RangeError(`${value} is not a signed 32-bit integer`);
  }
  return uintLE(value >>> 0, 4);
}

export function readInt32LE(bytes: Uint8Array, offset: number): number {
  return readUintLE(bytes, offset, 4) | 0;
}
