import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { toHex } from '../../src/desfire/bytes.js';
import { importImage } from '../../src/emulator/image.js';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { EmulatorService } from '../../src/gen/desfirepacs/v1/emulator_pb.js';
import { BatchState, CardState, EncoderService } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { defaultServiceConfig } from '../../src/server/config/index.js';
import { serviceClient, type ServiceClient } from '../../src/server/grpc/client.js';
import { createLogger } from '../../src/server/logger.js';
import { startService } from '../../src/server/service.js';
import { benchBatch, type BatchRow } from './batch-throughput.js';
import type { DoorAuthRow } from './door-auth.js';
import { nsToMs, tally } from './stats.js';
import { ReaderHosts } from './reader-hosts.js';

export interface AssembledOptions {
  readonly cards: number;
  readonly stations: number;
  readonly streams: number;
  /** Measured time of the door row, after a warm-up of a fifth of it. */
  readonly windowMs: number;
  /** A batch still going after this long is cancelled and reported as such. */
  readonly capMs: number;
}

/** How often the batch's progress is read (GetBatch), as a client that waits for it would. */
const POLL_MS = 20;
/** The most a page of ListCards or ListVirtualCards holds: every card of the benchmark's batch. */
const MAX_PAGE = 1000;

/**
 * The whole service as `desfire-pacs serve` runs it (startService: a new data directory with its
 * key file, info-level JSON logs, here written to /dev/null), with its default relay settings:
 * a batch created over gRPC and encoded by its emulated stations, timed until GetBatch says it
 * completed; then some of the cards it encoded, copied out through EmulatorService.ExportImage,
 * presented by reader hosts in this process to AuthService. A check that the assembled figures
 * agree with the rows measured on the parts.
 */
export async function assembledServiceBenchmark(options: AssembledOptions): Promise<{ batch: BatchRow; doors: DoorAuthRow }> {
  const dir = mkdtempSync(join(tmpdir(), 'desfire-pacs-bench-'));
  const logger = createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: true }) });
  const config = { ...defaultServiceConfig(dir), listen: '127.0.0.1:0', dataDir: dir, stations: { emulated: options.stations, pcscReaders: [] } };
  const service = await startService(config, { logger, env: {} });
  const encoder = serviceClient(EncoderService, service.address);
  const emulator = serviceClient(EmulatorService, service.address);
  try {
    const batch = await timeBatch(encoder, config.defaultDoorProfile, options);
    // Cards the batch encoded (not one it failed), as the emulator holds them.
    const encoded = await encoder.listCards({ batchId: batch.id, state: CardState.ENCODED, pageSize: MAX_PAGE });
    const uids = new Set(encoded.cards.map((card) => toHex(card.uid)));
    const { cards } = await emulator.listVirtualCards({ pageSize: MAX_PAGE });
    const chosen = cards.filter((card) => uids.has(toHex(card.uid))).slice(0, options.streams);
    const readers = await Promise.all(
      chosen.map(async ({ id }) => {
        const { image } = await emulator.exportImage({ cardId: id });
        return new InProcessTransport(new VirtualCard(importImage(JSON.parse(Buffer.from(image).toString('utf8')))));
      }),
    );
    const hosts = new ReaderHosts(service.address, readers);
    try {
      return { batch: batch.row, doors: { ...(await hosts.measure(options.windowMs)), toleranceMs: config.relay.proximityToleranceMs } };
    } finally {
      hosts.close();
    }
  } finally {
    encoder.grpc.close();
    emulator.grpc.close();
    await service.stop('benchmark over');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timeBatch(encoder: ServiceClient<typeof EncoderService>, profile: string, options: AssembledOptions): Promise<{ id: string; row: BatchRow }> {
  const request = benchBatch(profile, options.cards);
  const start = process.hrtime.bigint();
  const cap = start + BigInt(options.capMs) * 1_000_000n;
  await encoder.createBatch(request);
  let batch = (await encoder.getBatch({ batchId: request.batchId })).batch!;
  while (batch.state !== BatchState.COMPLETED && process.hrtime.bigint() < cap) {
    await sleep(POLL_MS);
    batch = (await encoder.getBatch({ batchId: request.batchId })).batch!;
  }
  const seconds = nsToMs(process.hrtime.bigint() - start) / 1000;
  const completed = batch.state === BatchState.COMPLETED;
  if (!completed) batch = (await encoder.cancelBatch({ batchId: request.batchId })).batch!;
  const counts = batch.counts!;
  const unsuccessful = await Promise.all([CardState.FAILED, CardState.REFUSED].map((state) => encoder.listCards({ batchId: request.batchId, state, pageSize: MAX_PAGE })));
  const failures = tally(unsuccessful.flatMap((page) => page.cards.map((card) => card.detail || CardState[card.state])));
  return {
    id: request.batchId,
    row: { stations: options.stations, journal: 'service', cards: options.cards, counts, failures, completed, seconds, perSecond: counts.encoded / seconds },
  };
}
