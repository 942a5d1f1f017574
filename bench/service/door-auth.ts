import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import type { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { AuthService, DenialReason } from '../../src/gen/desfirepacs/v1/auth_pb.js';
import { authenticateCard } from '../../src/relay/authenticate-card.js';
import { addService } from '../../src/server/grpc/add-service.js';
import { serviceClient, type ServiceClient } from '../../src/server/grpc/client.js';
import { serviceDefinition } from '../../src/server/grpc/service-definition.js';
import { DEFAULT_RELAY_SETTINGS, relaySettings } from '../../src/server/relay/relay-settings.js';
import { authService } from '../../src/server/services/auth-service.js';
import { encodedCards } from './encoded-cards.js';
import { nsToMs, quantile } from './latency.js';
import { silentLogger, startLoopbackServer, type LoopbackServer } from './loopback-server.js';
import { openBenchStores, type BenchStores } from './stores.js';
import { RelayServerTime } from './timed-relay.js';

export interface DoorAuthRow {
  readonly streams: number;
  readonly toleranceMs: number;
  readonly seconds: number;
  readonly granted: number;
  /** Denials by reason (the API's enum name). */
  readonly denied: ReadonlyMap<string, number>;
  /** Calls that ended with a gRPC error instead of a verdict, by status. */
  readonly failed: ReadonlyMap<string, number>;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time of the whole process (service, reader hosts, virtual cards) per authentication. */
  readonly cpuMsPerAuth: number;
  /** Key-use audit rows the journal committed per authentication, and the time they took. */
  readonly auditRowsPerAuth: number;
  readonly auditMsPerAuth: number;
  /** Relayed messages (start, APDU answers, timed exchanges) per authentication. */
  readonly messagesPerAuth: number;
  /** The service's own time per relayed message (see RelayServerTime). */
  readonly serverMeanMs: number;
  readonly serverP99Ms: number;
}

export interface DoorAuthOptions {
  readonly streams: readonly number[];
  /** Measured time per row, after a warm-up of a fifth of it. */
  readonly windowMs: number;
  /** A larger proximity tolerance the highest stream count with denials is measured again with. */
  readonly fallbackToleranceMs: number;
}

/**
 * Door authentications relayed over real gRPC on loopback: AuthService (the service's handler,
 * its journal auditing every key use, file-backed as in the service) on a grpc-js server, and in
 * the same process one reader host per stream, each with its own connection and its own virtual
 * card encoded with generic-pacs-v1, authenticating again and again (`authenticateCard`, the
 * relay's reader-host side). The proximity tolerance is the service's default; if it denies
 * cards, the highest stream count that saw denials is run again with `fallbackToleranceMs`, as a
 * row of its own.
 */
export async function doorAuthBenchmarks(options: DoorAuthOptions): Promise<DoorAuthRow[]> {
  const stores = await openBenchStores('durable');
  const readers = await encodedCards(stores.profile, stores.keyStore, Math.max(...options.streams));
  const rows: DoorAuthRow[] = [];
  try {
    const defaultMs = Number(DEFAULT_RELAY_SETTINGS.proximityToleranceNs / 1_000_000n);
    for (const streams of options.streams) rows.push(await measureDoors(stores, readers.slice(0, streams), defaultMs, options.windowMs));
    const denying = rows.filter((row) => count(row.denied) > 0).map((row) => row.streams);
    if (denying.length > 0) rows.push(await measureDoors(stores, readers.slice(0, Math.max(...denying)), options.fallbackToleranceMs, options.windowMs));
  } finally {
    await stores.close();
  }
  return rows;
}

const count = (tally: ReadonlyMap<string, number>): number => [...tally.values()].reduce((a, b) => a + b, 0);

async function measureDoors(stores: BenchStores, readers: InProcessTransport[], toleranceMs: number, windowMs: number): Promise<DoorAuthRow> {
  const serverTime = new RelayServerTime();
  const relay = relaySettings({ proximityToleranceNs: BigInt(toleranceMs) * 1_000_000n });
  const impl = authService({ keyStore: stores.keyStore, profiles: stores.profiles, defaultProfile: stores.profile.name, relay, logger: silentLogger });
  const server: LoopbackServer = await startLoopbackServer((s, hooks) => addService(s, AuthService, { authenticate: serverTime.wrap(impl.authenticate) }, hooks));
  const clients = readers.map(() => ownConnection(server.address));
  try {
    await runDoors(clients, readers, windowMs / 5);
    serverTime.reset();
    const audit = { ...stores.audit };
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const outcomes = await runDoors(clients, readers, windowMs);
    const seconds = nsToMs(process.hrtime.bigint() - start) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    const latencies = outcomes.map((o) => o.ms);
    const gapsMs = serverTime.gapsNs.map(nsToMs);
    return {
      streams: readers.length,
      toleranceMs,
      seconds,
      granted: outcomes.filter((o) => o.verdict === 'granted').length,
      denied: tally(outcomes.flatMap((o) => (o.verdict === 'denied' ? [o.reason] : []))),
      failed: tally(outcomes.flatMap((o) => (o.verdict === 'failed' ? [o.reason] : []))),
      perSecond: outcomes.length / seconds,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      cpuMsPerAuth: (user + system) / 1000 / outcomes.length,
      auditRowsPerAuth: (stores.audit.rows - audit.rows) / outcomes.length,
      auditMsPerAuth: nsToMs(stores.audit.ns - audit.ns) / outcomes.length,
      messagesPerAuth: gapsMs.length / outcomes.length,
      serverMeanMs: gapsMs.reduce((a, b) => a + b, 0) / gapsMs.length,
      serverP99Ms: quantile(gapsMs, 0.99),
    };
  } finally {
    for (const client of clients) client.grpc.close();
    server.close();
  }
}

/** A reader host's client with a connection of its own (grpc-js shares one per address otherwise). */
function ownConnection(address: string): ServiceClient<typeof AuthService> {
  const Client = makeGenericClientConstructor(serviceDefinition(AuthService), AuthService.typeName);
  return serviceClient(AuthService, address, new Client(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
}

interface Outcome {
  readonly verdict: 'granted' | 'denied' | 'failed';
  readonly reason: string;
  readonly ms: number;
}

/** Every reader host authenticates its card, one after the other, until `windowMs` has passed. */
async function runDoors(clients: ServiceClient<typeof AuthService>[], readers: InProcessTransport[], windowMs: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const deadline = process.hrtime.bigint() + BigInt(Math.round(windowMs * 1e6));
  await Promise.all(
    readers.map(async (reader, i) => {
      while (process.hrtime.bigint() < deadline) {
        const start = process.hrtime.bigint();
        const verdict = await authenticateCard(clients[i], reader, { doorId: `door-${i + 1}` }).then(
          (result) => (result.granted ? { verdict: 'granted' as const, reason: '' } : { verdict: 'denied' as const, reason: DenialReason[result.reason] }),
          (e: unknown) => ({ verdict: 'failed' as const, reason: (e as Partial<ServiceError>).details ?? String(e) }),
        );
        outcomes.push({ ...verdict, ms: nsToMs(process.hrtime.bigint() - start) });
      }
    }),
  );
  return outcomes;
}

function tally(values: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}
