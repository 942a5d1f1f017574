import { concat } from '../bytes.js';
import type { Cmac } from '../crypto/cmac.js';
import type { KeyType } from '../crypto/key-type.js';

/**
 * Session key of Authenticate 0x0A, AuthenticateISO 0x1A and AuthenticateAES 0xAA, cut from
 * the two random numbers (DESFire EV1 datasheet; same layout in libfreefare and Proxmark3):
 * DES    RndA[0..3] RndB[0..3]
 * 2K3DES RndA[0..3] RndB[0..3] RndA[4..7] RndB[4..7]
 * 3K3DES RndA[0..3] RndB[0..3] RndA[6..9] RndB[6..9] RndA[12..15] RndB[12..15]
 * AES    RndA[0..3] RndB[0..3] RndA[12..15] RndB[12..15]
 */
export function sessionKeyFromRandoms(type: KeyType, rndA: Uint8Array, rndB: Uint8Array): Uint8Array {
  const pair = (offset: number) => concat(rndA.subarray(offset, offset + 4), rndB.subarray(offset, offset + 4));
  switch (type) {
    case 'des':
      return pair(0);
    case '2k3des':
      return concat(pair(0), pair(4));
    case '3k3des':
      return concat(pair(0), pair(6), pair(12));
    case 'aes':
      return concat(pair(0), pair(12));
  }
}

/**
 * EV2 session vectors (AN12196 §3.2, AN12343): label || 00 01 00 80 || RndA[0..1] ||
 * (RndA[2..7] ⊕ RndB[0..5]) || RndB[6..15] || RndA[8..15], with label A5 5A for SV1 (ENC)
 * and 5A A5 for SV2 (MAC). Bytes numbered from the first one sent.
 */
export function ev2SessionVector(label: 'sv1' | 'sv2', rndA: Uint8Array, rndB: Uint8Array): Uint8Array {
  const sv = new Uint8Array(32);
  sv.set(label === 'sv1' ? [0xa5, 0x5a, 0x00, 0x01, 0x00, 0x80] : [0x5a, 0xa5, 0x00, 0x01, 0x00, 0x80]);
  sv.set(rndA.subarray(0, 2), 6);
  for (let i = 0; i < 6; i++) sv[8 + i] = rndA[2 + i] ^ rndB[i];
  sv.set(rndB.subarray(6, 16), 14);
  sv.set(rndA.subarray(8, 16), 24);
  return sv;
}

/** SesAuthENCKey = CMAC(K, SV1), SesAuthMACKey = CMAC(K, SV2). */
export function ev2SessionKeys(key: Cmac, rndA: Uint8Array, rndB: Uint8Array): { encKey: Uint8Array; macKey: Uint8Array } {
  return { encKey: key.mac(ev2SessionVector('sv1', rndA, rndB)), macKey: key.mac(ev2SessionVector('sv2', rndA, rndB)) };
}
