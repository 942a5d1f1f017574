import { ecdsa, weierstrass } from '@noble/curves/abstract/weierstrass.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createECDH, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from '../../src/desfire/bytes.js';
import {
  bytesToBigInt,
  decodePublicKey,
  encodePublicKey,
  NXP_ORIGINALITY_KEYS,
  P224,
  parseReadSigAnswer,
  readSigCommandData,
  scalarMultiply,
  verifyOriginalitySignature,
} from '../../src/desfire/originality.js';
import { scriptedRandom, systemRandom } from '../../src/desfire/random.js';
import { Status } from '../../src/desfire/status.js';
import { CardOriginality, OriginalityKeyPair } from '../../src/emulator/originality.js';
import { outcome } from '../support/outcome.js';
import { hex, loadVectors, text } from '../support/vectors.js';

// An independent ECDSA: @noble/curves' generic short-Weierstrass code, given the SEC 2 P-224
// parameters (the same numbers as P224, which the OpenSSL test below holds to the real curve).
// prehash: false = the message is used as the hash, as NXP does; lowS: false = both halves of s.
const nobleP224 = ecdsa(weierstrass({ p: P224.p, n: P224.n, h: 1n, a: P224.p - 3n, b: P224.b, Gx: P224.gx, Gy: P224.gy }), sha256);
const raw = { prehash: false, lowS: false } as const;

const { vectors } = loadVectors('originality.json');
const uid7 = () => systemRandom(7);

describe('secp224r1 parameters', () => {
  it('match OpenSSL: d·G from our BigInt code, from node:crypto ECDH and from noble agree', () => {
    for (let i = 0; i < 8; i++) {
      const pair = OriginalityKeyPair.generate();
      const d = bytesToBigInt(fromHex(pair.privateKeyHex()));
      const ecdh = createECDH('secp224r1');
      ecdh.setPrivateKey(fromHex(pair.privateKeyHex()));
      const openssl = toHex(ecdh.getPublicKey());
      expect(toHex(encodePublicKey(scalarMultiply(d)!))).toBe(openssl);
      expect(toHex(nobleP224.getPublicKey(fromHex(pair.privateKeyHex()), false))).toBe(openssl);
      expect(pair.publicKeyHex()).toBe(openssl);
    }
  });

  it('n is the order of G', () => {
    expect(scalarMultiply(P224.n)).toBeUndefined();
    expect(scalarMultiply(P224.n - 1n)).toEqual({ x: P224.gx, y: P224.p - P224.gy });
  });
});

describe('published NXP originality signatures verify (raw UID, no hash)', () => {
  for (const v of vectors.filter((x) => x.type === 'nxpSignature')) {
    it(v.name, () => {
      const [uid, signature, publicKey] = [hex(v, 'uid'), hex(v, 'signature'), hex(v, 'publicKey')];
      expect(verifyOriginalitySignature(uid, signature, publicKey)).toBe(true);
      expect(nobleP224.verify(signature, uid, publicKey, raw)).toBe(true);
      const s = bytesToBigInt(signature.subarray(28));
      expect(s > P224.n / 2n ? 'high' : 'low').toBe(text(v, 'sHalf'));

      const flippedUid = uid.slice();
      flippedUid[uid.length - 1] ^= 0x01;
      expect(verifyOriginalitySignature(flippedUid, signature, publicKey)).toBe(false);
      for (const at of [0, 27, 28, 55]) {
        const flipped = signature.slice();
        flipped[at] ^= 0x80;
        expect(verifyOriginalitySignature(uid, flipped, publicKey)).toBe(false);
      }
    });
  }

  it('the DESFire EV3 key in NXP_ORIGINALITY_KEYS is the one the EV3 samples verify with', () => {
    const ev3 = NXP_ORIGINALITY_KEYS.find((k) => k.name === 'MIFARE DESFire EV3')!;
    const samples = vectors.filter((v) => v.name.startsWith('DESFire EV3'));
    expect(samples.length).toBeGreaterThan(0);
    for (const v of samples) expect(verifyOriginalitySignature(hex(v, 'uid'), hex(v, 'signature'), ev3.publicKey)).toBe(true);
    // ... and not with the EV2 key.
    const ev2 = NXP_ORIGINALITY_KEYS.find((k) => k.name.startsWith('MIFARE DESFire EV2'))!;
    for (const v of samples) expect(verifyOriginalitySignature(hex(v, 'uid'), hex(v, 'signature'), ev2.publicKey)).toBe(false);
  });

  it('every listed NXP key is a point of the curve', () => {
    for (const k of NXP_ORIGINALITY_KEYS) expect(toHex(encodePublicKey(decodePublicKey(k.publicKey)))).toBe(k.publicKey);
  });
});

describe('the card signs as NXP does', () => {
  it('RFC 6979 A.2.4 (P-224, SHA-256, "sample") replays byte for byte', () => {
    const v = vectors.find((x) => x.type === 'rfc6979')!;
    const pair = OriginalityKeyPair.fromPrivateKey(text(v, 'privateKey'));
    expect(pair.publicKeyHex()).toBe(text(v, 'publicKey'));
    const signature = pair.sign(hex(v, 'messageHash'));
    expect(toHex(signature)).toBe(text(v, 'signature'));
    // r = x(k·G) mod n for the published k.
    expect(toHex(signature.subarray(0, 28))).toBe(toHex(encodePublicKey(scalarMultiply(bytesToBigInt(hex(v, 'k')))!).subarray(1, 29)));
    expect(verifyOriginalitySignature(hex(v, 'messageHash'), signature, pair.publicKey)).toBe(true);
  });

  it('sign/verify round trip; the independent implementation agrees byte for byte', () => {
    for (let i = 0; i < 16; i++) {
      const pair = OriginalityKeyPair.generate();
      const uid = uid7();
      const lowS = i % 2 === 1;
      const signature = pair.sign(uid, { lowS });
      expect(signature).toHaveLength(56);
      expect(verifyOriginalitySignature(uid, signature, pair.publicKey)).toBe(true);
      expect(nobleP224.verify(signature, uid, pair.publicKey, raw)).toBe(true);
      // Same RFC 6979 nonce derivation (HMAC-SHA-256, bits2octets of the raw UID) → same bytes.
      expect(toHex(signature)).toBe(toHex(nobleP224.sign(uid, fromHex(pair.privateKeyHex()), { prehash: false, lowS })));
      if (lowS) expect(bytesToBigInt(signature.subarray(28)) <= P224.n / 2n).toBe(true);
    }
  });

  it('a flipped UID, signature or key fails', () => {
    const pair = OriginalityKeyPair.generate();
    const other = OriginalityKeyPair.generate();
    const uid = fromHex('04448bd2db6b80');
    const signature = pair.sign(uid);
    expect(verifyOriginalitySignature(fromHex('04448bd2db6b81'), signature, pair.publicKey)).toBe(false);
    expect(nobleP224.verify(signature, fromHex('04448bd2db6b81'), pair.publicKey, raw)).toBe(false);
    const flipped = signature.slice();
    flipped[40] ^= 0x04;
    expect(verifyOriginalitySignature(uid, flipped, pair.publicKey)).toBe(false);
    expect(verifyOriginalitySignature(uid, signature, other.publicKey)).toBe(false);
    // r or s out of range is refused before any arithmetic.
    expect(verifyOriginalitySignature(uid, new Uint8Array(56), pair.publicKey)).toBe(false);
    expect(verifyOriginalitySignature(uid, concat(signature.subarray(0, 28), fromHex('ff'.repeat(28))), pair.publicKey)).toBe(false);
  });

  it('the signature is deterministic per key and UID, as a card stores one', () => {
    const pair = OriginalityKeyPair.generate();
    const uid = uid7();
    expect(toHex(pair.sign(uid))).toBe(toHex(pair.sign(uid)));
    expect(toHex(pair.sign(uid))).not.toBe(toHex(pair.sign(uid7())));
  });
});

describe('the key pair: per card, or from its image', () => {
  it('generate draws d from the random source, rejecting values ≥ n', () => {
    const tooLarge = new Uint8Array(28).fill(0xff);
    const d = fromHex('00000000000000000000000000000000000000000000000000000042');
    const pair = OriginalityKeyPair.generate(scriptedRandom(tooLarge, d));
    expect(pair.privateKeyHex()).toBe(toHex(d));
    expect(pair.publicKeyHex()).toBe(toHex(encodePublicKey(scalarMultiply(0x42n)!)));
  });

  it('exports and imports as hex and as PEM (PKCS#8 and SEC 1), which OpenSSL reads back', () => {
    const pair = OriginalityKeyPair.generate();
    expect(OriginalityKeyPair.fromPrivateKey(pair.privateKeyHex()).publicKeyHex()).toBe(pair.publicKeyHex());

    const pem = pair.privateKeyPem();
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(OriginalityKeyPair.fromPem(pem).privateKeyHex()).toBe(pair.privateKeyHex());
    const sec1 = createPrivateKey(pem).export({ type: 'sec1', format: 'pem' }).toString();
    expect(OriginalityKeyPair.fromPem(sec1).privateKeyHex()).toBe(pair.privateKeyHex());

    const publicKey = createPublicKey(pair.publicKeyPem());
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp224r1');
    expect(toHex(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })).subarray(-57))).toBe(pair.publicKeyHex());
  });

  it('refuses keys that are not secp224r1 scalars', () => {
    expect(() => OriginalityKeyPair.fromPrivateKey(new Uint8Array(28))).toThrow(RangeError);
    expect(() => OriginalityKeyPair.fromPrivateKey(bytesToHex28(P224.n))).toThrow(RangeError);
    expect(() => OriginalityKeyPair.fromPrivateKey('0102')).toThrow(RangeError);
    const p256 = createECDH('prime256v1');
    p256.generateKeys();
    const p256Pem = createPrivateKey({
      key: Buffer.concat([Buffer.from('30770201010420', 'hex'), p256.getPrivateKey(), Buffer.from('a00a06082a8648ce3d030107a144034200', 'hex'), p256.getPublicKey()]),
      format: 'der',
      type: 'sec1',
    })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => OriginalityKeyPair.fromPem(p256Pem)).toThrow(/secp224r1/);
    expect(() => OriginalityKeyPair.fromPem('not a key')).toThrow(RangeError);
  });
});

describe('Read_Sig', () => {
  it("the card answers 0x90 and its signature, which the reader parses and verifies", () => {
    const pair = OriginalityKeyPair.generate();
    const uid = uid7();
    const card = new CardOriginality(pair, uid);
    const answer = card.readSig(readSigCommandData());
    expect(answer.status).toBe(0x90);
    const signature = parseReadSigAnswer(answer.status, answer.data);
    expect(verifyOriginalitySignature(uid, signature, pair.publicKeyHex())).toBe(true);
  });

  it('malformed requests and answers give typed errors', () => {
    const card = new CardOriginality(OriginalityKeyPair.generate(), uid7());
    expect(outcome(() => card.readSig(new Uint8Array(0)))).toBe(Status.LENGTH_ERROR);
    expect(outcome(() => card.readSig(fromHex('0000')))).toBe(Status.LENGTH_ERROR);
    expect(outcome(() => card.readSig(fromHex('01')))).toBe(Status.PARAMETER_ERROR);
    expect(outcome(() => parseReadSigAnswer(0x90, new Uint8Array(55)))).toBe(Status.LENGTH_ERROR);
    expect(outcome(() => parseReadSigAnswer(Status.PERMISSION_DENIED, new Uint8Array(0)))).toBe(Status.PERMISSION_DENIED);
  });
});

function bytesToHex28(v: bigint): string {
  return v.toString(16).padStart(56, '0');
}
