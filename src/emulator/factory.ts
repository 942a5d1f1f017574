import { concat, fromHex } from '../desfire/bytes.js';
import { systemRandom, type RandomSource } from '../desfire/random.js';
import type { Capacity, PiccState } from './model.js';
import { OriginalityKeyPair } from './originality.js';

/** VC key numbers at PICC level (VCConfigurationKey .. VCSelectENCKey), AES, all zero from the factory. */
export const VC_KEY_NUMBERS = [0x20, 0x21, 0x22, 0x23] as const;

/** NXP's manufacturer code, the first UID byte of every NXP card. */
const NXP_MANUFACTURER = 0x04;

export interface NewCardOptions {
  /** A 7-byte UID; by default 04 followed by six random bytes. */
  readonly uid?: Uint8Array;
  readonly capacity?: Capacity;
  readonly randomUid?: boolean;
  readonly random?: RandomSource;
}

/**
 * A card as it leaves the factory: PICC master key DES all zero, version 0, key settings 0x0F
 * (everything allowed), no applications, random UID off unless asked for.
 */
export function factoryState(options: NewCardOptions = {}): PiccState {
  const random = options.random ?? systemRandom;
  const uid = options.uid ?? concat(Uint8Array.of(NXP_MANUFACTURER), random(6));
  if (uid.length !== 7) throw new RangeError(`a DESFire EV3 UID is 7 bytes, got ${uid.length}`);
  return {
    uid: uid.slice(),
    capacity: options.capacity ?? '8k',
    masterKeyType: 'des',
    masterKey: { key: new Uint8Array(8), version: 0 },
    keySettings: 0x0f,
    formatDisabled: false,
    randomUid: options.randomUid ?? false,
    defaultKey: { key: new Uint8Array(24), version: 0 },
    applications: new Map(),
    production: { batch: random(5), week: 0x47, year: 0x26 },
    originalityKey: fromHex(OriginalityKeyPair.generate(random).privateKeyHex()),
    vcKeys: new Map(VC_KEY_NUMBERS.map((n) => [n, { key: new Uint8Array(16), version: 0 }])),
  };
}
