/**
 * Timing of the ProximityCheck rounds, the part of the proximity check that detects relays.
 *
 * Rule (NxpNfcRdLib `comps/phalVca/src/phalVca_Int.c` `phalVca_Int_ProximityCheckNew`): after each
 * round the reader compares the time the card took with the PubRespTime (µs) of PreparePC and fails
 * when it is larger. The library's comment speaks of "pubRespTime + 10%", its code compares with
 * PubRespTime itself; an optional "lower bound" mode tightens the limit by 20 %. What it measures is
 * the frame delay time of the reader chip (`PHHAL_HW_TIMING_MODE_FDT`, end of command to start of
 * answer), which software above a PC/SC driver cannot see: a software timer around `transceive`
 * also counts transmission, driver and USB latency. So the limit here is PubRespTime plus a
 * tolerance the caller sets for its reader path (0 means the NXP rule as such).
 */

/** A monotonic clock in nanoseconds, e.g. `process.hrtime.bigint`; scripted in tests. */
export type NanoTimer = () => bigint;

export const systemTimer: NanoTimer = () => process.hrtime.bigint();

/** The longest a round may take: PubRespTime (µs) plus the caller's tolerance (ns). */
export function roundLimitNs(pubRespTimeUs: number, toleranceNs: bigint): bigint {
  if (toleranceNs < 0n) throw new RangeError('tolerance must not be negative');
  return BigInt(pubRespTimeUs) * 1000n + toleranceNs;
}

/** One timed round as the reader saw it. */
export interface RoundTiming {
  readonly round: number;
  readonly elapsedNs: bigint;
  readonly limitNs: bigint;
}

/**
 * A round took longer than the card publicised (plus tolerance): a relay is suspected. Not a
 * DesfireError, as no card status says this: it is the reader's verdict on timing, and the door
 * policy turns it into a refusal ("proximity check failed").
 */
export class ProximityTimingError extends Error {
  override readonly name = 'ProximityTimingError';
  readonly round: number;
  readonly elapsedNs: bigint;
  readonly limitNs: bigint;

  constructor(timing: RoundTiming) {
    super(`proximity check round ${timing.round + 1} took ${timing.elapsedNs} ns, limit ${timing.limitNs} ns: relay suspected`);
    this.round = timing.round;
    this.elapsedNs = timing.elapsedNs;
    this.limitNs = timing.limitNs;
  }
}
