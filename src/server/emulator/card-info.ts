import { fromHex, toHex } from '../../desfire/bytes.js';
import { exportImage } from '../../emulator/image.js';
import { CAPACITY_BYTES, type PiccState } from '../../emulator/model.js';

/** What goes wrong with a card on purpose. */
export interface CardFaults {
  /** Lose power at this persistent write, counted from now (1 = the next one); 0: never. */
  readonly tearAtWrite: number;
  /** Answer every APDU this many milliseconds late (a relay between reader and card); 0..10000. */
  readonly delayMs: number;
}

export const NO_FAULTS: CardFaults = Object.freeze({ tearAtWrite: 0, delayMs: 0 });

/** A stored virtual card, as listings show it. */
export interface VirtualCardInfo {
  readonly id: string;
  /** The card's fixed 7-byte UID (not the random ID it shows with random UID on). */
  readonly uid: Uint8Array;
  readonly capacityBytes: number;
  readonly randomUid: boolean;
  /** AIDs of the applications on the card, ascending. */
  readonly applicationIds: readonly number[];
  readonly faults: CardFaults;
  /** ISO 8601. */
  readonly createdAt: string;
  /** The emulated station that fed the card, if any. */
  readonly stationId: string | undefined;
}

/** A row of `virtual_cards`. */
export interface CardRow {
  readonly id: string;
  readonly uid: string;
  readonly capacity_bytes: number;
  readonly random_uid: number;
  readonly application_ids: string;
  readonly tear_at_write: number;
  readonly delay_ms: number;
  readonly station_id: string | null;
  readonly created_at: string;
  readonly image: string;
}

/** The columns that follow the card's persistent state, written together on every change. */
export interface StateColumns {
  readonly capacity_bytes: number;
  readonly random_uid: number;
  readonly application_ids: string;
  readonly image: string;
}

export function stateColumns(picc: PiccState): StateColumns {
  return {
    capacity_bytes: CAPACITY_BYTES[picc.capacity],
    random_uid: picc.randomUid ? 1 : 0,
    application_ids: JSON.stringify([...picc.applications.keys()].sort((a, b) => a - b)),
    image: JSON.stringify(exportImage(picc)),
  };
}

export const uidColumn = (uid: Uint8Array): string => toHex(uid);

export function toInfo(row: Omit<CardRow, 'image'>): VirtualCardInfo {
  return {
    id: row.id,
    uid: fromHex(row.uid),
    capacityBytes: row.capacity_bytes,
    randomUid: row.random_uid === 1,
    applicationIds: JSON.parse(row.application_ids) as number[],
    faults: { tearAtWrite: row.tear_at_write, delayMs: row.delay_ms },
    createdAt: row.created_at,
    stationId: row.station_id ?? undefined,
  };
}
