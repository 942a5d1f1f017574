import { assertBytes, concat } from '../bytes.js';
import { DesfireError, lengthError } from '../errors.js';
import { Status } from '../status.js';

/**
 * PreparePC (0xF0), the first of the three proximity-check commands of MIFARE DESFire EV2/EV3
 * (NXP's "Virtual Card Architecture" proximity check, shared with MIFARE Plus EV1/EV2).
 *
 * Sources (read for facts, nothing copied):
 * - NXP NFC Reader Library (NxpNfcRdLib, v07.09.00) `comps/phalVca/src/phalVca_Int.c`,
 *   `phalVca_Int_PrepareProximityCheckNew`: the command is the code alone; a native answer is the
 *   status byte 0x90 then `Option || PubRespTime(2) || [PPS1]`, 3 or 4 data bytes; an ISO-wrapped
 *   answer ends with SW 91 90 (`PHAL_VCA_ISO7816_PC_SUCCESS` in `phalVca_Int.h`);
 * - same library, `phalVca_Int.h` doc of `pOption`: bit 0 = PPS1 present, bit 1 = ActBitRate present;
 *   doc of `pPubRespTime`: "time in microseconds"; `phalVca_Int_ProximityCheckNew` reads it most
 *   significant byte first (`PubRespTime[0] << 8 | PubRespTime[1]`);
 * - Proxmark3 PR #3238 (`hf mfdes pc`, 2026-04-14), log of a real DESFire card: PreparePC answered
 *   `01 03 20 00`, i.e. option 0x01 (PPS1 present), 0x0320 = 800 µs, PPS1 0x00.
 */

/** Command codes of the proximity check (Proxmark3 `include/protocols.h`, NxpNfcRdLib `phalVca_Int.h`). */
export const ProximityCommand = {
  PreparePC: 0xf0,
  ProximityCheck: 0xf2,
  VerifyPC: 0xfd,
} as const;

/**
 * The status of every successful proximity-check answer: 0x90 (native first byte; SW2 of 91 90 when
 * ISO-wrapped). NxpNfcRdLib `PHAL_VCA_RESP_ACK_ISO4`; Proxmark3 `MFDES_S_SIGNATURE`. It is also the
 * first byte of the card's VerifyPC MAC input.
 */
export const PC_SUCCESS = 0x90;

/** Option bit 0: a PPS1 byte follows the publicised response time. */
export const PC_OPTION_PPS1 = 0x01;
/** Option bit 1: ActBitRate bytes follow (after PPS1 when both are present). */
export const PC_OPTION_ACT_BIT_RATE = 0x02;
const KNOWN_OPTION_BITS = PC_OPTION_PPS1 | PC_OPTION_ACT_BIT_RATE;

/** What a card publicises in its PreparePC answer. */
export interface PreparePcAnswer {
  /** Option byte: which optional fields follow (bits 0 and 1; other bits are RFU). */
  readonly option: number;
  /** Publicised response time in microseconds (two bytes on the wire, most significant first). */
  readonly pubRespTimeUs: number;
  /** PPS1 (the data rates in use), present iff option bit 0 is set. */
  readonly pps1?: number;
  /** ActBitRate information, present iff option bit 1 is set; its layout is not publicly documented. */
  readonly actBitRate?: Uint8Array;
}

/** The card's answer data (after the 0x90 status): Option || PubRespTime (MSB first) || [PPS1] || [ActBitRate]. */
export function encodePreparePcAnswer(answer: PreparePcAnswer): Uint8Array {
  const { option, pubRespTimeUs, pps1, actBitRate } = answer;
  if (!Number.isInteger(option) || option < 0 || option > 0xff || (option & ~KNOWN_OPTION_BITS) !== 0) {
    throw new RangeError(`PreparePC option 0x${option.toString(16)} has unknown bits`);
  }
  if (!Number.isInteger(pubRespTimeUs) || pubRespTimeUs < 0 || pubRespTimeUs > 0xffff) {
    throw new RangeError(`publicised response time ${pubRespTimeUs} µs does not fit two bytes`);
  }
  const wantsPps1 = (option & PC_OPTION_PPS1) !== 0;
  const wantsRate = (option & PC_OPTION_ACT_BIT_RATE) !== 0;
  if (wantsPps1 !== (pps1 !== undefined)) throw new RangeError('PPS1 must be given exactly when option bit 0 is set');
  if (pps1 !== undefined && (!Number.isInteger(pps1) || pps1 < 0 || pps1 > 0xff)) throw new RangeError(`PPS1 ${pps1} is not a byte`);
  if (wantsRate !== (actBitRate !== undefined)) throw new RangeError('ActBitRate must be given exactly when option bit 1 is set');
  if (actBitRate !== undefined) {
    assertBytes(actBitRate, 'actBitRate');
    if (actBitRate.length === 0) throw new RangeError('ActBitRate must not be empty');
  }
  return concat(
    Uint8Array.of(option, pubRespTimeUs >> 8, pubRespTimeUs & 0xff),
    pps1 === undefined ? new Uint8Array(0) : Uint8Array.of(pps1),
    actBitRate ?? new Uint8Array(0),
  );
}

/**
 * Reader side: parses the card's PreparePC answer data (after the status). Lengths are checked
 * against the option byte, so no byte goes unaccounted for (every byte also enters the VerifyPC MAC).
 */
export function parsePreparePcAnswer(data: Uint8Array): PreparePcAnswer {
  assertBytes(data, 'PreparePC answer');
  if (data.length < 3) throw lengthError(`PreparePC answer of ${data.length} bytes, at least 3 expected`);
  const option = data[0];
  if ((option & ~KNOWN_OPTION_BITS) !== 0) {
    throw new DesfireError(Status.PARAMETER_ERROR, `PreparePC option 0x${option.toString(16).padStart(2, '0')} has RFU bits set`);
  }
  const pubRespTimeUs = (data[1] << 8) | data[2];
  let offset = 3;
  let pps1: number | undefined;
  if ((option & PC_OPTION_PPS1) !== 0) {
    if (data.length < 4) throw lengthError('PreparePC answer announces PPS1 but has no fourth byte');
    pps1 = data[offset++];
  }
  let actBitRate: Uint8Array | undefined;
  if ((option & PC_OPTION_ACT_BIT_RATE) !== 0) {
    if (data.length === offset) throw lengthError('PreparePC answer announces ActBitRate but carries none');
    actBitRate = data.slice(offset);
    offset = data.length;
  }
  if (offset !== data.length) throw lengthError(`PreparePC answer has ${data.length - offset} bytes its option byte does not announce`);
  return {
    option,
    pubRespTimeUs,
    ...(pps1 === undefined ? {} : { pps1 }),
    ...(actBitRate === undefined ? {} : { actBitRate }),
  };
}

/**
 * What a virtual card publicises by default: the answer of the real DESFire card in Proxmark3
 * PR #3238 (`01 03 20 00`): PPS1 present (0x00, 106 kbit/s both ways), 800 µs.
 */
export const DEFAULT_PREPARE_PC_ANSWER: PreparePcAnswer = Object.freeze({ option: PC_OPTION_PPS1, pubRespTimeUs: 0x0320, pps1: 0x00 });
