import { assertBytes, concat } from '../bytes.js';
import { DesfireError, lengthError } from '../errors.js';
import { Status } from '../status.js';

/**
 * ProximityCheck (0xF2) rounds: the reader sends its 8-byte challenge RndC in parts, each part
 * answered at once by as many bytes of the card's own random RndR; the reader times every round.
 *
 * Sources (read for facts, nothing copied):
 * - NxpNfcRdLib `phalVca_Int.c` `phalVca_Int_ProximityCheckNew`: command `F2 || len || pRndC(len)`;
 *   RndC of 8 bytes (`PHAL_VCA_PC_RND_LEN_NEW`; MIFARE Plus EV0 used 7, `PHAL_VCA_PC_RND_LEN`);
 *   1 to 8 steps, its own plan sending 1 byte per step and the rest in the last; the native answer
 *   is exactly `len` bytes of pRndR with no status byte (ISO-wrapped: pRndR || 91 90); the bytes
 *   kept for VerifyPC are, round after round, pRndR_i || pRndC_i ("RndRC", 16 bytes);
 * - Proxmark3 `client/src/cmdhfmfdes.c` `DesfirePCRun`: 1 to 8 rounds, RndC split evenly
 *   (8 / rounds per round, the rest in the last), the same RndR-then-RndC order; `desfirecore.c`
 *   `DESFIRESendRaw`: "In native mode of communication, DESFire cards don't seem to return a
 *   status byte for PROXIMITY_CHECK".
 * The card cannot know the reader's plan, so it accepts any part of 1..8 bytes while the parts
 * sent so far total at most 8 bytes.
 */

/** Length of RndC and of RndR. */
export const PC_RANDOM_LENGTH = 8;

/** Round counts that split RndC evenly. */
export type RoundCount = 1 | 2 | 4 | 8;

/** Part lengths for `rounds` even rounds: 8 → [1 × 8], 4 → [2, 2, 2, 2], 2 → [4, 4], 1 → [8]. */
export function evenParts(rounds: RoundCount): number[] {
  if (![1, 2, 4, 8].includes(rounds)) throw new RangeError(`${rounds} rounds do not split ${PC_RANDOM_LENGTH} bytes evenly`);
  return new Array<number>(rounds).fill(PC_RANDOM_LENGTH / rounds);
}

/** Throws unless `parts` are 1..8 positive lengths adding up to exactly 8. */
export function checkParts(parts: readonly number[]): void {
  if (parts.length < 1 || parts.length > PC_RANDOM_LENGTH) throw new RangeError(`${parts.length} rounds, 1 to 8 allowed`);
  let total = 0;
  for (const p of parts) {
    if (!Number.isInteger(p) || p < 1) throw new RangeError(`round of ${p} bytes`);
    total += p;
  }
  if (total !== PC_RANDOM_LENGTH) throw new RangeError(`rounds carry ${total} bytes, ${PC_RANDOM_LENGTH} expected`);
}

/** Command data of one round (after the code 0xF2): len || pRndC. */
export function encodeRoundCommand(part: Uint8Array): Uint8Array {
  assertBytes(part, 'pRndC');
  if (part.length < 1 || part.length > PC_RANDOM_LENGTH) throw new RangeError(`pRndC of ${part.length} bytes`);
  return concat(Uint8Array.of(part.length), part);
}

/**
 * Card side: the pRndC of one round's command data, checked against the length byte and against
 * what is left of the 8 bytes (`received` already taken in earlier rounds).
 * Judgement (no public source gives the card's statuses here): a length byte that disagrees with
 * the data is LENGTH_ERROR; a part beyond the 8 bytes is PARAMETER_ERROR.
 */
export function parseRoundCommand(data: Uint8Array, received: number): Uint8Array {
  assertBytes(data, 'ProximityCheck command data');
  if (data.length < 2) throw lengthError(`ProximityCheck of ${data.length} bytes carries no challenge`);
  const len = data[0];
  if (len === 0 || data.length !== 1 + len) {
    throw lengthError(`ProximityCheck length byte ${len} disagrees with ${data.length - 1} challenge bytes`);
  }
  if (received + len > PC_RANDOM_LENGTH) {
    throw new DesfireError(Status.PARAMETER_ERROR, `ProximityCheck part of ${len} bytes after ${received}: more than ${PC_RANDOM_LENGTH} in all`);
  }
  return data.slice(1);
}

/** RndRC: pRndR_1 || pRndC_1 || pRndR_2 || pRndC_2 ..., card part first in each round. */
export function joinRandoms(rounds: readonly { readonly rndR: Uint8Array; readonly rndC: Uint8Array }[]): Uint8Array {
  return concat(...rounds.flatMap((r) => [r.rndR, r.rndC]));
}
