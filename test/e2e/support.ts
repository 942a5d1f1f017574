import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { pino } from 'pino';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { importImage } from '../../src/emulator/image.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { AuthService, type AuthenticationResult } from '../../src/gen/desfirepacs/v1/auth_pb.js';
import { EmulatorService } from '../../src/gen/desfirepacs/v1/emulator_pb.js';
import { EncoderService, type Batch, type Card, type WatchBatchResponse } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { toHex } from '../../src/desfire/bytes.js';
import { authenticateCard } from '../../src/relay/index.js';
import { defaultServiceConfig, type ServiceConfig } from '../../src/server/config/index.js';
import { serviceClient } from '../../src/server/grpc/client.js';
import { startService, type RunningService } from '../../src/server/service.js';

/**
 * End-to-end plumbing: the whole service (startService, or `desfire-pacs serve` in a child
 * process) reached only through gRPC on loopback, as vendors and operators reach it.
 */

export type Cleanup = () => unknown;

export async function tempDir(cleanups: Cleanup[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The service in this process on a free loopback port, logs silenced. */
export async function startInProcess(cleanups: Cleanup[], overrides: Partial<ServiceConfig> = {}): Promise<RunningService> {
  const config: ServiceConfig = { ...defaultServiceConfig(), listen: '127.0.0.1:0', dataDir: await tempDir(cleanups), logLevel: 'silent', ...overrides };
  const service = await startService(config, { logger: pino({ level: 'silent' }), env: {} });
  cleanups.push(() => service.stop('test over'));
  return service;
}

/** Typed clients of the services a test uses, closed at cleanup. */
export function clientsOf(address: string, cleanups: Cleanup[]) {
  const encoder = serviceClient(EncoderService, address);
  const auth = serviceClient(AuthService, address);
  const emulator = serviceClient(EmulatorService, address);
  cleanups.push(() => {
    encoder.grpc.close();
    auth.grpc.close();
    emulator.grpc.close();
  });
  return { encoder, auth, emulator };
}

export type ServiceClients = ReturnType<typeof clientsOf>;

const VALIDITY = { validFrom: timestampFromDate(new Date('2026-01-01T00:00:00Z')), validTo: timestampFromDate(new Date('2036-01-01T00:00:00Z')) };

/** Card numbers first..first+count-1, valid 2026..2036. */
export function numberedCards(first: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({ cardNumber: BigInt(first + i), ...VALIDITY }));
}

/** Every message of WatchBatch until the service ends the stream (batch completed or cancelled). */
export async function watchToEnd(clients: ServiceClients, batchId: string): Promise<WatchBatchResponse[]> {
  const seen: WatchBatchResponse[] = [];
  for await (const update of clients.encoder.watchBatch({ batchId })) seen.push(update);
  return seen;
}

/** Waits until the batch has at least `encoded` cards encoded (watching, no polling loop). */
export async function waitForEncoded(clients: ServiceClients, batchId: string, encoded: number): Promise<Batch> {
  const stream = clients.encoder.watchBatch({ batchId });
  try {
    for await (const update of stream) if (update.batch && update.batch.counts!.encoded >= encoded) return update.batch;
  } finally {
    stream.cancel();
  }
  throw new Error(`batch ${batchId} ended before ${encoded} cards were encoded`);
}

/** Every journal card of a batch, all pages. */
export async function allCards(clients: ServiceClients, batchId: string): Promise<Card[]> {
  const cards: Card[] = [];
  let pageToken = '';
  do {
    const page = await clients.encoder.listCards({ batchId, pageSize: 1000, pageToken });
    cards.push(...page.cards);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return cards;
}

/** The service's virtual cards as local cards (from their exported images), by UID hex. */
export async function localCopiesOfVirtualCards(clients: ServiceClients): Promise<Map<string, VirtualCard>> {
  const out = new Map<string, VirtualCard>();
  let pageToken = '';
  do {
    const page = await clients.emulator.listVirtualCards({ pageSize: 1000, pageToken });
    for (const card of page.cards) {
      const { image } = await clients.emulator.exportImage({ cardId: card.id });
      out.set(toHex(card.uid), new VirtualCard(importImage(JSON.parse(new TextDecoder().decode(image)))));
    }
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return out;
}

/** A door's reader host with `card` in its field asks the service for a verdict. */
export function doorVerdict(clients: ServiceClients, card: VirtualCard, doorId = 'e2e-door'): Promise<AuthenticationResult> {
  return authenticateCard(clients.auth, new InProcessTransport(card), { doorId });
}
