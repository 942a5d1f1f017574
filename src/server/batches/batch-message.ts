import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { BatchSchema, BatchState, CardState, type Batch } from '../../gen/desfirepacs/v1/encoder_pb.js';
import type { BatchRecord, BatchState as RecordBatchState, CardState as RecordCardState } from '../journal/records.js';

const BATCH_STATES: Readonly<Record<RecordBatchState, BatchState>> = {
  created: BatchState.CREATED,
  running: BatchState.RUNNING,
  completed: BatchState.COMPLETED,
  cancelled: BatchState.CANCELLED,
};

/** A journal batch record as the API's Batch message, with its progress. */
export function batchMessage(record: BatchRecord): Batch {
  const { counts } = record;
  return create(BatchSchema, {
    id: record.id,
    profile: record.profile,
    keySet: record.keySet,
    state: BATCH_STATES[record.state],
    counts: { total: counts.total, pending: counts.pending, encoding: counts.encoding, encoded: counts.encoded, failed: counts.failed, refused: counts.refused },
    createdAt: timestampFromDate(new Date(record.createdAt)),
    updatedAt: timestampFromDate(new Date(record.updatedAt)),
    ...(record.finishedAt === undefined ? {} : { finishedAt: timestampFromDate(new Date(record.finishedAt)) }),
  });
}

/** The journal's batch state for an API filter value; undefined for UNSPECIFIED or a value the API does not define. */
export function batchStateOf(state: BatchState): RecordBatchState | undefined {
  return (Object.keys(BATCH_STATES) as RecordBatchState[]).find((s) => BATCH_STATES[s] === state);
}

const CARD_STATES: Readonly<Record<RecordCardState, CardState>> = {
  pending: CardState.PENDING,
  encoding: CardState.ENCODING,
  encoded: CardState.ENCODED,
  failed: CardState.FAILED,
  refused: CardState.REFUSED,
};

/** The journal's card state for an API filter value; undefined for UNSPECIFIED or a value the API does not define. */
export function cardStateOf(state: CardState): RecordCardState | undefined {
  return (Object.keys(CARD_STATES) as RecordCardState[]).find((s) => CARD_STATES[s] === state);
}
