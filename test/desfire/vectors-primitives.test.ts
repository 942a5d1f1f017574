import { describe, expect, it } from 'vitest';
import { concat, toHex } from '../../src/desfire/bytes.js';
import { diversificationBlock, diversify2k3des, diversify3k3des, diversifyAes128 } from '../../src/desfire/crypto/an10922.js';
import { Cmac, cmacSubkeys } from '../../src/desfire/crypto/cmac.js';
import { crc16A, crc32Desfire } from '../../src/desfire/crypto/crc.js';
import { createBlockCipher, type KeyType } from '../../src/desfire/crypto/key-type.js';
import { hex, loadVectors, text, type Vector } from '../support/vectors.js';

// Published vectors, read from test/vectors/*.json (never retyped here), one test per vector.

/** The DESFire key type of a TDEA vector: 2-key = K1||K2, 3-key = K1||K2||K3. */
function tdesType(v: Vector): KeyType {
  const option = text(v, 'keyingOption');
  if (option === '2-key') return '2k3des';
  if (option === '3-key') return '3k3des';
  throw new Error(`unknown keying option ${option}`);
}

describe('CRC (crc.json)', () => {
  const file = loadVectors('crc.json');
  it.each(file.vectors)('$name', (v) => {
    const crc = text(v, 'algorithm') === 'crc16-iso14443a' ? crc16A : text(v, 'algorithm') === 'crc32-desfire' ? crc32Desfire : undefined;
    if (!crc) throw new Error(`unknown algorithm ${text(v, 'algorithm')}`);
    expect(toHex(crc(hex(v, 'data')))).toBe(text(v, 'crcBytes'));
  });
});

describe('AES-128 (fips197-aes.json)', () => {
  const file = loadVectors('fips197-aes.json');
  it.each(file.vectors)('$name', (v) => {
    const cipher = createBlockCipher('aes', hex(v, 'key'));
    const [plaintext, ciphertext] = [hex(v, 'plaintext'), hex(v, 'ciphertext')];
    if (v.type === 'ecb') {
      expect(cipher.encryptEcb(plaintext)).toEqual(ciphertext);
      expect(cipher.decryptEcb(ciphertext)).toEqual(plaintext);
    } else if (v.type === 'cbc') {
      expect(cipher.encryptCbc(plaintext, hex(v, 'iv'))).toEqual(ciphertext);
      expect(cipher.decryptCbc(ciphertext, hex(v, 'iv'))).toEqual(plaintext);
    } else {
      throw new Error(`unknown type ${String(v.type)}`);
    }
  });
});

describe('DES and TDEA (des-tdes-kat.json)', () => {
  const file = loadVectors('des-tdes-kat.json');
  it.each(file.vectors)('$name', (v) => {
    if (v.type !== 'des-ecb' && v.type !== 'tdea-ecb') throw new Error(`unknown type ${String(v.type)}`);
    const type: KeyType = v.type === 'des-ecb' ? 'des' : tdesType(v);
    const cipher = createBlockCipher(type, hex(v, 'key'));
    expect(cipher.encryptEcb(hex(v, 'plaintext'))).toEqual(hex(v, 'ciphertext'));
    expect(cipher.decryptEcb(hex(v, 'ciphertext'))).toEqual(hex(v, 'plaintext'));
  });
});

function cmacVectorTest(type: (v: Vector) => KeyType) {
  return (v: Vector) => {
    const cipher = createBlockCipher(type(v), hex(v, 'key'));
    if (v.type === 'subkeys') {
      const { l, k1, k2 } = cmacSubkeys(cipher);
      expect(toHex(l)).toBe(text(v, 'l'));
      expect(toHex(k1)).toBe(text(v, 'k1'));
      expect(toHex(k2)).toBe(text(v, 'k2'));
    } else if (v.type === 'cmac') {
      expect(toHex(new Cmac(cipher).mac(hex(v, 'message')))).toBe(text(v, 'mac'));
    } else {
      throw new Error(`unknown type ${String(v.type)}`);
    }
  };
}

describe('AES-CMAC (rfc4493-aes-cmac.json)', () => {
  it.each(loadVectors('rfc4493-aes-cmac.json').vectors)('$name', cmacVectorTest(() => 'aes'));
});

describe('TDES-CMAC (nist-sp800-38b-tdes-cmac.json)', () => {
  it.each(loadVectors('nist-sp800-38b-tdes-cmac.json').vectors)('$name', cmacVectorTest(tdesType));
});

describe('AN10922 key diversification (an10922-diversification.json)', () => {
  const kinds = {
    aes128: { type: 'aes', blockSize: 16, diversify: diversifyAes128 },
    '2tdea': { type: '2k3des', blockSize: 8, diversify: diversify2k3des },
    '3tdea': { type: '3k3des', blockSize: 8, diversify: diversify3k3des },
  } as const;

  it.each(loadVectors('an10922-diversification.json').vectors)('$name', (v) => {
    const kind = kinds[text(v, 'algorithm') as keyof typeof kinds];
    if (!kind) throw new Error(`unknown algorithm ${text(v, 'algorithm')}`);
    const master = createBlockCipher(kind.type, hex(v, 'masterKey'));
    const m = hex(v, 'divInput');
    // M is UID || AID || system identifier, when the vector gives the parts.
    if (typeof v.uid === 'string' && typeof v.aid === 'string' && typeof v.systemIdentifier === 'string') {
      expect(m).toEqual(concat(hex(v, 'uid'), hex(v, 'aid'), hex(v, 'systemIdentifier')));
    }
    if (typeof v.k1 === 'string') {
      const subkeys = cmacSubkeys(master);
      expect(toHex(subkeys.k1)).toBe(text(v, 'k1'));
      expect(toHex(subkeys.k2)).toBe(text(v, 'k2'));
      if (typeof v.l === 'string') expect(toHex(subkeys.l)).toBe(text(v, 'l'));
    }
    if (typeof v.cmacInput === 'string') {
      const constant = parseInt((v.divConstants as string[])[0], 16);
      expect(toHex(diversificationBlock(constant, m, kind.blockSize).input)).toBe(text(v, 'cmacInput'));
    }
    const derived = kind.diversify(new Cmac(master), m);
    expect(toHex(derived)).toBe(text(v, 'diversifiedKey'));
    if (typeof v.derivedKeyPart1 === 'string') expect(toHex(derived.subarray(0, 8))).toBe(text(v, 'derivedKeyPart1'));
  });
});
