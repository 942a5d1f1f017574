import { lengthError } from '../../desfire/errors.js';

/** One of the two version blocks of GetVersion. */
export interface ComponentVersion {
  readonly vendor: number;
  readonly type: number;
  readonly subtype: number;
  readonly major: number;
  readonly minor: number;
  /** Storage size byte: 2^(n/2) bytes (0x1A = 8 KB); bit 0 set means "between that and the next power". */
  readonly storageSize: number;
  readonly protocol: number;
}

export interface CardVersion {
  readonly hardware: ComponentVersion;
  readonly software: ComponentVersion;
  readonly uid: Uint8Array;
  readonly batch: Uint8Array;
  readonly productionWeek: number;
  readonly productionYear: number;
}

const VERSION_LENGTH = 28;

function component(data: Uint8Array, offset: number): ComponentVersion {
  const [vendor, type, subtype, major, minor, storageSize, protocol] = data.subarray(offset, offset + 7);
  return { vendor, type, subtype, major, minor, storageSize, protocol };
}

/** Parses GetVersion's joined answer: 7 bytes hardware, 7 software, UID 7, batch 5, week, year. */
export function parseCardVersion(data: Uint8Array): CardVersion {
  if (data.length !== VERSION_LENGTH) throw lengthError(`GetVersion answered ${data.length} bytes, ${VERSION_LENGTH} expected`);
  return {
    hardware: component(data, 0),
    software: component(data, 7),
    uid: data.slice(14, 21),
    batch: data.slice(21, 26),
    productionWeek: data[26],
    productionYear: data[27],
  };
}

/** An NXP MIFARE DESFire EV3 by its hardware version (major 0x33; EV2 is 0x12, EV1 0x01). */
export function isDesfireEv3(version: CardVersion): boolean {
  return version.hardware.vendor === 0x04 && version.hardware.type === 0x01 && version.hardware.major === 0x33;
}
