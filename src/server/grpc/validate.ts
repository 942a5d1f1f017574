import { invalidArgument } from './api-error.js';

/**
 * Field checks for requests, each failing with INVALID_ARGUMENT that names the field in the
 * proto's spelling (`cards[3].card_number`). Handlers check every field they use before they
 * act, so a bad request changes nothing. (protovalidate would need buf/validate/validate.proto
 * from the Buf registry at generation time, which this project's machines cannot reach.)
 */

/** Names, ids: 1..max characters matching `pattern`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function requireName(value: string, field: string, max = 64, pattern: RegExp = NAME): string {
  if (value.length === 0) throw invalidArgument(field, 'is required');
  if (value.length > max) throw invalidArgument(field, `is longer than ${max} characters`);
  if (!pattern.test(value)) throw invalidArgument(field, `must match ${pattern.source}`);
  return value;
}

/** An optional name: empty means "not given". */
export function optionalName(value: string, field: string, max = 64, pattern: RegExp = NAME): string | undefined {
  return value.length === 0 ? undefined : requireName(value, field, max, pattern);
}

/** Free text with a length limit (may be empty). */
export function limitText(value: string, field: string, max: number): string {
  if (value.length > max) throw invalidArgument(field, `is longer than ${max} characters`);
  return value;
}

/** Bytes whose length is one of `lengths`. */
export function requireBytes(value: Uint8Array, field: string, lengths: readonly number[]): Uint8Array {
  if (value.length === 0) throw invalidArgument(field, 'is required');
  if (!lengths.includes(value.length)) throw invalidArgument(field, `must be ${lengths.join(', ')} bytes, got ${value.length}`);
  return value;
}

/** Bytes of min..max length. */
export function requireByteRange(value: Uint8Array, field: string, min: number, max: number): Uint8Array {
  if (value.length < min || value.length > max) throw invalidArgument(field, `must be ${min}..${max} bytes, got ${value.length}`);
  return value;
}

/** An integer in min..max. */
export function requireRange<T extends number | bigint>(value: T, field: string, min: T, max: T): T {
  if (value < min || value > max) throw invalidArgument(field, `must be ${min}..${max}, got ${value}`);
  return value;
}

/** A message field that must be present. */
export function requirePresent<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw invalidArgument(field, 'is required');
  return value;
}

/** An enum field that must be set (not its UNSPECIFIED zero) and known. */
export function requireEnum(value: number, field: string, known: Readonly<Record<number, unknown>>): number {
  if (value === 0) throw invalidArgument(field, 'is required');
  if (!(value in known)) throw invalidArgument(field, `unknown value ${value}`);
  return value;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** page_size: 0 means the default; otherwise 1..MAX_PAGE_SIZE. */
export function pageSize(value: number, field = 'page_size'): number {
  if (value === 0) return DEFAULT_PAGE_SIZE;
  return requireRange(value, field, 1, MAX_PAGE_SIZE);
}
