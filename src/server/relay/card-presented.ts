import type { CardPresence } from '../../desfire/transport.js';
import type { CardPresented } from '../../gen/desfirepacs/v1/relay_pb.js';
import { limitText, requireByteRange, requireBytes, requirePresent } from '../grpc/validate.js';

/** The UID lengths of ISO 14443-3 (single, double, triple size). */
const UID_LENGTHS = [4, 7, 10] as const;
const MAX_ATR = 64;
const MAX_READER_ID = 128;

/** The card a start message presents, checked. */
export interface PresentedCard {
  readonly presence: CardPresence;
  /** Which reader, for logs and the audit trail (may be empty). */
  readonly readerId: string;
}

/** Checks a start message's CardPresented at `field` (e.g. `start.card`); INVALID_ARGUMENT names the field at fault. */
export function presentedCard(card: CardPresented | undefined, field: string): PresentedCard {
  const { uid, atr, ats, readerId } = requirePresent(card, field);
  requireBytes(uid, `${field}.uid`, UID_LENGTHS);
  requireByteRange(atr, `${field}.atr`, 0, MAX_ATR);
  requireByteRange(ats, `${field}.ats`, 0, MAX_ATR);
  limitText(readerId, `${field}.reader_id`, MAX_READER_ID);
  return { presence: { uid, ...(atr.length > 0 ? { atr } : {}) }, readerId };
}
