import { ENCODING_PROXIMITY_TOLERANCE_NS } from '../../src/server/service.js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { join } from 'node:path';
import { EncoderService } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { BatchEvents } from '../../src/server/batches/batch-events.js';
import { BatchRunner } from '../../src/server/batches/batch-runner.js';
import { VirtualCardStore } from '../../src/server/emulator/virtual-card-store.js';
import { addService } from '../../src/server/grpc/add-service.js';
import { ApiError } from '../../src/server/grpc/api-error.js';
import { serviceClient } from '../../src/server/grpc/client.js';
import type { CardCounts } from '../../src/server/journal/records.js';
import { encoderService } from '../../src/server/services/encoder-service.js';
import { EmulatedStation } from '../../src/server/stations/emulated-station.js';
import { StationRegistry } from '../../src/server/stations/station-registry.js';
import { nsToMs, tally } from './stats.js';
import { pino } from 'pino';
import { startLoopbackServer } from '../../src/server/grpc/loopback-server.js';
import { openBenchStores, type JournalKind } from './stores.js';

const silentLogger = pino({ level: 'silent' });

export interface BatchRow {
  readonly stations: number;
  /** The journal of the benchmark's own assembly, or the assembled service's (startService: a file). */
  readonly journal: JournalKind | 'service';
  readonly cards: number;
  /** The batch's cards by state when it completed, or when the time cap cancelled it. */
  readonly counts: CardCounts;
  /** Why cards failed or were refused (the journal's detail), with how many. */
  readonly failures: ReadonlyMap<string, number>;
  /** False when the time cap cancelled the batch before it completed. */
  readonly completed: boolean;
  readonly seconds: number;
  /** Cards encoded per second, from CreateBatch until the batch completed (or was cancelled). */
  readonly perSecond: number;
}

export interface BatchOptions {
  readonly cards: number;
  readonly stations: readonly number[];
  readonly journals: readonly JournalKind[];
  /** A run still going after this long is cancelled and reported as such. */
  readonly capMs: number;
}

/** The batch a benchmark creates (EncoderService.CreateBatch): cards numbered from 1, valid until 2099. */
export function benchBatch(profile: string, cards: number) {
  const day = (iso: string) => timestampFromDate(new Date(iso));
  return {
    profile,
    batchId: 'bench',
    cards: Array.from({ length: cards }, (_, i) => ({ cardNumber: BigInt(i + 1), validFrom: day('2020-01-01T00:00:00Z'), validTo: day('2099-01-01T00:00:00Z') })),
  };
}

/**
 * Batch throughput for every combination of station count and journal kind, one run each, after
 * an unreported run of a tenth of the cards (so that the first row does not pay for the JIT).
 */
export async function batchBenchmarks(options: BatchOptions): Promise<BatchRow[]> {
  await runBatch(Math.ceil(options.cards / 10), 1, 'memory', options.capMs);
  const rows: BatchRow[] = [];
  for (const stations of options.stations) {
    for (const journal of options.journals) rows.push(await runBatch(options.cards, stations, journal, options.capMs));
  }
  return rows;
}

/**
 * One batch of `cards` encoded by `stationCount` emulated stations, the service's own parts as
 * it assembles them: BatchRunner, EmulatedStation, the virtual card store in a file (WAL,
 * synchronous = NORMAL), and EncoderService on loopback gRPC, which the batch is created through.
 * The stations are started idle first; the clock runs from CreateBatch until the runner says the
 * batch is completed.
 */
async function runBatch(cards: number, stationCount: number, journalKind: JournalKind, capMs: number): Promise<BatchRow> {
  const stores = await openBenchStores(journalKind);
  const virtualCards = VirtualCardStore.open({ path: join(stores.dir, 'virtual-cards.db'), logger: silentLogger });
  const events = new BatchEvents();
  const registry = new StationRegistry();
  const unfollow = registry.follow(events);
  const { journal, keyStore, profiles } = stores;
  const runner = new BatchRunner({ journal, profiles, keyStore, logger: silentLogger, door: { proximityToleranceNs: ENCODING_PROXIMITY_TOLERANCE_NS }, events });
  const service = encoderService({
    journal,
    runner,
    profiles,
    keyStore,
    stations: registry,
    encode: () => Promise.reject(new ApiError(GrpcStatus.UNIMPLEMENTED, 'no remote stations in this benchmark')),
  });
  const server = await startLoopbackServer((s, hooks) => addService(s, EncoderService, service, hooks));
  const client = serviceClient(EncoderService, server.address);
  const stations = Array.from({ length: stationCount }, (_, i) => new EmulatedStation({ id: `emulated-${i + 1}`, runner, journal, cards: virtualCards, registry, logger: silentLogger }));
  try {
    for (const station of stations) station.start();
    let cap: NodeJS.Timeout | undefined;
    let unsubscribe = () => {};
    const request = benchBatch(stores.profile.name, cards);
    const finished = new Promise<boolean>((resolve) => {
      unsubscribe = events.subscribe((e) => e.kind === 'batch' && e.batch.id === request.batchId && e.batch.state === 'completed' && resolve(true));
      cap = setTimeout(() => resolve(false), capMs);
    });
    const start = process.hrtime.bigint();
    await client.createBatch(request);
    const completed = await finished;
    const seconds = nsToMs(process.hrtime.bigint() - start) / 1000;
    clearTimeout(cap);
    unsubscribe();
    if (!completed) await client.cancelBatch({ batchId: request.batchId });
    const { counts } = journal.getBatch(request.batchId);
    const unsuccessful = journal.listCards({ batchId: request.batchId, state: ['failed', 'refused'] }, { pageSize: 1000 }).cards;
    const failures = tally(unsuccessful.map((card) => card.detail ?? card.state));
    return { stations: stationCount, journal: journalKind, cards, counts, failures, completed, seconds, perSecond: counts.encoded / seconds };
  } finally {
    await Promise.all(stations.map((s) => s.stop()));
    client.grpc.close();
    await server.close();
    unfollow();
    virtualCards.close();
    await stores.close();
  }
}
