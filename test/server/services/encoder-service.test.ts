import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { fromHex } from '../../../src/desfire/bytes.js';
import { BatchState, CardState, EncoderService, StationKind, type WatchBatchResponse } from '../../../src/gen/desfirepacs/v1/encoder_pb.js';
import { CardDataSchema } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { ApiError } from '../../../src/server/grpc/api-error.js';
import { serviceClient, type ServiceClient } from '../../../src/server/grpc/client.js';
import { addService } from '../../../src/server/grpc/add-service.js';
import { Journal } from '../../../src/server/journal/index.js';
import { encoderService } from '../../../src/server/services/encoder-service.js';
import { EmulatedStation } from '../../../src/server/stations/emulated-station.js';
import { StationRegistry } from '../../../src/server/stations/station-registry.js';
import { genericPacs, keyStoreFor, profileSource, runnerFor, silentLogger } from '../batches/support.js';
import { steppingClock } from '../journal/support.js';
import { callFailure, drain } from '../support/grpc-error.js';
import { startLoopbackServer } from '../../../src/server/grpc/loopback-server.js';

const PROFILE = 'generic-pacs-v1';
const at = (iso: string) => timestampFromDate(new Date(iso));
const cardData = (cardNumber: bigint, overrides: MessageInitShape<typeof CardDataSchema> = {}) =>
  create(CardDataSchema, { cardNumber, validFrom: at('2026-01-01T00:00:00Z'), validTo: at('2030-01-01T00:00:00Z'), ...overrides });
const cards = (from: number, count: number) => Array.from({ length: count }, (_, i) => cardData(BigInt(from + i)));

describe('EncoderService over gRPC', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp() {
    const journal = Journal.open({ path: ':memory:', now: steppingClock() });
    const store = VirtualCardStore.open({ path: ':memory:' });
    cleanups.push(() => journal.close(), () => store.close());
    const keyStore = keyStoreFor(journal);
    const runner = await runnerFor(journal, keyStore);
    const stations = new StationRegistry();
    stations.follow(runner.events);
    const service = encoderService({
      journal,
      runner,
      profiles: profileSource(await genericPacs()),
      keyStore,
      stations,
      encode: async () => {
        throw new ApiError(GrpcStatus.UNIMPLEMENTED, 'not in this test');
      },
    });
    const server = await startLoopbackServer((s, hooks) => addService(s, EncoderService, service, hooks));
    const client: ServiceClient<typeof EncoderService> = serviceClient(EncoderService, server.address);
    cleanups.push(() => server.close(), () => client.grpc.close());
    const station = (id: string) => {
      const s = new EmulatedStation({ id, runner, journal, cards: store, registry: stations, logger: silentLogger });
      cleanups.push(() => s.stop());
      return s;
    };
    return { journal, client, station };
  }

  it('creates a batch, watches it to the last card, and shows its cards, steps and stations', async () => {
    const { client, station } = await setUp();
    const { batch } = await client.createBatch({ profile: PROFILE, cards: cards(7000, 4), batchId: 'batch-1' });
    expect(batch).toMatchObject({ id: 'batch-1', profile: PROFILE, keySet: 'pacs', state: BatchState.CREATED, counts: { total: 4, pending: 4 } });
    expect(batch!.createdAt).toBeDefined();
    expect(batch!.finishedAt).toBeUndefined();
    expect((await client.getBatch({ batchId: 'batch-1' })).batch).toEqual(batch);

    // the station starts once the watch has its first message, so the watch sees every change
    const stream = client.watchBatch({ batchId: 'batch-1' });
    const messages: WatchBatchResponse[] = [];
    for await (const message of stream as AsyncIterable<WatchBatchResponse>) {
      if (messages.length === 0) station('emu-1').start();
      messages.push(message);
    }
    expect(messages[0].card).toBeUndefined();
    expect(messages[0].batch?.state).toBe(BatchState.CREATED);
    // one message per card change; the batch's completion may follow as a message of its own
    const changes = messages.slice(1).filter((m) => m.card !== undefined);
    expect(changes.map((m) => m.card?.state)).toEqual(Array.from({ length: 4 }, () => [CardState.ENCODING, CardState.ENCODED]).flat());
    expect(messages.length - 1 - changes.length).toBeLessThanOrEqual(1);
    const last = messages.at(-1)!.batch!;
    expect(last).toMatchObject({ state: BatchState.COMPLETED, counts: { total: 4, encoded: 4, pending: 0 } });
    expect(last.finishedAt).toBeDefined();

    const { stations } = await client.listStations({});
    expect(stations).toMatchObject([{ id: 'emu-1', kind: StationKind.EMULATED, cardsEncoded: 4n }]);

    const encoded = await client.listCards({ batchId: 'batch-1', state: CardState.ENCODED, pageSize: 3 });
    expect(encoded.cards.map((c) => c.cardNumber)).toEqual([7000n, 7001n, 7002n]);
    const rest = await client.listCards({ batchId: 'batch-1', state: CardState.ENCODED, pageSize: 3, pageToken: encoded.nextPageToken });
    expect(rest).toMatchObject({ cards: [{ cardNumber: 7003n }], nextPageToken: '' });
    const [one] = (await client.listCards({ cardNumber: 7002n })).cards;
    const byId = await client.getCard({ key: { case: 'cardId', value: one.id } });
    const byUid = await client.getCard({ key: { case: 'uid', value: one.uid } });
    expect(byUid).toEqual(byId);
    expect(byId.card).toMatchObject({ cardNumber: 7002n, state: CardState.ENCODED, keySet: 'pacs', keyVersion: 1, batchId: 'batch-1' });
    expect(byId.steps.map((s) => `${s.step}:${s.phase}`)).toEqual(
      ['inspect', 'picc-master-key', 'create-application', 'application-keys', 'create-files', 'write-content', 'application-key-settings', 'picc-key-settings', 'verify'].flatMap((s) => [`${s}:started`, `${s}:completed`]),
    );
    expect((await client.listCards({ uid: one.uid })).cards.map((c) => c.id)).toEqual([one.id]);

    expect(await callFailure(client.cancelBatch({ batchId: 'batch-1' }))).toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION });
    const listed = await client.listBatches({ state: BatchState.COMPLETED });
    expect(listed.batches.map((b) => b.id)).toEqual(['batch-1']);
  });

  it('cancels a batch: its watch gets the cancelled batch and ends; batches list newest first, in pages', async () => {
    const { client } = await setUp();
    const { batch: first } = await client.createBatch({ profile: PROFILE, cards: cards(1, 2) });
    expect(first!.id).toMatch(/^[0-9a-f-]{36}$/);
    await client.createBatch({ profile: PROFILE, keySet: 'site-b', cards: cards(3, 1), batchId: 'second' });
    const watch = (client.watchBatch({ batchId: first!.id }) as AsyncIterable<WatchBatchResponse>)[Symbol.asyncIterator]();
    const snapshot = await watch.next();
    expect(snapshot.value?.batch?.state).toBe(BatchState.CREATED);
    const { batch: cancelled } = await client.cancelBatch({ batchId: first!.id });
    expect(cancelled).toMatchObject({ state: BatchState.CANCELLED, counts: { pending: 2 } });
    expect(cancelled!.finishedAt).toBeDefined();
    const rest = await drain({ [Symbol.asyncIterator]: () => watch });
    expect(rest.map((m) => [m.batch?.state, m.card])).toEqual([[BatchState.CANCELLED, undefined]]);
    expect(await drain(client.watchBatch({ batchId: first!.id }) as AsyncIterable<WatchBatchResponse>)).toHaveLength(1);
    // cancelling again changes nothing
    expect((await client.cancelBatch({ batchId: first!.id })).batch?.state).toBe(BatchState.CANCELLED);

    const page = await client.listBatches({ pageSize: 1 });
    expect(page.batches.map((b) => [b.id, b.keySet])).toEqual([['second', 'site-b']]);
    const next = await client.listBatches({ pageSize: 1, pageToken: page.nextPageToken });
    expect(next).toMatchObject({ batches: [{ id: first!.id, state: BatchState.CANCELLED }], nextPageToken: '' });
  });

  it('refuses bad requests with INVALID_ARGUMENT naming the field, before storing anything', async () => {
    const { client, journal } = await setUp();
    await client.createBatch({ profile: PROFILE, cards: cards(1, 1), batchId: 'taken' });
    const ok = { profile: PROFILE, cards: cards(10, 3) };
    const table: [string, Promise<unknown>, string][] = [
      ['no profile', client.createBatch({ ...ok, profile: '' }), 'profile'],
      ['profile name', client.createBatch({ ...ok, profile: 'Generic PACS' }), 'profile'],
      ['key set name', client.createBatch({ ...ok, keySet: 'site b' }), 'key_set'],
      ['batch id', client.createBatch({ ...ok, batchId: 'a/b' }), 'batch_id'],
      ['no cards', client.createBatch({ ...ok, cards: [] }), 'cards'],
      ['card number 0', client.createBatch({ ...ok, cards: [cardData(1n), cardData(0n)] }), 'cards[1].card_number'],
      ['same number twice', client.createBatch({ ...ok, cards: [cardData(1n), cardData(2n), cardData(1n)] }), 'cards[2].card_number'],
      ['no valid_from', client.createBatch({ ...ok, cards: [cardData(1n, { validFrom: undefined })] }), 'cards[0].valid_from'],
      ['valid_to first', client.createBatch({ ...ok, cards: [cardData(1n, { validTo: at('2025-01-01T00:00:00Z') })] }), 'cards[0].valid_to'],
      ['extension too big', client.createBatch({ ...ok, cards: [cardData(1n, { extensions: [{ tag: 0x40, value: new Uint8Array(60) }] })] }), 'cards[0].extensions'],
      ['list: uid', client.listCards({ uid: new Uint8Array(3) }), 'uid'],
      ['list: state', client.listCards({ state: 99 as CardState }), 'state'],
      ['list: page size', client.listCards({ pageSize: 5000 }), 'page_size'],
      ['list: page token', client.listCards({ pageToken: 'not-a-token' }), 'page_token'],
      ['list batches: state', client.listBatches({ state: 42 as BatchState }), 'state'],
      ['get card: no key', client.getCard({}), 'key'],
      ['get card: uid', client.getCard({ key: { case: 'uid', value: new Uint8Array(5) } }), 'uid'],
      ['get batch: no id', client.getBatch({ batchId: '' }), 'batch_id'],
      ['cancel: bad id', client.cancelBatch({ batchId: 'a b' }), 'batch_id'],
    ];
    for (const [what, call, field] of table) {
      expect({ what, ...(await callFailure(call)) }).toMatchObject({ what, code: GrpcStatus.INVALID_ARGUMENT, field });
    }
    expect(journal.listBatches().batches.map((b) => b.id)).toEqual(['taken']);
  });

  it('answers NOT_FOUND for unknown profiles, key sets, batches and cards, and ALREADY_EXISTS for taken ids and numbers', async () => {
    const { client } = await setUp();
    await client.createBatch({ profile: PROFILE, cards: cards(1, 2), batchId: 'taken' });
    const table: [string, Promise<unknown>, GrpcStatus, string | undefined][] = [
      ['profile', client.createBatch({ profile: 'no-such-profile', cards: cards(5, 1) }), GrpcStatus.NOT_FOUND, 'profile'],
      ['key set', client.createBatch({ profile: PROFILE, keySet: 'nope', cards: cards(5, 1) }), GrpcStatus.NOT_FOUND, 'key_set'],
      ['get batch', client.getBatch({ batchId: 'nope' }), GrpcStatus.NOT_FOUND, 'batch_id'],
      ['cancel batch', client.cancelBatch({ batchId: 'nope' }), GrpcStatus.NOT_FOUND, 'batch_id'],
      ['card id', client.getCard({ key: { case: 'cardId', value: 999n } }), GrpcStatus.NOT_FOUND, 'card_id'],
      ['card uid', client.getCard({ key: { case: 'uid', value: fromHex('04AABBCCDDEEFF') } }), GrpcStatus.NOT_FOUND, 'uid'],
      ['batch id taken', client.createBatch({ profile: PROFILE, cards: cards(5, 1), batchId: 'taken' }), GrpcStatus.ALREADY_EXISTS, 'batch_id'],
      ['number taken', client.createBatch({ profile: PROFILE, cards: cards(2, 2) }), GrpcStatus.ALREADY_EXISTS, undefined],
    ];
    for (const [what, call, code, field] of table) {
      expect({ what, ...(await callFailure(call)) }).toMatchObject({ what, code, field });
    }
    expect(await callFailure(drain(client.watchBatch({ batchId: 'nope' }) as AsyncIterable<WatchBatchResponse>))).toMatchObject({ code: GrpcStatus.NOT_FOUND, field: 'batch_id' });
    expect((await client.listBatches({})).batches).toHaveLength(1);
  });
});
