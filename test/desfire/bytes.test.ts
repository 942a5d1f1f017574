import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  concat,
  constantTimeEqual,
  fromHex,
  int32LE,
  readInt32LE,
  readUintLE,
  rotateLeft,
  rotateRight,
  toHex,
  uintLE,
  xor,
} from '../../src/desfire/bytes.js';

describe('byte helpers', () => {
  it('hex round-trips and accepts pasted formats', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      expect(fromHex(toHex(b))).toEqual(b);
    }));
    expect(fromHex('0x0A 1b:2C')).toEqual(Uint8Array.of(0x0a, 0x1b, 0x2c));
    expect(() => fromHex('abc')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
  });

  it('rotates like RndB → RndB\' and back', () => {
    expect(rotateLeft(Uint8Array.of(1, 2, 3, 4))).toEqual(Uint8Array.of(2, 3, 4, 1));
    expect(rotateRight(Uint8Array.of(1, 2, 3, 4))).toEqual(Uint8Array.of(4, 1, 2, 3));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 32 }), fc.integer({ min: -40, max: 40 }), (b, n) => {
      expect(rotateRight(rotateLeft(b, n), n)).toEqual(b);
    }));
  });

  it('xor and concat', () => {
    expect(xor(Uint8Array.of(0xf0, 0x0f), Uint8Array.of(0xff, 0xff))).toEqual(Uint8Array.of(0x0f, 0xf0));
    expect(() => xor(Uint8Array.of(1), Uint8Array.of(1, 2))).toThrow(RangeError);
    expect(concat(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3))).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('constant-time compare tells equal from different, including length', () => {
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
  });

  it('little-endian integers as DESFire sends lengths, offsets and values', () => {
    expect(uintLE(0x123456, 3)).toEqual(Uint8Array.of(0x56, 0x34, 0x12));
    expect(readUintLE(Uint8Array.of(0, 0x56, 0x34, 0x12), 1, 3)).toBe(0x123456);
    expect(int32LE(-2)).toEqual(Uint8Array.of(0xfe, 0xff, 0xff, 0xff));
    expect(readInt32LE(Uint8Array.of(0xfe, 0xff, 0xff, 0xff), 0)).toBe(-2);
    expect(() => uintLE(0x1000000, 3)).toThrow(RangeError);
    expect(() => readUintLE(Uint8Array.of(1, 2), 1, 2)).toThrow(RangeError);
  });
});
