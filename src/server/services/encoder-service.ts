import { status as GrpcStatus } from '@grpc/grpc-js';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { KeyStore } from '../../encoder/keys/index.js';
import { BatchState, CardState, type EncoderService, type GetCardRequest } from '../../gen/desfirepacs/v1/encoder_pb.js';
import { batchStateOf, batchMessage, cardStateOf } from '../batches/batch-message.js';
import { batchInput } from '../batches/batch-request.js';
import type { BatchRunner, ProfileSource } from '../batches/batch-runner.js';
import { watchBatch } from '../batches/batch-watch.js';
import { ApiError, failedPrecondition, invalidArgument, notFound } from '../grpc/api-error.js';
import type { ServiceImpl } from '../grpc/service-impl.js';
import { optionalName, pageSize, requireBytes, requireEnum, requireName } from '../grpc/validate.js';
import { isJournalError, type BatchRecord, type CardRecord, type Journal } from '../journal/index.js';
import { stationMessage } from '../stations/station-message.js';
import type { StationRegistry } from '../stations/station-registry.js';
import { cardMessage } from './card-message.js';

export interface EncoderServiceDeps {
  readonly journal: Journal;
  readonly runner: BatchRunner;
  readonly profiles: ProfileSource;
  readonly keyStore: KeyStore;
  readonly stations: StationRegistry;
  /** The Encode handler (remote stations relaying a card), built by encodeStream. */
  readonly encode: ServiceImpl<typeof EncoderService>['encode'];
  /** How often WatchBatch reads the journal for changes made by other processes (default 1000 ms). */
  readonly watchPollMs?: number;
}

/** Batch ids as encoder.proto words them: 1..64 characters of [A-Za-z0-9._-]. */
const ID = /^[A-Za-z0-9._-]+$/;
const UID_LENGTHS = [4, 7, 10];

/**
 * EncoderService: batches of cards for the stations to encode, their progress, the journal's
 * cards with their steps, and the stations. Batch state lives in the journal only, so any
 * replica sharing it answers for any batch.
 */
export function encoderService(deps: EncoderServiceDeps): ServiceImpl<typeof EncoderService> {
  const { journal, runner } = deps;
  const batchOf = (id: string): BatchRecord => {
    try {
      return journal.getBatch(requireName(id, 'batch_id', 64, ID));
    } catch (e) {
      if (isJournalError(e, 'UNKNOWN_BATCH')) throw notFound(`no batch ${id}`, 'batch_id');
      throw e;
    }
  };
  return {
    encode: deps.encode,

    async createBatch(request) {
      const input = await batchInput(request, deps);
      if (input.id !== undefined && batchExists(journal, input.id)) {
        throw new ApiError(GrpcStatus.ALREADY_EXISTS, `batch ${input.id} already exists`, 'batch_id');
      }
      const batch = journal.createBatch(input);
      runner.events.publish({ kind: 'batch', batch });
      return { batch: batchMessage(batch) };
    },

    async getBatch(request) {
      return { batch: batchMessage(batchOf(request.batchId)) };
    },

    async listBatches(request) {
      const state = request.state === BatchState.UNSPECIFIED ? undefined : batchStateOf(requireEnum(request.state, 'state', BatchState));
      const page = withPageToken(() => journal.listBatches(state === undefined ? {} : { state }, { pageSize: pageSize(request.pageSize), pageToken: request.pageToken }));
      return { batches: page.batches.map(batchMessage), nextPageToken: page.nextPageToken };
    },

    async watchBatch(request, send, context) {
      const batch = batchOf(request.batchId);
      for await (const step of watchBatch(journal, runner.events, batch.id, { signal: context.signal, ...(deps.watchPollMs !== undefined ? { pollMs: deps.watchPollMs } : {}) })) {
        await send({ batch: batchMessage(step.batch), ...(step.card ? { card: cardMessage(step.card) } : {}) });
      }
    },

    async cancelBatch(request) {
      const batch = batchOf(request.batchId);
      if (batch.state === 'completed') throw failedPrecondition(`batch ${batch.id} is completed: there is nothing left to cancel`);
      const cancelled = journal.setBatchState(batch.id, 'cancelled');
      if (batch.state !== 'cancelled') runner.events.publish({ kind: 'batch', batch: cancelled });
      return { batch: batchMessage(cancelled) };
    },

    async getCard(request) {
      const card = cardOf(journal, request.key);
      return {
        card: cardMessage(card),
        steps: journal.steps(card.id).map((s) => ({ step: s.step, phase: s.phase, detail: s.detail ?? '', at: timestampFromDate(new Date(s.at)) })),
      };
    },

    async listCards(request) {
      const batchId = optionalName(request.batchId, 'batch_id', 64, ID);
      const state = request.state === CardState.UNSPECIFIED ? undefined : cardStateOf(requireEnum(request.state, 'state', CardState));
      const uid = request.uid.length === 0 ? undefined : requireBytes(request.uid, 'uid', UID_LENGTHS);
      const filter = {
        ...(batchId === undefined ? {} : { batchId }),
        ...(state === undefined ? {} : { state }),
        ...(uid === undefined ? {} : { uid }),
        ...(request.cardNumber === 0n ? {} : { cardNumber: request.cardNumber }),
      };
      const page = withPageToken(() => journal.listCards(filter, { pageSize: pageSize(request.pageSize), pageToken: request.pageToken }));
      return { cards: page.cards.map(cardMessage), nextPageToken: page.nextPageToken };
    },

    async listStations() {
      return { stations: deps.stations.list().map(stationMessage) };
    },
  };
}

function batchExists(journal: Journal, id: string): boolean {
  try {
    journal.getBatch(id);
    return true;
  } catch (e) {
    if (isJournalError(e, 'UNKNOWN_BATCH')) return false;
    throw e;
  }
}

/** The card a GetCard request names, by journal id or UID; NOT_FOUND naming the field. */
function cardOf(journal: Journal, key: GetCardRequest['key']): CardRecord {
  if (key.case === undefined) throw invalidArgument('key', 'give card_id or uid');
  const field = key.case === 'cardId' ? 'card_id' : 'uid';
  if (key.case === 'uid') requireBytes(key.value, 'uid', UID_LENGTHS);
  else if (key.value === 0n) throw invalidArgument('card_id', 'is required');
  try {
    if (key.case === 'uid') return journal.getCardByUid(key.value);
    if (key.value > BigInt(Number.MAX_SAFE_INTEGER)) throw notFound(`no card ${key.value}`, field);
    return journal.getCard(Number(key.value));
  } catch (e) {
    if (isJournalError(e, 'UNKNOWN_CARD')) throw notFound(e.message, field);
    throw e;
  }
}

/** A page token the journal refuses names the request's `page_token` field. */
function withPageToken<T>(list: () => T): T {
  try {
    return list();
  } catch (e) {
    if (isJournalError(e, 'INVALID_PAGE_TOKEN')) throw invalidArgument('page_token', e.message);
    throw e;
  }
}
