import { create } from '@bufbuild/protobuf';
import { timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { fromHex } from '../../desfire/bytes.js';
import { CardSchema, CardState, type Card } from '../../gen/desfirepacs/v1/encoder_pb.js';
import type { CardRecord, CardState as RecordState } from '../journal/records.js';

const STATES: Readonly<Record<RecordState, CardState>> = {
  pending: CardState.PENDING,
  encoding: CardState.ENCODING,
  encoded: CardState.ENCODED,
  failed: CardState.FAILED,
  refused: CardState.REFUSED,
};

/** A journal card record as the API's Card message (absent values as the proto's empty defaults). */
export function cardMessage(record: CardRecord): Card {
  return create(CardSchema, {
    id: BigInt(record.id),
    uid: record.uid === undefined ? new Uint8Array(0) : fromHex(record.uid),
    cardNumber: record.cardNumber,
    profile: record.profile,
    batchId: record.batchId ?? '',
    keySet: record.keySet ?? '',
    keyVersion: record.keyVersion ?? 0,
    state: STATES[record.state],
    detail: record.detail ?? '',
    createdAt: timestamp(record.createdAt),
    updatedAt: timestamp(record.updatedAt),
    ...(record.encodedAt === undefined ? {} : { encodedAt: timestamp(record.encodedAt) }),
  });
}

/** The journal's ISO 8601 times as Timestamps. */
function timestamp(iso: string): Timestamp {
  return timestampFromDate(new Date(iso));
}
