import { describe, expect, it } from 'vitest';
import { DEFAULT_RELAY_SETTINGS, relaySettings } from '../../../src/server/relay/relay-settings.js';

describe('relaySettings', () => {
  it('defaults to 2 s per APDU, 15 s per stream and 20 ms of proximity tolerance', () => {
    expect(relaySettings()).toEqual({ apduTimeoutMs: 2000, streamTimeoutMs: 15_000, proximityToleranceNs: 20_000_000n });
    expect(relaySettings({ apduTimeoutMs: 500 })).toEqual({ ...DEFAULT_RELAY_SETTINGS, apduTimeoutMs: 500 });
  });

  it.each([{ apduTimeoutMs: 0 }, { streamTimeoutMs: 1.5 }, { apduTimeoutMs: Number.NaN }, { proximityToleranceNs: -1n }])('refuses %o, naming the setting', (bad) => {
    expect(() => relaySettings(bad)).toThrow(new RegExp(Object.keys(bad)[0]));
  });
});
