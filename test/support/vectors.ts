import { readFileSync } from 'node:fs';
import { fromHex } from '../../src/desfire/bytes.js';

/** One published vector: a name, where it was published, and its fields (hex strings, numbers, lists). */
export interface Vector {
  readonly name: string;
  readonly source: string;
  readonly [field: string]: unknown;
}

export interface VectorFile {
  readonly description: string;
  readonly vectors: Vector[];
}

/** Reads `test/vectors/<file>`; every vector must say where it was published. */
export function loadVectors(file: string): VectorFile {
  const parsed = JSON.parse(readFileSync(new URL(`../vectors/${file}`, import.meta.url), 'utf8')) as VectorFile;
  for (const v of parsed.vectors) {
    if (typeof v.source !== 'string' || v.source.length === 0) throw new Error(`${file}: vector "${v.name}" has no source`);
  }
  return parsed;
}

/** A hex field of a vector as bytes; a missing or non-string field is a broken vector file. */
export function hex(vector: Vector, field: string): Uint8Array {
  const value = vector[field];
  if (typeof value !== 'string') throw new Error(`vector "${vector.name}" has no hex field "${field}"`);
  return fromHex(value);
}

/** A string field of a vector. */
export function text(vector: Vector, field: string): string {
  const value = vector[field];
  if (typeof value !== 'string') throw new Error(`vector "${vector.name}" has no field "${field}"`);
  return value;
}
