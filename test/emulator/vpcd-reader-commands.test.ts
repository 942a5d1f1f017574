import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { answerReaderCommand, isReaderCommand } from '../../src/emulator/vpcd/index.js';

/** PC/SC part 3 §3.2.2.1.3, Get Data (FF CA), as the reader answers it for a DESFire EV3. */
const view = { uid: fromHex('04a1b2c3d4e5f6'), atr: fromHex('3b8180018080') };

describe('PC/SC part 3 Get Data (FF CA), answered by the reader', () => {
  it.each([
    ['UID, Le 00 (whole UID)', 'ffca000000', '04a1b2c3d4e5f6 9000'],
    ['UID, Le = UID length', 'ffca000007', '04a1b2c3d4e5f6 9000'],
    ['UID, Le longer: data and end-of-data warning', 'ffca00000a', '04a1b2c3d4e5f6 6282'],
    ['UID, Le shorter: 6C with the exact length', 'ffca000004', '6c07'],
    ['UID, extended Le 0000', 'ffca0000000000', '04a1b2c3d4e5f6 9000'],
    ['UID, extended Le 0007', 'ffca0000000007', '04a1b2c3d4e5f6 9000'],
    ['historical bytes of the ATS, Le 00', 'ffca010000', '80 9000'],
    ['historical bytes, Le 1', 'ffca010001', '80 9000'],
    ['historical bytes, Le longer', 'ffca010002', '80 6282'],
    ['P1 not defined', 'ffca020000', '6a81'],
    ['P2 not 00', 'ffca000100', '6a81'],
    ['vendor P1 (SpringCard F1 = PIX)', 'ffcaf10000', '6a81'],
    ['no Le (case 1)', 'ffca0000', '6700'],
    ['command data (case 4)', 'ffca00000100', '6700'],
    ['too short', 'ffca00', '6700'],
    ['other reader instruction (Load Keys)', 'ff82000006ffffffffffff', '6d00'],
  ])('%s: %s', (_name, apdu, answer) => {
    expect(toHex(answerReaderCommand(fromHex(apdu), view))).toBe(answer.replace(/ /g, ''));
  });

  it('tells reader commands (class FF) from card commands', () => {
    expect(isReaderCommand(fromHex('ffca000000'))).toBe(true);
    expect(isReaderCommand(fromHex('9060000000'))).toBe(false);
    expect(isReaderCommand(fromHex('00a4040007d276000085010100'))).toBe(false);
    expect(isReaderCommand(new Uint8Array(0))).toBe(false);
  });

  it('a 4-byte random ID is what Get Data returns for a card with random UID on', () => {
    expect(toHex(answerReaderCommand(fromHex('ffca000000'), { uid: fromHex('08123456'), atr: view.atr }))).toBe('081234569000');
    expect(toHex(answerReaderCommand(fromHex('ffca000007'), { uid: fromHex('08123456'), atr: view.atr }))).toBe('081234566282');
  });

  it('historical bytes of an unreadable ATR: the operation failed (63 00)', () => {
    expect(toHex(answerReaderCommand(fromHex('ffca010000'), { uid: view.uid, atr: fromHex('3b8f') }))).toBe('6300');
  });
});
