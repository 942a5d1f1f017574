import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { DesfireError } from '../../src/desfire/errors.js';
import {
  encodeAnswerFrame,
  encodeCommandFrame,
  encodeIsoAnswer,
  encodeShortApdu,
  MAX_COMMAND_FRAME_LENGTH,
  MAX_NATIVE_COMMAND_DATA,
  MAX_WRAPPED_COMMAND_DATA,
  parseAnswerFrame,
  parseIncomingFrame,
  parseIsoApdu,
  type FrameStyle,
  type IncomingFrame,
} from '../../src/desfire/framing/index.js';
import { Status } from '../../src/desfire/status.js';
import { outcome } from '../support/outcome.js';

describe('frame-size limits', () => {
  it('follow from FSC 64: 60-byte frames, 59 native data bytes, Lc 54 wrapped (Proxmark DESFIRE_TX_FRAME_MAX_LEN)', () => {
    expect(MAX_COMMAND_FRAME_LENGTH).toBe(60);
    expect(MAX_NATIVE_COMMAND_DATA).toBe(59);
    expect(MAX_WRAPPED_COMMAND_DATA).toBe(54);
  });
});

describe('reader: encodeCommandFrame', () => {
  const cases: { name: string; style: FrameStyle; cmd: number; data: string; bytes: string }[] = [
    { name: 'native GetVersion', style: 'native', cmd: 0x60, data: '', bytes: '60' },
    { name: 'native ReadData file 1, offset 0, 32 bytes', style: 'native', cmd: 0xbd, data: '01 000000 200000', bytes: 'bd01000000200000' },
    { name: 'wrapped GetVersion: no Lc, Le 00', style: 'wrapped', cmd: 0x60, data: '', bytes: '9060000000' },
    { name: 'wrapped SelectApplication 010203', style: 'wrapped', cmd: 0x5a, data: '010203', bytes: '905a00000301020300' },
    { name: 'wrapped next-frame request', style: 'wrapped', cmd: 0xaf, data: '', bytes: '90af000000' },
    { name: 'native next-frame request', style: 'native', cmd: 0xaf, data: '', bytes: 'af' },
  ];
  it.each(cases)('$name', ({ style, cmd, data, bytes }) => {
    expect(toHex(encodeCommandFrame({ style, cmd, data: fromHex(data) }))).toBe(bytes);
  });

  it('refuses more than 255 bytes in one wrapped frame with LENGTH_ERROR naming the command', () => {
    let error: unknown;
    try {
      encodeCommandFrame({ style: 'wrapped', cmd: 0x3d, data: new Uint8Array(256) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DesfireError);
    expect((error as DesfireError).status).toBe(Status.LENGTH_ERROR);
    expect((error as DesfireError).command).toBe(0x3d);
  });

  it('refuses a command code that is not a byte', () => {
    expect(() => encodeCommandFrame({ style: 'native', cmd: 0x100, data: new Uint8Array(0) })).toThrow(RangeError);
  });
});

describe('reader: parseAnswerFrame', () => {
  const ok: { name: string; style: FrameStyle; frame: string; status: number; data: string }[] = [
    { name: 'native OK, no data', style: 'native', frame: '00', status: 0x00, data: '' },
    { name: 'native first GetVersion frame of an EV3', style: 'native', frame: 'af 04010133001605', status: 0xaf, data: '04010133001605' },
    { name: 'wrapped first GetVersion frame', style: 'wrapped', frame: '04010133001605 91af', status: 0xaf, data: '04010133001605' },
    { name: 'wrapped OK', style: 'wrapped', frame: '9100', status: 0x00, data: '' },
    { name: 'wrapped error status carried in SW2', style: 'wrapped', frame: '917e', status: Status.LENGTH_ERROR, data: '' },
    { name: 'wrapped ISO 90 00 taken as OK', style: 'wrapped', frame: 'cafe 9000', status: 0x00, data: 'cafe' },
    { name: 'Read_Sig answers status 0x90 (native)', style: 'native', frame: '90 0102', status: 0x90, data: '0102' },
    { name: 'Read_Sig answers status 0x90 (wrapped)', style: 'wrapped', frame: '0102 9190', status: 0x90, data: '0102' },
  ];
  it.each(ok)('$name', ({ style, frame, status, data }) => {
    const answer = parseAnswerFrame(style, fromHex(frame));
    expect(answer.status).toBe(status);
    expect(toHex(answer.data)).toBe(data);
  });

  const bad: { name: string; style: FrameStyle; frame: string; status: number; origin: 'card' | 'protocol' }[] = [
    { name: 'native, empty', style: 'native', frame: '', status: Status.LENGTH_ERROR, origin: 'protocol' },
    { name: 'wrapped, empty', style: 'wrapped', frame: '', status: Status.LENGTH_ERROR, origin: 'protocol' },
    { name: 'wrapped, one byte', style: 'wrapped', frame: '91', status: Status.LENGTH_ERROR, origin: 'protocol' },
    { name: 'wrapped, ISO CLA not supported', style: 'wrapped', frame: '6e00', status: Status.ILLEGAL_COMMAND_CODE, origin: 'card' },
    { name: 'wrapped, ISO wrong length', style: 'wrapped', frame: '6700', status: Status.LENGTH_ERROR, origin: 'card' },
    { name: 'wrapped, ISO file not found', style: 'wrapped', frame: '6a82', status: Status.ILLEGAL_COMMAND_CODE, origin: 'card' },
  ];
  it.each(bad)('$name → DesfireError', ({ style, frame, status, origin }) => {
    let error: unknown;
    try {
      parseAnswerFrame(style, fromHex(frame), 0x60);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DesfireError);
    expect((error as DesfireError).status).toBe(status);
    expect((error as DesfireError).origin).toBe(origin);
    expect((error as DesfireError).command).toBe(0x60);
  });
});

describe('card: encodeAnswerFrame', () => {
  it.each([
    { style: 'native' as const, status: 0x00, data: '0102', bytes: '000102' },
    { style: 'wrapped' as const, status: 0x00, data: '0102', bytes: '01029100' },
    { style: 'native' as const, status: 0xaf, data: '', bytes: 'af' },
    { style: 'wrapped' as const, status: 0xaf, data: '', bytes: '91af' },
    { style: 'wrapped' as const, status: 0x9d, data: '', bytes: '919d' },
  ])('$style status $status data "$data" → $bytes', ({ style, status, data, bytes }) => {
    expect(toHex(encodeAnswerFrame(style, { status, data: fromHex(data) }))).toBe(bytes);
  });

  it('refuses a status that is not a byte', () => {
    expect(() => encodeAnswerFrame('native', { status: 0x100, data: new Uint8Array(0) })).toThrow(RangeError);
  });

  it('ISO answers append the status word', () => {
    expect(toHex(encodeIsoAnswer(fromHex('0102'), 0x9000))).toBe('01029000');
    expect(toHex(encodeIsoAnswer(new Uint8Array(0), 0x6a82))).toBe('6a82');
  });
});

describe('parseIsoApdu: the ISO/IEC 7816-4 cases', () => {
  const ok: { name: string; apdu: string; lc: number; data: string; le: number | undefined; extended: boolean }[] = [
    { name: 'case 1', apdu: '00a40400', lc: 0, data: '', le: undefined, extended: false },
    { name: 'case 2S, Le 00 = 256', apdu: '00b0000000', lc: 0, data: '', le: 256, extended: false },
    { name: 'case 2S, Le 16', apdu: '00b0000010', lc: 0, data: '', le: 16, extended: false },
    { name: 'case 3S, select NDEF DF name', apdu: '00a4040007d2760000850101', lc: 7, data: 'd2760000850101', le: undefined, extended: false },
    { name: 'case 4S', apdu: '00a4040007d276000085010100', lc: 7, data: 'd2760000850101', le: 256, extended: false },
    { name: 'case 2E, Le 0100', apdu: '00b00000000100', lc: 0, data: '', le: 256, extended: true },
    { name: 'case 2E, Le 0000 = 65536', apdu: '00b00000000000', lc: 0, data: '', le: 65536, extended: true },
    { name: 'case 3E', apdu: '00d6000000000301 0203', lc: 3, data: '010203', le: undefined, extended: true },
    { name: 'case 4E', apdu: '00d60000000003010203 0000', lc: 3, data: '010203', le: 65536, extended: true },
  ];
  it.each(ok)('$name', ({ apdu, lc, data, le, extended }) => {
    const parsed = parseIsoApdu(fromHex(apdu));
    expect([parsed.cla, parsed.ins]).toEqual([fromHex(apdu)[0], fromHex(apdu)[1]]);
    expect({ lc: parsed.lc, data: toHex(parsed.data), le: parsed.le, extended: parsed.extended }).toEqual({ lc, data, le, extended });
  });

  it.each([
    { name: 'header truncated', apdu: '00a404' },
    { name: 'empty', apdu: '' },
    { name: 'short Lc 7 with 3 bytes after it', apdu: '00a4040007d27600' },
    { name: 'short Lc 2 with 4 bytes after it (neither case 3 nor 4)', apdu: '00d60000020102 0304' },
    { name: 'extended marker then one byte', apdu: '00b000000001' },
    { name: 'extended Lc 0 followed by data', apdu: '00d6000000000001' },
    { name: 'extended Lc 3 with 4 data bytes', apdu: '00d600000000030102 0304' },
    { name: 'extended Lc 3 with a one-byte Le', apdu: '00d6000000000301020300' },
  ])('$name → LENGTH_ERROR', ({ apdu }) => {
    expect(outcome(() => parseIsoApdu(fromHex(apdu)))).toBe(Status.LENGTH_ERROR);
  });

  it('encodeShortApdu writes Le 256 as 00 and omits absent fields', () => {
    expect(toHex(encodeShortApdu(0x90, 0x60, 0, 0, new Uint8Array(0), 256))).toBe('9060000000');
    expect(toHex(encodeShortApdu(0x00, 0xa4, 4, 0, fromHex('d2'), undefined))).toBe('00a4040001d2');
    expect(outcome(() => encodeShortApdu(0x90, 0x3d, 0, 0, new Uint8Array(256)))).toBe(Status.LENGTH_ERROR);
  });
});

describe('card: parseIncomingFrame', () => {
  function desfire(frame: IncomingFrame): { style: string; cmd: number; data: string } {
    if (frame.kind !== 'desfire') throw new Error(`expected a DESFire frame, got ${frame.kind}`);
    return { style: frame.style, cmd: frame.cmd, data: toHex(frame.data) };
  }

  const ok: { name: string; frame: string; style: FrameStyle; cmd: number; data: string }[] = [
    { name: 'native, command only', frame: '60', style: 'native', cmd: 0x60, data: '' },
    { name: 'native ReadData', frame: 'bd01000000200000', style: 'native', cmd: 0xbd, data: '01000000200000' },
    { name: 'native 0xAF continuation', frame: 'af0102', style: 'native', cmd: 0xaf, data: '0102' },
    { name: 'wrapped, no data', frame: '9060000000', style: 'wrapped', cmd: 0x60, data: '' },
    { name: 'wrapped, no data, no Le (case 1)', frame: '90600000', style: 'wrapped', cmd: 0x60, data: '' },
    { name: 'wrapped SelectApplication', frame: '905a00000301020300', style: 'wrapped', cmd: 0x5a, data: '010203' },
    { name: 'wrapped SelectApplication without Le', frame: '905a000003010203', style: 'wrapped', cmd: 0x5a, data: '010203' },
    { name: 'wrapped, extended Lc and Le', frame: '905a0000000003010203 0000', style: 'wrapped', cmd: 0x5a, data: '010203' },
    { name: 'wrapped, extended Le only', frame: '90600000000000', style: 'wrapped', cmd: 0x60, data: '' },
  ];
  it.each(ok)('$name', ({ frame, style, cmd, data }) => {
    expect(desfire(parseIncomingFrame(fromHex(frame)))).toEqual({ style, cmd, data });
  });

  it('hands CLA 00 commands to the ISO layer, parsed', () => {
    const frame = parseIncomingFrame(fromHex('00a4040007d276000085010100'));
    expect(frame.kind).toBe('iso7816');
    if (frame.kind !== 'iso7816') return;
    expect(frame.apdu).toMatchObject({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, lc: 7, le: 256, extended: false });
    expect(toHex(frame.apdu.data)).toBe('d2760000850101');
  });

  const bad: { name: string; frame: string; status: number; command?: number }[] = [
    { name: 'empty', frame: '', status: Status.LENGTH_ERROR },
    { name: 'wrapped, header truncated', frame: '906000', status: Status.LENGTH_ERROR, command: 0x60 },
    { name: 'wrapped, CLA alone', frame: '90', status: Status.LENGTH_ERROR },
    { name: 'wrapped, Lc 3 with 2 bytes', frame: '905a0000030102', status: Status.LENGTH_ERROR, command: 0x5a },
    { name: 'wrapped, P1 not 00', frame: '905a01000301020300', status: Status.PARAMETER_ERROR, command: 0x5a },
    { name: 'wrapped, P2 not 00', frame: '905a00010301020300', status: Status.PARAMETER_ERROR, command: 0x5a },
    { name: 'wrapped, Le 16 instead of 00', frame: '9060000010', status: Status.LENGTH_ERROR, command: 0x60 },
    { name: 'wrapped, extended Le 0010', frame: '90600000000010', status: Status.LENGTH_ERROR, command: 0x60 },
    { name: 'ISO, Lc not matching', frame: '00a4040007d276', status: Status.LENGTH_ERROR },
  ];
  it.each(bad)('$name → DesfireError $status', ({ frame, status, command }) => {
    let error: unknown;
    try {
      parseIncomingFrame(fromHex(frame));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DesfireError);
    expect((error as DesfireError).status).toBe(status);
    if (command !== undefined) expect((error as DesfireError).command).toBe(command);
  });

  it('takes frames up to 60 bytes and refuses 61 (FSC 64 less the block overhead)', () => {
    const native60 = new Uint8Array(60).fill(0x11);
    native60[0] = 0x3d;
    expect(outcome(() => parseIncomingFrame(native60))).toBe('accepted');
    const native61 = new Uint8Array(61).fill(0x11);
    native61[0] = 0x3d;
    expect(outcome(() => parseIncomingFrame(native61))).toBe(Status.LENGTH_ERROR);
  });

  it('so a wrapped command carries 55 data bytes without Le and 54 with it', () => {
    const wrapped = (lc: number, le: boolean) => fromHex(`903d0000${lc.toString(16).padStart(2, '0')}${'ab'.repeat(lc)}${le ? '00' : ''}`);
    expect(outcome(() => parseIncomingFrame(wrapped(55, false)))).toBe('accepted');
    expect(outcome(() => parseIncomingFrame(wrapped(54, true)))).toBe('accepted');
    expect(outcome(() => parseIncomingFrame(wrapped(55, true)))).toBe(Status.LENGTH_ERROR);
    expect(outcome(() => parseIncomingFrame(wrapped(56, false)))).toBe(Status.LENGTH_ERROR);
  });

  it('lets the caller raise the frame limit (a card configured for a larger FSC)', () => {
    const frame = fromHex(`903d0000c8${'ab'.repeat(200)}00`);
    expect(outcome(() => parseIncomingFrame(frame))).toBe(Status.LENGTH_ERROR);
    expect(outcome(() => parseIncomingFrame(frame, { maxFrameLength: 256 }))).toBe('accepted');
  });
});

describe('malformed input never escapes as anything but DesfireError', () => {
  // Random frames, biased towards the two APDU classes so the APDU paths get most of the cases.
  const frames = fc.oneof(
    fc.uint8Array({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 70 }).map((b) => Uint8Array.of(0x90, ...b)),
    fc.uint8Array({ maxLength: 70 }).map((b) => Uint8Array.of(0x00, ...b)),
    fc.uint8Array({ maxLength: 8 }).map((b) => Uint8Array.of(0x90, 0x3d, 0x00, 0x00, 0x00, ...b)),
  );
  const isByte = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xff;

  it('card side: parseIncomingFrame returns well-formed fields or throws DesfireError', () => {
    fc.assert(
      fc.property(frames, (bytes) => {
        let frame: IncomingFrame;
        try {
          frame = parseIncomingFrame(bytes);
        } catch (e) {
          return e instanceof DesfireError;
        }
        if (frame.kind === 'desfire') return isByte(frame.cmd) && frame.data instanceof Uint8Array && frame.data.length < bytes.length;
        const { apdu } = frame;
        return [apdu.cla, apdu.ins, apdu.p1, apdu.p2].every(isByte) && apdu.data.length === apdu.lc && apdu.lc <= bytes.length;
      }),
      { numRuns: 3000 },
    );
  });

  it('reader side: parseAnswerFrame in both styles', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), fc.constantFrom<FrameStyle>('native', 'wrapped'), (bytes, style) => {
        try {
          const answer = parseAnswerFrame(style, bytes);
          return isByte(answer.status) && answer.data.length < bytes.length;
        } catch (e) {
          return e instanceof DesfireError;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
