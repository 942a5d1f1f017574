import { readUintLE, uintLE } from './bytes.js';

/**
 * File access rights, one nibble each: a key number 0x0..0xD, 0xE free, 0xF never. On the wire
 * two bytes, the little-endian value `read << 12 | write << 8 | readWrite << 4 | change`.
 */
export interface AccessRights {
  read: number;
  write: number;
  readWrite: number;
  change: number;
}

export const FREE_ACCESS = 0xe;
export const NO_ACCESS = 0xf;

export function encodeAccessRights(rights: AccessRights): Uint8Array {
  return uintLE((rights.read << 12) | (rights.write << 8) | (rights.readWrite << 4) | rights.change, 2);
}

export function decodeAccessRights(bytes: Uint8Array, offset: number): AccessRights {
  const word = readUintLE(bytes, offset, 2);
  return { read: (word >> 12) & 0x0f, write: (word >> 8) & 0x0f, readWrite: (word >> 4) & 0x0f, change: word & 0x0f };
}
