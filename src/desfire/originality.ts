import { assertBytes, fromHex } from './bytes.js';
import { DesfireError, lengthError } from './errors.js';

/**
 * NXP originality signature, reader side: Read_Sig (0x3C) returns a 56-byte ECDSA signature
 * r || s on the curve secp224r1 over the card's UID, made by NXP at production; the reader checks
 * it with NXP's public key for the product.
 *
 * How NXP signs (the facts this module implements):
 * - curve secp224r1 (NIST P-224): Proxmark3 `client/src/crypto/originality.c` lists every DESFire
 *   key as `MBEDTLS_ECP_DP_SECP224R1`, 57-byte uncompressed keys (04 || X || Y);
 * - the message is the 7-byte UID itself, NOT hashed: Proxmark3 `desfire_print_signature`
 *   (`cmdhfmfdes.c`) calls `originality_check_verify(uid, 7, sig, 56, PK_MFDES)` with hashing off,
 *   and `ecdsa_signature_verify` (`crypto/libpcrypto.c`) then hands the UID to mbedTLS as the
 *   "hash"; `tools/recover_pk.py` selftests recover the DESFire EV2/EV3 keys from real signatures
 *   with hash `None`; MichaelsPlayground/TalkToYourDESFireCard `Cryptography.java` verifies
 *   DESFire EV2/EV3 signatures with Java's "NONEwithECDSA"; NXP's AN11350 (NTAG21x, secp128r1)
 *   does the same for its smaller curve ("ECDSA with NONE hashing", per the same author's readme);
 * - a 7-byte message on a 224-bit curve: ECDSA's e is the message's leftmost min(224, 8·len) bits
 *   read as a big-endian integer (FIPS 186-4 §6.4, SEC 1 §4.1.3/4.1.4), so e is simply the UID as a
 *   56-bit number; nothing is padded on the right and nothing truncated (mbedTLS `derive_mpi`
 *   behaves the same way);
 * - the signature is r || s, 28 bytes each, big-endian (IEEE P1363 form): Proxmark3
 *   `ecdsa_signature_r_s_verify` splits it in two halves;
 * - Read_Sig takes one address byte, 0x00 for the originality signature, and the card answers
 *   status 0x90 then the 56 bytes (Proxmark3 `DesfireReadSignature`, `hf mfdes info`).
 *
 * The curve arithmetic below is plain BigInt and runs on public data only (public key, UID,
 * signature), so it need not be constant time. BigInt arithmetic is not constant time, which is
 * why signing (`src/emulator/originality.ts`) multiplies its secret nonce through OpenSSL instead.
 */

/** Read_Sig command code (Proxmark3 `MFDES_READSIG`). */
export const READ_SIG = 0x3c;
/** Read_Sig address of the NXP originality signature. */
export const ORIGINALITY_SIGNATURE_ADDRESS = 0x00;
/** Success status of Read_Sig (Proxmark3 checks `respcode != 0x90`). */
export const READ_SIG_SUCCESS = 0x90;
/** r || s, 28 bytes each. */
export const ORIGINALITY_SIGNATURE_LENGTH = 56;
/** 04 || X || Y. */
export const PUBLIC_KEY_LENGTH = 57;

/**
 * secp224r1 domain parameters, SEC 2 v2 §2.6.2 = NIST P-224, FIPS 186-4 Appendix D.1.2.2
 * (a = p − 3). Tests hold them to OpenSSL's curve through `node:crypto` ECDH.
 */
export const P224 = Object.freeze({
  p: 0xffffffffffffffffffffffffffffffff000000000000000000000001n,
  n: 0xffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3dn,
  b: 0xb4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4n,
  gx: 0xb70e0cbd6bb4bf7f321390b94a03c1d356c21122343280d6115c1d21n,
  gy: 0xbd376388b5f723fb4c22dfe6cd4375a05a07476444d5819985007e34n,
  /** Bytes of a field element or scalar. */
  size: 28,
  bits: 224,
});

/**
 * NXP's published originality keys for the DESFire family, as data with their sources. None is
 * printed in an NXP document we could read; they come from public tools.
 */
export const NXP_ORIGINALITY_KEYS = Object.freeze([
  {
    name: 'MIFARE DESFire EV3',
    publicKey: '041db46c145d0a36539c6544bd6d9b0aa62ff91ec48cbc6abae36e0089a46f0d08c8a715ea40a63313b92e90ddc1730230e0458a33276fb743',
    source:
      'Proxmark3 client/src/crypto/originality.c entry "DESFire EV3" (recovered from card signatures by tools/recover_pk.py, selftest "DESFire EV3"); same value in MichaelsPlayground/TalkToYourDESFireCard Cryptography.java (PublicKeyNxpDESFire_Ev3_Encoded)',
  },
  {
    name: 'MIFARE DESFire EV2, NTAG 424 DNA (TT), DESFire Light EV2',
    publicKey: '04b304dc4c615f5326fe9383ddec9aa892df3a57fa7ffb3276192bc0eaa252ed45a865e3b093a3d0dce5be29e92f1392ce7de321e3e5c52b3a',
    source:
      'Proxmark3 client/src/crypto/originality.c entry "NTAG424DNA, NTAG424DNATT, DESFire EV2, DESFire Light EV2" (tools/recover_pk.py selftest "DESFire EV2"); MichaelsPlayground/TalkToYourDESFireCard Cryptography.java (PublicKeyNxpDESFire_Ev2_Encoded)',
  },
  {
    name: 'MIFARE DESFire Light',
    publicKey: '040e98e117aaa36457f43173dc920a8757267f44ce4ec5add3c54075571aebbf7b942a9774a1d94ad02572427e5ae0a2dd36591b1fb34fcf3d',
    source: 'Proxmark3 client/src/crypto/originality.c entry "DESFire Light", citing NXP AN12343 "MIFARE DESFire Light Features and Hints"',
  },
] as const);

// ---------------------------------------------------------------------------------------------
// Integers and bytes (shared with the signer in src/emulator/originality.ts).

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** Big-endian, exactly `size` bytes (RFC 6979 int2octets). */
export function bigIntToBytes(value: bigint, size: number = P224.size): Uint8Array {
  if (value < 0n || value >> BigInt(8 * size) !== 0n) throw new RangeError(`integer does not fit ${size} bytes`);
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/**
 * ECDSA's e from a message "hash" (here the raw UID): its leftmost min(224, 8·len) bits as an
 * integer (FIPS 186-4 §6.4; RFC 6979 §2.3.2 bits2int). A UID shorter than 28 bytes is used whole.
 */
export function bits2int(bytes: Uint8Array): bigint {
  const v = bytesToBigInt(bytes);
  const excess = bytes.length * 8 - P224.bits;
  return excess > 0 ? v >> BigInt(excess) : v;
}

export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** a⁻¹ mod m (m prime, a ≠ 0 mod m), by the extended Euclidean algorithm. */
export function invert(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  if (r0 === 0n) throw new RangeError('zero has no inverse');
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return mod(s0, m);
}

// ---------------------------------------------------------------------------------------------
// Points in Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity.

interface Jacobian {
  readonly x: bigint;
  readonly y: bigint;
  readonly z: bigint;
}

export interface AffinePoint {
  readonly x: bigint;
  readonly y: bigint;
}

const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n };
const fp = (a: bigint) => mod(a, P224.p);

/** Doubling for a = −3 ("dbl-2001-b", Bernstein–Lange Explicit-Formulas Database). */
function double(P: Jacobian): Jacobian {
  if (P.z === 0n || P.y === 0n) return INFINITY;
  const delta = fp(P.z * P.z);
  const gamma = fp(P.y * P.y);
  const beta = fp(P.x * gamma);
  const alpha = fp(3n * (P.x - delta) * (P.x + delta));
  const x = fp(alpha * alpha - 8n * beta);
  const z = fp((P.y + P.z) * (P.y + P.z) - gamma - delta);
  const y = fp(alpha * (4n * beta - x) - 8n * gamma * gamma);
  return { x, y, z };
}

/** General addition ("add-1998-cmo-2"), falling back to doubling for P = Q. */
function add(P: Jacobian, Q: Jacobian): Jacobian {
  if (P.z === 0n) return Q;
  if (Q.z === 0n) return P;
  const z1z1 = fp(P.z * P.z);
  const z2z2 = fp(Q.z * Q.z);
  const u1 = fp(P.x * z2z2);
  const u2 = fp(Q.x * z1z1);
  const s1 = fp(P.y * Q.z * z2z2);
  const s2 = fp(Q.y * P.z * z1z1);
  const h = fp(u2 - u1);
  const r = fp(s2 - s1);
  if (h === 0n) return r === 0n ? double(P) : INFINITY;
  const hh = fp(h * h);
  const hhh = fp(h * hh);
  const v = fp(u1 * hh);
  const x = fp(r * r - hhh - 2n * v);
  const y = fp(r * (v - x) - s1 * hhh);
  const z = fp(P.z * Q.z * h);
  return { x, y, z };
}

function toAffine(P: Jacobian): AffinePoint | undefined {
  if (P.z === 0n) return undefined;
  const zi = invert(P.z, P224.p);
  const zi2 = fp(zi * zi);
  return { x: fp(P.x * zi2), y: fp(P.y * zi2 * zi) };
}

const jacobian = (p: AffinePoint): Jacobian => ({ x: p.x, y: p.y, z: 1n });

export const P224_G: AffinePoint = Object.freeze({ x: P224.gx, y: P224.gy });

/** u1·G + u2·Q in one pass of shared doublings (Shamir's trick); undefined for infinity. */
export function doubleScalarMultiply(u1: bigint, u2: bigint, Q: AffinePoint): AffinePoint | undefined {
  const g = jacobian(P224_G);
  const q = jacobian(Q);
  const gq = add(g, q);
  let acc = INFINITY;
  const bits = Math.max(u1.toString(2).length, u2.toString(2).length);
  for (let i = bits - 1; i >= 0; i--) {
    acc = double(acc);
    const b1 = (u1 >> BigInt(i)) & 1n;
    const b2 = (u2 >> BigInt(i)) & 1n;
    if (b1 && b2) acc = add(acc, gq);
    else if (b1) acc = add(acc, g);
    else if (b2) acc = add(acc, q);
  }
  return toAffine(acc);
}

/** k·P (public scalars only: variable time). */
export function scalarMultiply(k: bigint, P: AffinePoint = P224_G): AffinePoint | undefined {
  return doubleScalarMultiply(0n, k, P);
}

export function isOnCurve(P: AffinePoint): boolean {
  const { x, y } = P;
  if (x < 0n || x >= P224.p || y < 0n || y >= P224.p) return false;
  return fp(y * y) === fp(x * x * x - 3n * x + P224.b);
}

/** Parses 04 || X || Y and checks the point is on the curve (the group has cofactor 1). */
export function decodePublicKey(key: Uint8Array | string): AffinePoint {
  const bytes = typeof key === 'string' ? fromHex(key) : key;
  assertBytes(bytes, 'public key', PUBLIC_KEY_LENGTH);
  if (bytes[0] !== 0x04) throw new RangeError('public key must be uncompressed (04 || X || Y)');
  const point = { x: bytesToBigInt(bytes.subarray(1, 29)), y: bytesToBigInt(bytes.subarray(29, 57)) };
  if (!isOnCurve(point)) throw new RangeError('public key is not a point of secp224r1');
  return point;
}

export function encodePublicKey(point: AffinePoint): Uint8Array {
  const out = new Uint8Array(PUBLIC_KEY_LENGTH);
  out[0] = 0x04;
  out.set(bigIntToBytes(point.x), 1);
  out.set(bigIntToBytes(point.y), 29);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The verifier.

/**
 * True when `signature` (r || s) is NXP-style ECDSA over the raw `uid` under `publicKey`
 * (04 || X || Y, bytes or hex). Standard ECDSA verification (SEC 1 §4.1.4) with e = bits2int(uid);
 * both low and high s are accepted, as ECDSA does (NXP's choice is unknown).
 */
export function verifyOriginalitySignature(uid: Uint8Array, signature: Uint8Array, publicKey: Uint8Array | string | AffinePoint): boolean {
  assertBytes(uid, 'uid');
  if (uid.length === 0) throw new RangeError('uid must not be empty');
  assertBytes(signature, 'signature', ORIGINALITY_SIGNATURE_LENGTH);
  const Q = typeof publicKey === 'object' && !(publicKey instanceof Uint8Array) ? publicKey : decodePublicKey(publicKey);
  if (!isOnCurve(Q)) throw new RangeError('public key is not a point of secp224r1');
  const { n } = P224;
  const r = bytesToBigInt(signature.subarray(0, 28));
  const s = bytesToBigInt(signature.subarray(28, 56));
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  const e = bits2int(uid);
  const w = invert(s, n);
  const R = doubleScalarMultiply(mod(e * w, n), mod(r * w, n), Q);
  return R !== undefined && mod(R.x, n) === r;
}

/** Read_Sig command data (after the code 0x3C): the address byte 0x00. */
export function readSigCommandData(): Uint8Array {
  return Uint8Array.of(ORIGINALITY_SIGNATURE_ADDRESS);
}

/** Reader side: the 56-byte signature from Read_Sig's answer (status, and data after secure messaging). */
export function parseReadSigAnswer(status: number, data: Uint8Array): Uint8Array {
  if (status !== READ_SIG_SUCCESS) throw new DesfireError(status, undefined, { command: READ_SIG, origin: 'card' });
  assertBytes(data, 'Read_Sig answer');
  if (data.length !== ORIGINALITY_SIGNATURE_LENGTH) {
    throw lengthError(`Read_Sig answered ${data.length} bytes, ${ORIGINALITY_SIGNATURE_LENGTH} expected`).forCommand(READ_SIG);
  }
  return data.slice();
}
