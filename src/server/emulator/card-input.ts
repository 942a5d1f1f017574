import { factoryState } from '../../emulator/factory.js';
import { ImageError, importImage } from '../../emulator/image.js';
import { CAPACITY_BYTES, type Capacity, type PiccState } from '../../emulator/model.js';
import type { CardFaults } from './card-info.js';
import { invalidArgument, VirtualCardStoreError } from './errors.js';

/**
 * Checks of what callers hand the store, each failing with a typed error that names the field
 * in the proto's spelling, before anything is stored or sent to a card.
 */

/** A DESFire EV3 UID: double size (ISO/IEC 14443-3). */
export const UID_LENGTH = 7;
/** The longest short ISO/IEC 7816-4 command APDU: CLA INS P1 P2 Lc, 255 data bytes, Le. */
export const MAX_APDU_LENGTH = 261;
export const MAX_DELAY_MS = 10_000;
const MAX_TEAR_AT_WRITE = 0xffffffff;
const MAX_STATION_ID_LENGTH = 64;

export interface CreateCardInput {
  /** 7 bytes; default: 04 followed by six random bytes. */
  readonly uid?: Uint8Array;
  /** A fresh random 4-byte ID at each power-up. */
  readonly randomUid?: boolean;
  /** 2048, 4096 or 8192 (the default). */
  readonly capacityBytes?: number;
  /** A parsed card image (`exportImage`); excludes uid, randomUid and capacityBytes. */
  readonly image?: unknown;
  /** The emulated station that feeds the card. */
  readonly stationId?: string;
}

/** The persistent state a new card starts with: from its image, or factory fresh. */
export function initialState(input: CreateCardInput): PiccState {
  if (input.image !== undefined) {
    if (input.uid !== undefined) throw invalidArgument('uid', 'must be empty when an image is given');
    if (input.randomUid === true) throw invalidArgument('random_uid', 'must be unset when an image is given');
    if (input.capacityBytes !== undefined) throw invalidArgument('capacity_bytes', 'must be unset when an image is given');
    return fromImage(input.image);
  }
  return factoryState({ uid: input.uid === undefined ? undefined : checkUid(input.uid), randomUid: input.randomUid ?? false, capacity: capacityOf(input.capacityBytes) });
}

function fromImage(image: unknown): PiccState {
  try {
    return importImage(image);
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    const field = e.path === '(root)' ? 'image' : `image.${e.path}`;
    throw new VirtualCardStoreError('INVALID_IMAGE', e.message, { field, cause: e });
  }
}

function capacityOf(bytes: number | undefined): Capacity {
  if (bytes === undefined) return '8k';
  const found = (Object.entries(CAPACITY_BYTES) as [Capacity, number][]).find(([, size]) => size === bytes);
  if (found === undefined) throw invalidArgument('capacity_bytes', `must be one of ${Object.values(CAPACITY_BYTES).join(', ')}, got ${bytes}`);
  return found[0];
}

export function checkStationId(stationId: string | undefined): string | undefined {
  if (stationId !== undefined && (stationId.length === 0 || stationId.length > MAX_STATION_ID_LENGTH)) {
    throw invalidArgument('station_id', `must be 1..${MAX_STATION_ID_LENGTH} characters`);
  }
  return stationId;
}

export function checkFaults(faults: CardFaults): CardFaults {
  const { tearAtWrite, delayMs } = faults;
  if (!Number.isInteger(tearAtWrite) || tearAtWrite < 0 || tearAtWrite > MAX_TEAR_AT_WRITE) {
    throw invalidArgument('faults.tear_at_write', `must be an integer in 0..${MAX_TEAR_AT_WRITE}, got ${tearAtWrite}`);
  }
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
    throw invalidArgument('faults.delay_ms', `must be an integer in 0..${MAX_DELAY_MS}, got ${delayMs}`);
  }
  return { tearAtWrite, delayMs };
}

export function checkApdu(apdu: Uint8Array): Uint8Array {
  if (!(apdu instanceof Uint8Array) || apdu.length < 1 || apdu.length > MAX_APDU_LENGTH) {
    throw invalidArgument('apdu', `must be 1..${MAX_APDU_LENGTH} bytes`);
  }
  return apdu;
}

export function checkUid(uid: Uint8Array): Uint8Array {
  if (!(uid instanceof Uint8Array) || uid.length !== UID_LENGTH) throw invalidArgument('uid', `must be ${UID_LENGTH} bytes`);
  return uid;
}
