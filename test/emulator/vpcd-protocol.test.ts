import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import {
  atrHistoricalBytes,
  backoffDelay,
  encodeVpcdMessage,
  parseVpcdAddress,
  VPCD_DEFAULT_PORT,
  VpcdMessageDecoder,
} from '../../src/emulator/vpcd/index.js';

describe('vpcd framing: 2-byte big-endian length, then the payload', () => {
  it('encodes a control code, an APDU and an empty message', () => {
    expect(toHex(encodeVpcdMessage(Uint8Array.of(0x04)))).toBe('000104');
    expect(toHex(encodeVpcdMessage(fromHex('9060000000')))).toBe('00059060000000');
    expect(toHex(encodeVpcdMessage(new Uint8Array(0)))).toBe('0000');
  });

  it('encodes up to 65535 bytes and refuses more', () => {
    expect(toHex(encodeVpcdMessage(new Uint8Array(0xffff)).subarray(0, 2))).toBe('ffff');
    expect(() => encodeVpcdMessage(new Uint8Array(0x10000))).toThrow(RangeError);
  });

  it('decodes messages split over chunks and several messages in one chunk', () => {
    const decoder = new VpcdMessageDecoder();
    const stream = fromHex('000104' + '00059060000000' + '0000' + '000100');
    const messages: string[] = [];
    for (const byte of stream) messages.push(...decoder.push(Uint8Array.of(byte)).map(toHex));
    expect(messages).toEqual(['04', '9060000000', '', '00']);
    expect(decoder.pendingBytes).toBe(0);
    expect(decoder.push(stream).map(toHex)).toEqual(['04', '9060000000', '', '00']);
  });

  it('keeps an incomplete message until its last byte comes', () => {
    const decoder = new VpcdMessageDecoder();
    expect(decoder.push(fromHex('01'))).toEqual([]);
    expect(decoder.push(fromHex('00' + 'aa'.repeat(200)))).toEqual([]);
    expect(decoder.pendingBytes).toBe(202);
    expect(decoder.push(fromHex('aa'.repeat(56) + '0001'))).toHaveLength(1);
    expect(decoder.pendingBytes).toBe(2);
  });
});

describe('ATR historical bytes (ISO/IEC 7816-3 §8.2)', () => {
  it.each([
    ['DESFire EV3 through a PC/SC contactless reader', '3b8180018080', '80'],
    ['ISO 14443-4 card with 7 historical bytes', '3b878001c1052f2f01bcd6a9', 'c1052f2f01bcd6'],
    ['T=0 card with TA1, TB1, TC1 and no TCK', '3b7f96000080318065b0850300ef120fff829000', '80318065b0850300ef120fff829000'],
    ['no historical bytes', '3b80800101', ''],
  ])('%s', (_name, atr, historical) => {
    expect(toHex(atrHistoricalBytes(fromHex(atr))!)).toBe(historical);
  });

  it('is undefined for an ATR shorter than it announces', () => {
    expect(atrHistoricalBytes(fromHex('3b'))).toBeUndefined();
    expect(atrHistoricalBytes(fromHex('3b8f8001'))).toBeUndefined();
    expect(atrHistoricalBytes(fromHex('3b81'))).toBeUndefined();
  });
});

describe('vpcd address', () => {
  it.each([
    ['127.0.0.1:35963', '127.0.0.1', 35963],
    ['pcsc-host', 'pcsc-host', VPCD_DEFAULT_PORT],
    [':35964', '127.0.0.1', 35964],
    ['[::1]:40000', '::1', 40000],
    ['[::1]', '::1', VPCD_DEFAULT_PORT],
  ])('%s', (text, host, port) => {
    expect(parseVpcdAddress(text)).toEqual({ host, port });
  });

  it.each(['host:0', 'host:65536', 'host:abc', 'host:', '::1:35963'])('refuses %s', (text) => {
    expect(() => parseVpcdAddress(text)).toThrow(RangeError);
  });
});

describe('reconnection backoff', () => {
  it('doubles from the initial delay up to the cap', () => {
    const delays = Array.from({ length: 8 }, (_, attempt) => backoffDelay(attempt, { initialMs: 100, maxMs: 5000 }));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffDelay(1000)).toBe(5000);
  });
});

describe('vpcd decoder output', () => {
  it('gives plain Uint8Array copies, never views of a Node Buffer chunk', () => {
    const chunk = Buffer.from('00029060', 'hex');
    const [message] = new VpcdMessageDecoder().push(chunk);
    chunk.fill(0);
    expect(message.constructor).toBe(Uint8Array);
    expect(toHex(message)).toBe('9060');
  });
});
