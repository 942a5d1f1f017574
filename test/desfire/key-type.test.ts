import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/desfire/bytes.js';
import { createBlockCipher, desKeyVersion, withDesKeyVersion } from '../../src/desfire/crypto/key-type.js';

describe('key types', () => {
  it('keeps a DES key version in the parity bits without changing the cipher', () => {
    const key = fromHex('0011223344556677');
    const versioned = withDesKeyVersion(key, 0xa5);
    expect(desKeyVersion(versioned)).toBe(0xa5);
    const block = fromHex('0123456789abcdef');
    expect(createBlockCipher('des', versioned).encryptEcb(block)).toEqual(createBlockCipher('des', key).encryptEcb(block));
  });

  it('treats a 2K3DES key with equal halves as single DES, as DESFire does', () => {
    const k = fromHex('0123456789abcdef');
    const block = fromHex('4e6f772069732074');
    expect(createBlockCipher('2k3des', fromHex('0123456789abcdef0123456789abcdef')).encryptEcb(block)).toEqual(
      createBlockCipher('des', k).encryptEcb(block),
    );
  });

  it('refuses keys of the wrong length', () => {
    expect(() => createBlockCipher('aes', new Uint8Array(15))).toThrow(RangeError);
    expect(() => createBlockCipher('3k3des', new Uint8Array(16))).toThrow(RangeError);
    expect(() => createBlockCipher('des', new Uint8Array(12))).toThrow(RangeError);
  });

  it('refuses partial blocks and a destroyed cipher', () => {
    const c = createBlockCipher('aes', new Uint8Array(16));
    expect(() => c.encryptEcb(new Uint8Array(15))).toThrow(RangeError);
    c.destroy();
    expect(() => c.encryptEcb(new Uint8Array(16))).toThrow(/destroy/);
  });
});
