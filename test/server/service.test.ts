import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { credentials, makeClientConstructor, status, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AuthService } from '../../src/gen/desfirepacs/v1/auth_pb.js';
import { BatchState, CardState, EncoderService } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { KeyService } from '../../src/gen/desfirepacs/v1/key_service_pb.js';
import { ProfileService } from '../../src/gen/desfirepacs/v1/profile_service_pb.js';
import type { CardPresence } from '../../src/desfire/transport.js';
import { factoryState } from '../../src/emulator/factory.js';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import type { WaitOptions } from '../../src/encoder/transports/wait.js';
import { defaultServiceConfig, type ServiceConfig } from '../../src/server/config/index.js';
import { serviceClient } from '../../src/server/grpc/client.js';
import { SERVICES, startService, type RunningService, type ServiceOptions, type StationReader } from '../../src/server/service.js';
import { captureLogs } from './support/capture-logs.js';
import { callFailure } from './support/grpc-error.js';

const BUF = resolve(import.meta.dirname, '../../node_modules/.bin/buf');
const run = promisify(execFile);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-service-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(overrides: Partial<ServiceConfig> = {}, dataDir?: string, options: ServiceOptions = {}): Promise<{ service: RunningService; logs: ReturnType<typeof captureLogs> }> {
  const config: ServiceConfig = { ...defaultServiceConfig(), listen: '127.0.0.1:0', dataDir: dataDir ?? (await tempDir()), stations: { emulated: 1, pcscReaders: [] }, ...overrides };
  const logs = captureLogs('info');
  const service = await startService(config, { logger: logs.logger, env: {}, ...options });
  cleanups.push(() => service.stop('test over'));
  return { service, logs };
}

/** A PC/SC reader stand-in: a blank card is put on it once (`place`), and stays until the station stops. */
class DeskReader implements StationReader {
  readonly #slot = new InProcessTransport();
  #present: (card: CardPresence) => void = () => undefined;
  readonly #placed = new Promise<CardPresence>((resolve) => (this.#present = resolve));
  closed = false;

  place(): void {
    this.#slot.place(new VirtualCard(factoryState()));
    this.#present(this.#slot.card!);
  }

  get card(): CardPresence | undefined {
    return this.#slot.card;
  }

  transceive(apdu: Uint8Array): Promise<Uint8Array> {
    return this.#slot.transceive(apdu);
  }

  waitForCard(options: WaitOptions = {}): Promise<CardPresence> {
    return Promise.race([this.#placed, aborted(options.signal)]);
  }

  waitForRemoval(options: WaitOptions = {}): Promise<void> {
    return aborted(options.signal);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Rejects with the signal's reason once it aborts. */
function aborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

type HealthClient = Client & {
  check(request: { service: string }, callback: (error: Error | null, answer?: { status: string }) => void): void;
  watch(request: { service: string }): ClientReadableStream<{ status: string }>;
};

function healthClient(address: string): HealthClient {
  const client = new (makeClientConstructor(healthDefinition, 'grpc.health.v1.Health'))(address, credentials.createInsecure()) as unknown as HealthClient;
  cleanups.push(() => client.close());
  return client;
}

const check = (client: HealthClient, service: string) =>
  new Promise<string>((resolvePromise, reject) => client.check({ service }, (error, answer) => (error ? reject(error) : resolvePromise(answer!.status))));

/** buf curl, a third-party client knowing nothing but what reflection tells it. */
async function bufCurl(address: string, args: string[]): Promise<string> {
  const { stdout } = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args.slice(0, -1), `http://${address}/${args[args.length - 1]}`.replace(/\/$/, '')]);
  return stdout;
}

describe('the assembled service', () => {
  it('serves every service on the bound port, with health SERVING for the server and each service', async () => {
    const { service, logs } = await start();
    expect(service.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(service.address).not.toBe('127.0.0.1:0');
    expect(logs.messages()).toContain(`listening on ${service.address}`);
    const health = healthClient(service.address);
    for (const name of ['', ...SERVICES.map((s) => s.typeName)]) expect(await check(health, name)).toBe('SERVING');

    const profiles = serviceClient(ProfileService, service.address);
    const keys = serviceClient(KeyService, service.address);
    cleanups.push(() => profiles.grpc.close(), () => keys.grpc.close());
    expect((await profiles.listProfiles({})).profiles.map((p) => p.name)).toEqual(['generic-pacs-v1']);
    expect((await keys.listKeySets({})).keySets.map((s) => s.name)).toEqual(['pacs']);
  });

  it('encodes a batch on its emulated station, seen through EncoderService', async () => {
    const { service } = await start();
    const encoder = serviceClient(EncoderService, service.address);
    cleanups.push(() => encoder.grpc.close());
    const validity = { validFrom: timestampFromDate(new Date('2026-01-01T00:00:00Z')), validTo: timestampFromDate(new Date('2036-01-01T00:00:00Z')) };
    const { batch } = await encoder.createBatch({ profile: 'generic-pacs-v1', keySet: 'pacs', cards: [{ cardNumber: 1001n, ...validity }, { cardNumber: 1002n, ...validity }] });
    let last = batch!;
    for await (const update of encoder.watchBatch({ batchId: batch!.id })) if (update.batch) last = update.batch;
    expect(last.state).toBe(BatchState.COMPLETED);
    expect(last.counts).toMatchObject({ encoded: 2, failed: 0, pending: 0 });
    const { cards } = await encoder.listCards({ batchId: batch!.id });
    expect(cards.map((c) => [c.cardNumber, c.state, c.keySet, c.keyVersion])).toEqual([
      [1001n, CardState.ENCODED, 'pacs', 1],
      [1002n, CardState.ENCODED, 'pacs', 1],
    ]);
    const { stations } = await encoder.listStations({});
    expect(stations.map((s) => [s.id, s.cardsEncoded])).toEqual([['emulated-1', 2n]]);
  });

  it('runs a station per configured PC/SC reader, and closes the readers when it stops', async () => {
    const readers = new Map<string, DeskReader>();
    const openReader = async (name: string) => {
      const reader = new DeskReader();
      readers.set(name, reader);
      return reader;
    };
    const { service } = await start({ stations: { emulated: 0, pcscReaders: ['Desk A'] } }, undefined, { openReader });
    const encoder = serviceClient(EncoderService, service.address);
    cleanups.push(() => encoder.grpc.close());
    const validity = { validFrom: timestampFromDate(new Date('2026-01-01T00:00:00Z')), validTo: timestampFromDate(new Date('2036-01-01T00:00:00Z')) };
    const { batch } = await encoder.createBatch({ profile: 'generic-pacs-v1', keySet: 'pacs', cards: [{ cardNumber: 7n, ...validity }] });
    readers.get('Desk A')!.place();
    for await (const update of encoder.watchBatch({ batchId: batch!.id })) if (update.batch?.state === BatchState.COMPLETED) break;
    const { stations } = await encoder.listStations({});
    expect(stations.map((s) => [s.id, s.cardsEncoded])).toEqual([['pcsc:Desk A', 1n]]);
    expect([...readers.keys()]).toEqual(['Desk A']);
    await service.stop();
    expect(readers.get('Desk A')!.closed).toBe(true);
  });

  it('fails to start when a configured reader cannot be opened, closing what it opened', async () => {
    const dataDir = await tempDir();
    const openReader = async (name: string): Promise<StationReader> => {
      throw new Error(`no reader matches "${name}"`);
    };
    const config = { ...defaultServiceConfig(), listen: '127.0.0.1:0', dataDir, stations: { emulated: 0, pcscReaders: ['Desk B'] } };
    await expect(startService(config, { logger: captureLogs('silent').logger, env: {}, openReader })).rejects.toThrow('no reader matches "Desk B"');
    const next = await start({}, dataDir);
    expect(next.service.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('answers a third-party client: buf curl, with the schema from server reflection', async () => {
    const { service } = await start();
    expect(JSON.parse(await bufCurl(service.address, ['grpc.health.v1.Health/Check']))).toEqual({ status: 'SERVING' });
    const listed = (await bufCurl(service.address, ['--list-services', ''])).trim().split('\n');
    expect(listed).toEqual(expect.arrayContaining([...SERVICES.map((s) => s.typeName), 'grpc.health.v1.Health']));
    const answer = JSON.parse(await bufCurl(service.address, ['desfirepacs.v1.ProfileService/ListProfiles'])) as { profiles: { name: string; picc: { masterKey: { keySet: string } } }[] };
    expect(answer.profiles.map((p) => [p.name, p.picc.masterKey.keySet])).toEqual([['generic-pacs-v1', 'pacs']]);
    const refused = await bufCurl(service.address, ['--data', '{"name": "Not A Name"}', 'desfirepacs.v1.ProfileService/GetProfile']).catch((e: { stderr: string }) => e.stderr);
    expect(refused).toMatch(/invalid_argument/);
  });

  it('stops gracefully: NOT_SERVING first, long streams ended with UNAVAILABLE, then the port is closed', async () => {
    const { service, logs } = await start({ shutdownGraceMs: 500, relay: { apduTimeoutMs: 60_000, streamTimeoutMs: 60_000, proximityToleranceMs: 20 } });
    const statuses: string[] = [];
    const watch = healthClient(service.address).watch({ service: '' });
    watch.on('data', (answer: { status: string }) => statuses.push(answer.status));
    const watchEnded = new Promise((r) => watch.on('error', r));
    await new Promise((r) => watch.once('data', r));

    // A door relay the service is driving: it sent its first APDU and waits for the answer.
    const auth = serviceClient(AuthService, service.address);
    cleanups.push(() => auth.grpc.close());
    const door = auth.authenticate();
    const ended = new Promise<{ code: number }>((r) => door.on('error', (e: { code: number }) => r(e)));
    door.write({ message: { case: 'start', value: { card: { uid: Uint8Array.of(4, 1, 2, 3, 4, 5, 6) } } } });
    await new Promise((r) => door.once('data', r));

    await service.stop('test');
    await watchEnded; // the server ended the watch: every status it sent has arrived
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    expect((await ended).code).toBe(status.UNAVAILABLE);
    expect(logs.messages()).toEqual(expect.arrayContaining(['shutting down: test', 'stopped']));
    const profiles = serviceClient(ProfileService, service.address);
    cleanups.push(() => profiles.grpc.close());
    expect(await callFailure(profiles.listProfiles({}, { deadline: Date.now() + 2000 }))).toMatchObject({ code: status.UNAVAILABLE });
    await service.stop('again'); // idempotent
  });

  it('opens the same data directory on a later start: the same key sets and profiles', async () => {
    const dataDir = await tempDir();
    const first = await start({}, dataDir);
    const keys = serviceClient(KeyService, first.service.address);
    const before = (await keys.listKeySets({})).keySets;
    keys.grpc.close();
    await first.service.stop();

    const second = await start({}, dataDir);
    const again = serviceClient(KeyService, second.service.address);
    cleanups.push(() => again.grpc.close());
    expect((await again.listKeySets({})).keySets).toEqual(before);
  });

  it('fails to start on a port in use, naming it, and leaves the data directory closed for the next start', async () => {
    const dataDir = await tempDir();
    const { service } = await start();
    const logs = captureLogs('silent');
    const config = { ...defaultServiceConfig(), listen: service.address, dataDir, stations: { emulated: 0, pcscReaders: [] } };
    await expect(startService(config, { logger: logs.logger, env: {} })).rejects.toThrow(`cannot listen on ${service.address}`);
    const next = await start({}, dataDir);
    expect(next.service.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
