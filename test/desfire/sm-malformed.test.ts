import { describe, expect, it } from 'vitest';
import { ev1Scheme, ev2Scheme, legacyScheme } from '../../src/desfire/auth/schemes.js';
import { concat } from '../../src/desfire/bytes.js';
import type { CommMode } from '../../src/desfire/comm-mode.js';
import { crc32Desfire } from '../../src/desfire/crypto/crc.js';
import { Status } from '../../src/desfire/status.js';
import { stripCrcAndZeros, unpadIso9797M2 } from '../../src/desfire/sm/padding.js';
import { outcome } from '../support/outcome.js';
import { authenticatePair, randomKey } from './support/sessions.js';

const sessions = {
  d40: () => {
    const k = randomKey('2k3des');
    return authenticatePair(legacyScheme('2k3des', k), legacyScheme('2k3des', k));
  },
  ev1: () => {
    const k = randomKey('aes');
    return authenticatePair(ev1Scheme('aes', k), ev1Scheme('aes', k));
  },
  ev2: () => {
    const k = randomKey('aes');
    return authenticatePair(ev2Scheme('aes', k), ev2Scheme('aes', k));
  },
};

// Each row: a generation, a mode, and a body no honest sender produces.
const malformed: { name: string; generation: keyof typeof sessions; mode: CommMode; body: Uint8Array; status: number }[] = [
  { name: 'd40 full, not whole blocks', generation: 'd40', mode: 'full', body: new Uint8Array(7), status: Status.LENGTH_ERROR },
  { name: 'd40 MAC shorter than the MAC', generation: 'd40', mode: 'mac', body: new Uint8Array(3), status: Status.LENGTH_ERROR },
  { name: 'd40 MAC without data', generation: 'd40', mode: 'mac', body: new Uint8Array(4), status: Status.LENGTH_ERROR },
  { name: 'EV1 plain answer without its CMAC', generation: 'ev1', mode: 'plain', body: new Uint8Array(5), status: Status.LENGTH_ERROR },
  { name: 'EV1 full, empty', generation: 'ev1', mode: 'full', body: new Uint8Array(0), status: Status.LENGTH_ERROR },
  { name: 'EV1 full, not whole blocks', generation: 'ev1', mode: 'full', body: new Uint8Array(17), status: Status.LENGTH_ERROR },
  { name: 'EV1 full, garbage blocks', generation: 'ev1', mode: 'full', body: new Uint8Array(32).fill(7), status: Status.INTEGRITY_ERROR },
  { name: 'EV2 MAC shorter than the MAC', generation: 'ev2', mode: 'mac', body: new Uint8Array(7), status: Status.LENGTH_ERROR },
  { name: 'EV2 full, not whole blocks', generation: 'ev2', mode: 'full', body: new Uint8Array(8 + 15), status: Status.INTEGRITY_ERROR },
  { name: 'EV2 MAC, forged', generation: 'ev2', mode: 'mac', body: new Uint8Array(12), status: Status.INTEGRITY_ERROR },
];

describe('malformed protected messages', () => {
  it.each(malformed)('$name → card and reader refuse with the right status', ({ generation, mode, body, status }) => {
    const { reader, card } = sessions[generation]();
    expect(outcome(() => reader.unwrapResponse(0x00, body, mode))).toBe(status);
    // The card sees the same bytes as a command with no header.
    expect(outcome(() => card.unwrapCommand(0x3d, body, 0, mode))).toBe(generation === 'ev1' && mode === 'plain' ? 'accepted' : status);
  });

  it('refuses a command shorter than its clear header', () => {
    for (const make of Object.values(sessions)) {
      const { card } = make();
      expect(outcome(() => card.unwrapCommand(0x3d, new Uint8Array(3), 7, 'mac'))).toBe(Status.LENGTH_ERROR);
    }
  });

  it('EV2 refuses to go past command counter 0xFFFF', () => {
    const k = randomKey('aes');
    const { reader } = authenticatePair(
      ev2Scheme('aes', k, { continuing: { ti: new Uint8Array(4), cmdCtr: 0xffff } }),
      ev2Scheme('aes', k, { continuing: { ti: new Uint8Array(4), cmdCtr: 0xffff } }),
    );
    expect(outcome(() => reader.wrapCommand(0x60, new Uint8Array(0), new Uint8Array(0), 'plain'))).toBe(Status.COMMAND_ABORTED);
  });
});

describe('padding', () => {
  it('ISO 9797-1 method 2: only 0x80 followed by zeros within the last block is padding', () => {
    expect(unpadIso9797M2(Uint8Array.of(1, 2, 0x80, 0, 0, 0, 0, 0), 8)).toEqual(Uint8Array.of(1, 2));
    expect(unpadIso9797M2(Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0), 8)).toEqual(new Uint8Array(0));
    expect(outcome(() => unpadIso9797M2(Uint8Array.of(1, 2, 3, 0, 0, 0, 0, 0), 8))).toBe(Status.INTEGRITY_ERROR);
    expect(outcome(() => unpadIso9797M2(Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 8))).toBe(Status.INTEGRITY_ERROR);
    expect(outcome(() => unpadIso9797M2(new Uint8Array(0), 8))).toBe(Status.INTEGRITY_ERROR);
  });

  it('CRC + zero padding is ambiguous when the CRC ends in a zero byte; the known length settles it', () => {
    // Find data whose DESFire CRC32 ends in exactly one 0x00 (1 in 256): then data minus its last byte also
    // reads as a valid message, because these CRCs have no final XOR.
    let data = new Uint8Array(0);
    for (let i = 0; ; i++) {
      data = Uint8Array.of(0x10, 0x20, 0x30, i & 0xff, i >> 8);
      const crc = crc32Desfire(data);
      if (crc[3] === 0 && crc[2] !== 0) break;
    }
    const plain = concat(data, crc32Desfire(data), new Uint8Array(16 - data.length - 4));
    expect(stripCrcAndZeros(plain, 16, 4, crc32Desfire)).toEqual(data.subarray(0, data.length - 1));
    expect(stripCrcAndZeros(plain, 16, 4, crc32Desfire, data.length)).toEqual(data);
    expect(outcome(() => stripCrcAndZeros(plain, 16, 4, crc32Desfire, data.length - 2))).toBe(Status.INTEGRITY_ERROR);
    expect(outcome(() => stripCrcAndZeros(plain, 16, 4, crc32Desfire, 40))).toBe(Status.LENGTH_ERROR);
  });
});
