import { encodeIsoAnswer, type IsoApdu } from '../../desfire/framing/index.js';
import type { CardContext } from '../handler.js';

/** ISO/IEC 7816-4 status word: instruction not supported. */
const SW_INS_NOT_SUPPORTED = 0x6d00;

/** The card's ISO/IEC 7816-4 layer (CLA 00). */
export function answerIso7816(_ctx: CardContext, _apdu: IsoApdu): Uint8Array {
  return encodeIsoAnswer(new Uint8Array(0), SW_INS_NOT_SUPPORTED);
}
