/** How long the service waits on a relay's reader host, and how much it allows the proximity rounds. */
export interface RelaySettings {
  /** The longest the reader host may take to answer one APDU or timed exchange (and to send its start message). */
  readonly apduTimeoutMs: number;
  /** The longest a whole relay stream may last, from its opening to its result. */
  readonly streamTimeoutMs: number;
  /**
   * Time a proximity round may take beyond the card's publicised response time (ns). The reader
   * host times each round around its own transceive (driver and USB included, not the card's RF
   * frame timing), so this catches slow relays only.
   */
  readonly proximityToleranceNs: bigint;
}

export const DEFAULT_RELAY_SETTINGS: RelaySettings = Object.freeze({
  apduTimeoutMs: 2000,
  streamTimeoutMs: 15_000,
  proximityToleranceNs: 20_000_000n,
});

/** The defaults with `overrides`, checked (a RangeError names the setting). */
export function relaySettings(overrides: Partial<RelaySettings> = {}): RelaySettings {
  const settings = { ...DEFAULT_RELAY_SETTINGS, ...overrides };
  for (const key of ['apduTimeoutMs', 'streamTimeoutMs'] as const) {
    const value = settings[key];
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`relay ${key} must be a positive whole number of milliseconds, got ${value}`);
  }
  if (settings.proximityToleranceNs < 0n) throw new RangeError(`relay proximityToleranceNs must not be negative, got ${settings.proximityToleranceNs}`);
  return Object.freeze(settings);
}
