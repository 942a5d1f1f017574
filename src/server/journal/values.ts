import { JournalError } from './errors.js';

const MAX_CARD_NUMBER = (1n << 64n) - 1n;

/** A card number as stored: canonical decimal text of 1..2^64-1. INVALID_ARGUMENT otherwise. */
export function cardNumberText(cardNumber: bigint): string {
  if (typeof cardNumber !== 'bigint' || cardNumber < 1n || cardNumber > MAX_CARD_NUMBER) {
    throw new JournalError('INVALID_ARGUMENT', `card number must be 1..${MAX_CARD_NUMBER}`);
  }
  return cardNumber.toString(10);
}

/** A UID as stored: upper-case hex of 4, 7 or 10 bytes, from bytes or hex text. */
export function uidText(uid: Uint8Array | string): string {
  const hex = typeof uid === 'string' ? uid.replace(/[\s:]/g, '').toUpperCase() : Buffer.from(uid).toString('hex').toUpperCase();
  if (!/^[0-9A-F]*$/.test(hex) || ![8, 14, 20].includes(hex.length)) {
    throw new JournalError('INVALID_ARGUMENT', 'UID must be 4, 7 or 10 bytes');
  }
  return hex;
}

export function nonEmpty(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new JournalError('INVALID_ARGUMENT', `${what} must not be empty`);
  return value;
}

export function keyVersionValue(version: number): number {
  if (!Number.isInteger(version) || version < 1 || version > 255) {
    throw new JournalError('INVALID_ARGUMENT', 'key version must be 1..255');
  }
  return version;
}
