import { concat } from '../../desfire/bytes.js';
import { atrHistoricalBytes } from './atr.js';

/**
 * The commands a PC/SC contactless reader answers itself instead of passing them to the card
 * (PC/SC part 3, "pseudo-APDUs", class FF). Only Get Data (FF CA, §3.2.2.1.3) is implemented:
 *
 * | P1 P2 | data |
 * | --- | --- |
 * | 00 00 | the UID of anticollision (7 bytes for DESFire EV3, 4 with random ID) |
 * | 01 00 | the historical bytes of the ISO 14443-4 ATS (those of the PC/SC ATR) |
 *
 * Le 00 asks for the whole value. Status words, as PC/SC part 3 lists them:
 * 90 00 done; 62 82 end of data before Le bytes (Le longer than the value); 6C XX wrong Le, XX is
 * the value's length (Le shorter than the value); 63 00 failed; 6A 81 function not supported (any
 * other P1 P2). A Get Data that is not a case-2 APDU (no Le, or with command data) answers 67 00;
 * any other instruction of class FF answers 6D 00 (instruction not supported).
 */

export const READER_CLASS = 0xff;
const INS_GET_DATA = 0xca;

export const ReaderStatus = {
  OK: 0x9000,
  END_OF_DATA: 0x6282,
  FAILED: 0x6300,
  WRONG_LENGTH: 0x6700,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  WRONG_LE: 0x6c00,
  INS_NOT_SUPPORTED: 0x6d00,
} as const;

/** What the reader knows of the card in its field. */
export interface ReaderView {
  readonly uid: Uint8Array;
  readonly atr: Uint8Array;
}

/** True for class FF: the reader's own commands, never sent to the card. */
export function isReaderCommand(apdu: Uint8Array): boolean {
  return apdu.length >= 1 && apdu[0] === READER_CLASS;
}

/** Answers a class-FF command (see `isReaderCommand`) for the card the reader sees. */
export function answerReaderCommand(apdu: Uint8Array, view: ReaderView): Uint8Array {
  if (apdu.length < 4) return sw(ReaderStatus.WRONG_LENGTH);
  if (apdu[1] !== INS_GET_DATA) return sw(ReaderStatus.INS_NOT_SUPPORTED);
  return getData(apdu, view);
}

function getData(apdu: Uint8Array, view: ReaderView): Uint8Array {
  const le = expectedLength(apdu);
  if (le === undefined) return sw(ReaderStatus.WRONG_LENGTH);
  const p1p2 = (apdu[2] << 8) | apdu[3];
  let value: Uint8Array | undefined;
  if (p1p2 === 0x0000) value = view.uid;
  else if (p1p2 === 0x0100) value = atrHistoricalBytes(view.atr);
  else return sw(ReaderStatus.FUNCTION_NOT_SUPPORTED);
  if (value === undefined) return sw(ReaderStatus.FAILED);
  if (le === 'all' || le === value.length) return concat(value, sw(ReaderStatus.OK));
  if (le < value.length) return sw(ReaderStatus.WRONG_LE | value.length);
  return concat(value, sw(ReaderStatus.END_OF_DATA));
}

/**
 * Le of a case-2 APDU (ISO/IEC 7816-4 §5.1): short (`CLA INS P1 P2 Le`) or extended
 * (`CLA INS P1 P2 00 Le1 Le2`); 'all' when Le is zero (up to 256 or 65536 bytes). Undefined for
 * any other case.
 */
function expectedLength(apdu: Uint8Array): number | 'all' | undefined {
  if (apdu.length === 5) return apdu[4] === 0 ? 'all' : apdu[4];
  if (apdu.length === 7 && apdu[4] === 0) {
    const le = (apdu[5] << 8) | apdu[6];
    return le === 0 ? 'all' : le;
  }
  return undefined;
}

function sw(status: number): Uint8Array {
  return Uint8Array.of(status >> 8, status & 0xff);
}
