import { createECDH, createHmac, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { assertBytes, concat, fromHex, toHex, wipe } from '../desfire/bytes.js';
import { DesfireError, lengthError } from '../desfire/errors.js';
import {
  bigIntToBytes,
  bits2int,
  bytesToBigInt,
  invert,
  mod,
  ORIGINALITY_SIGNATURE_ADDRESS,
  ORIGINALITY_SIGNATURE_LENGTH,
  P224,
  READ_SIG,
  READ_SIG_SUCCESS,
} from '../desfire/originality.js';
import { systemRandom, type RandomSource } from '../desfire/random.js';
import { Status } from '../desfire/status.js';

/**
 * The virtual card's originality signature: its own secp224r1 key pair (standing in for NXP's
 * production key, which no one outside NXP has) and Read_Sig's answer, a 56-byte ECDSA signature
 * r || s over the raw 7-byte UID, exactly as `src/desfire/originality.ts` describes NXP's (the
 * UID is the message "hash", not hashed again; e = the UID as a 56-bit integer).
 *
 * Signing choices:
 * - node:crypto cannot sign here: its ECDSA always hashes the message first. So the ECDSA
 *   equations are written out, with the one secret-dependent point multiplication, k·G, done by
 *   OpenSSL (`createECDH('secp224r1').setPrivateKey(k)` gives k·G, in OpenSSL's constant-time
 *   ladder); the rest, s = k⁻¹(e + r·d) mod n, is BigInt arithmetic, which is not constant time.
 *   The key is a test fixture of a virtual card, not a production secret, and is documented so.
 * - k is deterministic, RFC 6979 §3.2 with HMAC-SHA-256, taking the raw UID as h1 (bits2octets of
 *   it): the same card image and UID always give the same signature, as a real card's stored
 *   signature never changes, and no nonce can repeat across UIDs.
 * - s is left as computed (either half); `lowS: true` folds it into the lower half. NXP's choice is
 *   unknown and verifiers accept both.
 * @noble/curves has no P-224 any more (checked: 2.4.0 exports p256/p384/p521 only), so it is used in
 * the tests alone, instantiated from the published curve parameters, as an independent check.
 */

/** SEC 1 ECPrivateKey DER for secp224r1, before d: SEQUENCE(104) { INTEGER 1, OCTET STRING(28) ... */
const SEC1_PREFIX = fromHex('3068020101041c');
/** ... after d: [0] { OID 1.3.132.0.33 secp224r1 }, [1] { BIT STRING 00 || 04 || X || Y } }. */
const SEC1_MIDDLE = fromHex('a00706052b81040021a13c033a00');

export interface SignOptions {
  /** Fold s into the lower half of the group order (default false). */
  readonly lowS?: boolean;
}

/** A card's originality key pair on secp224r1. */
export class OriginalityKeyPair {
  readonly #d: Uint8Array;
  readonly #publicKey: Uint8Array;

  private constructor(d: Uint8Array) {
    assertBytes(d, 'private key', P224.size);
    const ecdh = createECDH('secp224r1');
    try {
      // OpenSSL refuses 0 and values ≥ n: the key is checked, and its public point derived, there.
      ecdh.setPrivateKey(d);
    } catch {
      throw new RangeError('private key must be an integer in [1, n − 1] of secp224r1');
    }
    this.#d = d.slice();
    this.#publicKey = new Uint8Array(ecdh.getPublicKey());
  }

  /** A fresh key pair, d drawn from `random` (scripted in tests) by rejection until 1 ≤ d < n. */
  static generate(random: RandomSource = systemRandom): OriginalityKeyPair {
    for (;;) {
      const d = random(P224.size);
      assertBytes(d, 'random private key', P224.size);
      const v = bytesToBigInt(d);
      if (v >= 1n && v < P224.n) return new OriginalityKeyPair(d);
    }
  }

  /** From the 28-byte private scalar d (bytes or hex), as stored in a card image. */
  static fromPrivateKey(d: Uint8Array | string): OriginalityKeyPair {
    return new OriginalityKeyPair(typeof d === 'string' ? fromHex(d) : d);
  }

  /** From a PEM private key ("PRIVATE KEY" PKCS#8 or "EC PRIVATE KEY" SEC 1) on secp224r1. */
  static fromPem(pem: string): OriginalityKeyPair {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch {
      throw new RangeError('not a PEM private key');
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp224r1') {
      throw new RangeError('PEM key is not an EC key on secp224r1');
    }
    const der = new Uint8Array(key.export({ type: 'sec1', format: 'der' }));
    if (der.length < SEC1_PREFIX.length + P224.size || der.subarray(0, SEC1_PREFIX.length).some((b, i) => b !== SEC1_PREFIX[i])) {
      throw new RangeError('unexpected SEC 1 encoding of the private key');
    }
    const d = der.slice(SEC1_PREFIX.length, SEC1_PREFIX.length + P224.size);
    wipe(der);
    return new OriginalityKeyPair(d);
  }

  /** 04 || X || Y, 57 bytes (the form NXP's keys are published in). */
  get publicKey(): Uint8Array {
    return this.#publicKey.slice();
  }

  publicKeyHex(): string {
    return toHex(this.#publicKey);
  }

  /** The private scalar d, 28 bytes hex: what a card image stores. */
  privateKeyHex(): string {
    return toHex(this.#d);
  }

  /** PKCS#8 PEM of the private key (OpenSSL writes it; OpenSSL re-checks the public point). */
  privateKeyPem(): string {
    return this.#keyObject().export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  /** SPKI PEM of the public key. */
  publicKeyPem(): string {
    return createPublicKey(this.#keyObject()).export({ type: 'spki', format: 'pem' }).toString();
  }

  /** ECDSA r || s (56 bytes) over the raw `uid`, no hashing, k by RFC 6979 (HMAC-SHA-256). */
  sign(uid: Uint8Array, options: SignOptions = {}): Uint8Array {
    assertBytes(uid, 'uid');
    if (uid.length === 0) throw new RangeError('uid must not be empty');
    const { n } = P224;
    const d = bytesToBigInt(this.#d);
    const e = bits2int(uid);
    const ecdh = createECDH('secp224r1');
    for (const k of rfc6979Nonces(this.#d, bigIntToBytes(mod(e, n)))) {
      const kBytes = bigIntToBytes(k);
      ecdh.setPrivateKey(kBytes); // k·G in OpenSSL
      wipe(kBytes);
      const r = mod(bytesToBigInt(ecdh.getPublicKey().subarray(1, 1 + P224.size)), n);
      if (r === 0n) continue;
      let s = mod(invert(k, n) * (e + r * d), n);
      if (s === 0n) continue;
      if (options.lowS && s > n >> 1n) s = n - s;
      return concat(bigIntToBytes(r), bigIntToBytes(s));
    }
    throw new Error('unreachable: the RFC 6979 nonce stream is endless');
  }

  destroy(): void {
    wipe(this.#d);
  }

  #keyObject(): KeyObject {
    const der = concat(SEC1_PREFIX, this.#d, SEC1_MIDDLE, this.#publicKey);
    try {
      return createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.length), format: 'der', type: 'sec1' });
    } finally {
      wipe(der);
    }
  }
}

/**
 * RFC 6979 §3.2 nonces for secp224r1 with HMAC-SHA-256: x = int2octets(d), h = bits2octets(h1)
 * (28 bytes each). Yields candidate k in [1, n − 1], retrying per §3.2 h.3 when a candidate is
 * out of range or the caller rejects it (r = 0 or s = 0).
 */
function* rfc6979Nonces(x: Uint8Array, h: Uint8Array): Generator<bigint> {
  const hmac = (key: Uint8Array, ...parts: Uint8Array[]) => {
    const mac = createHmac('sha256', key);
    for (const p of parts) mac.update(p);
    return new Uint8Array(mac.digest());
  };
  let v: Uint8Array = new Uint8Array(32).fill(0x01);
  let k: Uint8Array = new Uint8Array(32);
  k = hmac(k, v, Uint8Array.of(0x00), x, h);
  v = hmac(k, v);
  k = hmac(k, v, Uint8Array.of(0x01), x, h);
  v = hmac(k, v);
  for (;;) {
    // qlen = 224 ≤ hlen = 256: one HMAC block is enough; bits2int keeps its leftmost 224 bits.
    v = hmac(k, v);
    const candidate = bits2int(v);
    if (candidate >= 1n && candidate < P224.n) yield candidate;
    k = hmac(k, v, Uint8Array.of(0x00));
    v = hmac(k, v);
  }
}

/**
 * What the card keeps for Read_Sig: the signature over its UID, made once (a real card stores the
 * signature NXP wrote at production; it never changes). With random UID on, it is still the
 * card's real 7-byte UID that is signed.
 */
export class CardOriginality {
  readonly signature: Uint8Array;

  constructor(keyPair: OriginalityKeyPair, uid: Uint8Array, options: SignOptions = {}) {
    this.signature = keyPair.sign(uid, options);
  }

  /**
   * Read_Sig (0x3C): command data is the address byte, 0x00 for the originality signature; answers
   * status 0x90 and the 56 bytes (secure messaging, if a session is open, is the dispatcher's job).
   * Judgement: another address is PARAMETER_ERROR, a missing or extra byte LENGTH_ERROR.
   */
  readSig(commandData: Uint8Array): { readonly status: number; readonly data: Uint8Array } {
    if (commandData.length !== 1) throw lengthError(`Read_Sig takes one address byte, got ${commandData.length}`).forCommand(READ_SIG);
    if (commandData[0] !== ORIGINALITY_SIGNATURE_ADDRESS) {
      throw new DesfireError(Status.PARAMETER_ERROR, `Read_Sig address 0x${commandData[0].toString(16).padStart(2, '0')}`, { command: READ_SIG });
    }
    return { status: READ_SIG_SUCCESS, data: this.signature.slice(0, ORIGINALITY_SIGNATURE_LENGTH) };
  }
}
