import { assertBytes, concat } from '../bytes.js';
import { AES_128, OpenSslBlockCipher, TDES_EDE3, type BlockCipher } from './block-cipher.js';

/** The four key types of DESFire. */
export type KeyType = 'des' | '2k3des' | '3k3des' | 'aes';

export const KEY_TYPES: readonly KeyType[] = ['des', '2k3des', '3k3des', 'aes'];

/** Key length in bytes as DESFire stores it (a DES key is sent as 16 bytes with equal halves). */
export function keyLength(type: KeyType): 8 | 16 | 24 {
  return type === 'des' ? 8 : type === '3k3des' ? 24 : 16;
}

export function blockSizeOf(type: KeyType): 8 | 16 {
  return type === 'aes' ? 16 : 8;
}

/**
 * Creates the block cipher for a key. DES keys may be given as 8 bytes or as 16 bytes
 * with equal halves (the DESFire convention); 2K3DES keys as K1||K2; 3K3DES as K1||K2||K3.
 */
export function createBlockCipher(type: KeyType, key: Uint8Array): BlockCipher {
  assertBytes(key, 'key');
  if (type === 'aes') {
    assertBytes(key, 'AES key', 16);
    return new OpenSslBlockCipher(AES_128, key);
  }
  return new OpenSslBlockCipher(TDES_EDE3, expandToThreeKeys(type, key));
}

function expandToThreeKeys(type: Exclude<KeyType, 'aes'>, key: Uint8Array): Uint8Array {
  if (type === '3k3des') {
    assertBytes(key, '3K3DES key', 24);
    return key;
  }
  if (type === '2k3des') {
    assertBytes(key, '2K3DES key', 16);
    return concat(key, key.subarray(0, 8));
  }
  if (key.length !== 8 && key.length !== 16) throw new RangeError(`DES key must be 8 or 16 bytes, got ${key.length}`);
  const k = key.subarray(0, 8);
  return concat(k, k, k);
}

/**
 * The type a card actually runs a key as: DESFire stores DES keys as 16 bytes with equal halves
 * in DES/2K3DES applications, and treats such a "2K3DES" key as single DES (session keys too).
 */
export function effectiveKeyType(type: KeyType, key: Uint8Array): KeyType {
  if (type !== '2k3des' || key.length !== 16) return type;
  for (let i = 0; i < 8; i++) if ((key[i] & 0xfe) !== (key[i + 8] & 0xfe)) return type;
  return 'des';
}

/**
 * DESFire keeps the version of a DES/3DES key in the parity bits (bit 0) of its first
 * eight bytes, most significant bit first. The cipher ignores those bits.
 */
export function desKeyVersion(key: Uint8Array): number {
  let version = 0;
  for (let i = 0; i < 8; i++) version = (version << 1) | (key[i] & 1);
  return version;
}

/** Returns a copy of a DES/3DES key with `version` written into the parity bits of its first eight bytes. */
export function withDesKeyVersion(key: Uint8Array, version: number): Uint8Array {
  if (!Number.isInteger(version) || version < 0 || version > 0xff) throw new RangeError(`key version ${version} is not a byte`);
  const out = key.slice();
  for (let i = 0; i < 8; i++) out[i] = (out[i] & 0xfe) | ((version >> (7 - i)) & 1);
  return out;
}
