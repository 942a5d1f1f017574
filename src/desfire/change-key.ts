import { concat, constantTimeEqual, EMPTY, xor } from './bytes.js';
import { crc16A, crc32Desfire } from './crypto/crc.js';
import { desKeyVersion, keyLength, withDesKeyVersion, type KeyType } from './crypto/key-type.js';
import { integrityError, lengthError } from './errors.js';
import type { Generation } from './sm/secure-channel.js';

/**
 * The ChangeKey (0xC4) cryptogram, built by the reader and read by the card, before secure
 * messaging enciphers it (`SecureChannel.wrapCryptogram`). Its layout depends on the session:
 *
 * - d40 (libfreefare, DESFire datasheet): the session's own key: NewKey [|| KeyVer] || CRC16(NewKey [|| KeyVer]);
 *   another key: (NewKey ⊕ OldKey) [|| KeyVer] || CRC16(of that) || CRC16(NewKey).
 * - EV1 (libfreefare, RevK): the session's own key: NewKey [|| KeyVer] || CRC32(C4 || KeyNo || NewKey [|| KeyVer]);
 *   another key: (NewKey ⊕ OldKey) [|| KeyVer] || CRC32(C4 || KeyNo || (NewKey ⊕ OldKey) [|| KeyVer]) || CRC32(NewKey).
 * - EV2 (AN12196 §5.16): the session's own key: NewKey [|| KeyVer]; another key:
 *   (NewKey ⊕ OldKey) [|| KeyVer] || CRC32(NewKey); the MAC of full mode protects the rest.
 *
 * Keys are sent at their DESFire length with DES keys as 16 bytes (K || K); KeyVer is a byte for
 * AES keys in every session (libfreefare appends it in d40 sessions too), while DES-family keys carry
 * their version in their parity bits (libfreefare; the EV2 documents read show AES only, so that is
 * our choice for EV2 DES keys too).
 * `keyNo` is the byte as sent: at PICC level bits 7..6 name the new master key's type.
 */
export interface KeyChange {
  readonly keyNo: number;
  readonly newKey: Uint8Array;
  readonly newKeyType: KeyType;
  readonly newKeyVersion: number;
  /** The key being replaced, when it is not the session's own key (then it is XORed in). */
  readonly oldKey?: Uint8Array;
}

const CHANGE_KEY = 0xc4;

/** The key as the cryptogram carries it (DES doubled to 16 bytes, version in parity bits). */
function keyBytes(type: KeyType, key: Uint8Array, version: number): Uint8Array {
  if (type === 'aes') return key;
  const full = type === 'des' ? concat(key.subarray(0, 8), key.subarray(0, 8)) : key;
  return withDesKeyVersion(full, version);
}

function cryptogramKeyLength(type: KeyType): number {
  return type === 'des' ? 16 : keyLength(type);
}

function versionBytes(type: KeyType, version: number): Uint8Array {
  return type === 'aes' ? Uint8Array.of(version) : EMPTY;
}

/** Reader side: the plaintext cryptogram for `change` in a session of `generation`. */
export function changeKeyCryptogram(generation: Generation, change: KeyChange): Uint8Array {
  const newKey = keyBytes(change.newKeyType, change.newKey, change.newKeyVersion);
  const keyPart = change.oldKey ? xor(newKey, keyBytes(change.newKeyType, change.oldKey, 0)) : newKey;
  const body = concat(keyPart, versionBytes(change.newKeyType, change.newKeyVersion));
  switch (generation) {
    case 'd40':
      return change.oldKey ? concat(body, crc16A(body), crc16A(newKey)) : concat(body, crc16A(body));
    case 'ev1': {
      const first = crc32Desfire(concat(Uint8Array.of(CHANGE_KEY, change.keyNo), body));
      return change.oldKey ? concat(body, first, crc32Desfire(newKey)) : concat(body, first);
    }
    case 'ev2':
      return change.oldKey ? concat(body, crc32Desfire(newKey)) : body;
  }
}

/** What the card needs to read a cryptogram: the key byte as sent, the new key's type, and the old key when another key changes. */
export interface CryptogramContext {
  readonly keyNo: number;
  readonly newKeyType: KeyType;
  readonly oldKey?: Uint8Array;
}

/**
 * Card side: the new key and its version from the deciphered cryptogram (for d40/EV1 still
 * zero-padded). Any CRC or padding mismatch is INTEGRITY_ERROR, a wrong length LENGTH_ERROR.
 */
export function readChangeKeyCryptogram(generation: Generation, plain: Uint8Array, context: CryptogramContext): { key: Uint8Array; version: number } {
  const { newKeyType: type, oldKey } = context;
  const n = cryptogramKeyLength(type);
  const bodyLength = n + (type === 'aes' ? 1 : 0);
  const crc = generation === 'd40' ? crc16A : crc32Desfire;
  const crcLength = generation === 'd40' ? 2 : 4;
  const ownCrc = generation !== 'ev2';
  const layoutLength = bodyLength + (ownCrc ? crcLength : 0) + (oldKey ? crcLength : 0);
  if (plain.length < layoutLength) throw lengthError(`ChangeKey cryptogram of ${plain.length} bytes, ${layoutLength} expected`);
  if (generation === 'ev2' ? plain.length !== layoutLength : !isZeroPadding(plain, layoutLength)) {
    throw integrityError('ChangeKey cryptogram has bytes after its end');
  }
  const body = plain.subarray(0, bodyLength);
  const newKey = oldKey ? xor(body.subarray(0, n), keyBytes(type, oldKey, 0)) : body.slice(0, n);
  const checks: [Uint8Array, Uint8Array][] = [];
  let offset = bodyLength;
  if (ownCrc) {
    const covered = generation === 'ev1' ? concat(Uint8Array.of(CHANGE_KEY, context.keyNo), body) : body;
    checks.push([crc(covered), plain.subarray(offset, offset + crcLength)]);
    offset += crcLength;
  }
  if (oldKey) checks.push([crc(newKey), plain.subarray(offset, offset + crcLength)]);
  for (const [expected, received] of checks) {
    if (!constantTimeEqual(expected, received)) throw integrityError('ChangeKey cryptogram CRC does not match');
  }
  const key = type === 'des' ? newKey.slice(0, 8) : newKey;
  return { key, version: type === 'aes' ? body[n] : desKeyVersion(key) };
}

function isZeroPadding(plain: Uint8Array, from: number): boolean {
  for (let i = from; i < plain.length; i++) if (plain[i] !== 0) return false;
  return plain.length - from < 16;
}

// ---------------------------------------------------------------------------------------------
// ChangeKeyEV2 (0xC6): KeySetNo || KeyNo in clear, then the same cryptogram as ChangeKey, with one
// difference in EV1 sessions: the first CRC32 covers the command's own header, C6 || KeySetNo || KeyNo,
// where ChangeKey's covers C4 || KeyNo. d40 CRC16s and the EV2 layout cover no command byte, so they
// are ChangeKey's unchanged. Sources (read for facts, nothing copied): NXP Reader Library
// `phalMfdfEVx_Sw_ChangeKeyEv2` (comps/phalMfdfEVx/src/Sw/phalMfdfEVx_Sw.c, as published in
// hohobox/wpc_type456): d40 branch CRC16 over the XORed key || KeyVer and CRC16 over the new key;
// ISO/AES branch "CRC32 over cmd+header+XORddata+[keyversion]" with cmd+header = C6 KeySetNo KeyNo,
// then CRC32 over the new key; EV2 branch (NewKey ⊕ OldKey) || KeyVer || CRC32(NewKey) in full mode.
// liblogicalaccess `DESFireCrypto::changeKey_PICC` (EV1: CRC32 over C6 || KeySetNo || KeyNo || ...).
// Both send the XORed form whenever KeySetNo ≠ 0 ("when changing key from another keyset, always force
// new + old key crypto", liblogicalaccess desfireev2iso7816commands.cpp): only a key of the active key
// set (number 0) can be the session's own key.

const CHANGE_KEY_EV2 = 0xc6;

/** A ChangeKeyEV2 change: `keySetNo` is the key set byte as sent. */
export interface KeySetKeyChange extends KeyChange {
  readonly keySetNo: number;
}

/** Reader side: the plaintext ChangeKeyEV2 cryptogram for `change` in a session of `generation`. */
export function changeKeyEv2Cryptogram(generation: Generation, change: KeySetKeyChange): Uint8Array {
  if (generation !== 'ev1') return changeKeyCryptogram(generation, change);
  const newKey = keyBytes(change.newKeyType, change.newKey, change.newKeyVersion);
  const keyPart = change.oldKey ? xor(newKey, keyBytes(change.newKeyType, change.oldKey, 0)) : newKey;
  const body = concat(keyPart, versionBytes(change.newKeyType, change.newKeyVersion));
  const first = crc32Desfire(concat(Uint8Array.of(CHANGE_KEY_EV2, change.keySetNo, change.keyNo), body));
  return change.oldKey ? concat(body, first, crc32Desfire(newKey)) : concat(body, first);
}

/** What the card needs to read a ChangeKeyEV2 cryptogram: ChangeKey's context and the key set byte as sent. */
export interface KeySetCryptogramContext extends CryptogramContext {
  readonly keySetNo: number;
}

/**
 * Card side: the new key and its version from a deciphered ChangeKeyEV2 cryptogram; the same checks
 * and statuses as `readChangeKeyCryptogram` (INTEGRITY_ERROR for a CRC or padding mismatch,
 * LENGTH_ERROR for a short cryptogram).
 */
export function readChangeKeyEv2Cryptogram(generation: Generation, plain: Uint8Array, context: KeySetCryptogramContext): { key: Uint8Array; version: number } {
  if (generation !== 'ev1') return readChangeKeyCryptogram(generation, plain, context);
  const { newKeyType: type, oldKey } = context;
  const n = cryptogramKeyLength(type);
  const bodyLength = n + (type === 'aes' ? 1 : 0);
  const layoutLength = bodyLength + 4 + (oldKey ? 4 : 0);
  if (plain.length < layoutLength) throw lengthError(`ChangeKeyEV2 cryptogram of ${plain.length} bytes, ${layoutLength} expected`);
  if (!isZeroPadding(plain, layoutLength)) throw integrityError('ChangeKeyEV2 cryptogram has bytes after its end');
  const body = plain.subarray(0, bodyLength);
  const newKey = oldKey ? xor(body.subarray(0, n), keyBytes(type, oldKey, 0)) : body.slice(0, n);
  const covered = concat(Uint8Array.of(CHANGE_KEY_EV2, context.keySetNo, context.keyNo), body);
  const checks: [Uint8Array, Uint8Array][] = [[crc32Desfire(covered), plain.subarray(bodyLength, bodyLength + 4)]];
  if (oldKey) checks.push([crc32Desfire(newKey), plain.subarray(bodyLength + 4, bodyLength + 8)]);
  for (const [expected, received] of checks) {
    if (!constantTimeEqual(expected, received)) throw integrityError('ChangeKeyEV2 cryptogram CRC does not match');
  }
  const key = type === 'des' ? newKey.slice(0, 8) : newKey;
  return { key, version: type === 'aes' ? body[n] : desKeyVersion(key) };
}
