import type { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { AuthService } from '../../src/gen/desfirepacs/v1/auth_pb.js';
import { addService } from '../../src/server/grpc/add-service.js';
import { DEFAULT_RELAY_SETTINGS, relaySettings } from '../../src/server/relay/relay-settings.js';
import { authService } from '../../src/server/services/auth-service.js';
import { encodedCards } from './encoded-cards.js';
import { nsToMs, quantile } from './stats.js';
import { pino } from 'pino';
import { startLoopbackServer } from '../../src/server/grpc/loopback-server.js';
import { ReaderHosts, type DoorWindow } from './reader-hosts.js';
import { openBenchStores, type BenchStores } from './stores.js';
import { RelayServerTime } from './timed-relay.js';

const silentLogger = pino({ level: 'silent' });

/** Where the service's time goes, measured inside it. */
export interface ServiceSide {
  /** Relayed messages (start, APDU answers, timed exchanges) per authentication. */
  readonly messagesPerAuth: number;
  /** The service's own time per relayed message (see RelayServerTime). */
  readonly serverMeanMs: number;
  readonly serverP99Ms: number;
  /** Key-use audit rows the journal committed per authentication, and the time they took. */
  readonly auditRowsPerAuth: number;
  readonly auditMsPerAuth: number;
}

export interface DoorAuthRow extends DoorWindow {
  readonly toleranceMs: number;
  /** Absent when the service ran as a whole (startService), where its insides are not timed. */
  readonly inside?: ServiceSide;
}

export interface DoorAuthOptions {
  readonly streams: readonly number[];
  /** Measured time per row, after a warm-up of a fifth of it. */
  readonly windowMs: number;
  /** A larger proximity tolerance the highest stream count with denials is measured again with. */
  readonly fallbackToleranceMs: number;
}

export const DEFAULT_TOLERANCE_MS = Number(DEFAULT_RELAY_SETTINGS.proximityToleranceNs / 1_000_000n);

/**
 * Door authentications relayed over real gRPC on loopback: AuthService (the service's handler,
 * its journal in a file auditing every key use, as in the service) on a grpc-js server, and in
 * the same process one reader host per stream with its own virtual card encoded with
 * generic-pacs-v1. The proximity tolerance is the service's default; if it denies cards, the
 * highest stream count that saw denials is run again with `fallbackToleranceMs`, as a row of its own.
 */
export async function doorAuthBenchmarks(options: DoorAuthOptions): Promise<DoorAuthRow[]> {
  const stores = await openBenchStores('durable');
  const readers = await encodedCards(stores.profile, stores.keyStore, Math.max(...options.streams));
  const rows: DoorAuthRow[] = [];
  try {
    for (const streams of options.streams) rows.push(await measureDoors(stores, readers.slice(0, streams), DEFAULT_TOLERANCE_MS, options.windowMs));
    const denying = rows.filter((row) => row.denied.size > 0).map((row) => row.streams);
    if (denying.length > 0) rows.push(await measureDoors(stores, readers.slice(0, Math.max(...denying)), options.fallbackToleranceMs, options.windowMs));
  } finally {
    await stores.close();
  }
  return rows;
}

async function measureDoors(stores: BenchStores, readers: InProcessTransport[], toleranceMs: number, windowMs: number): Promise<DoorAuthRow> {
  const serverTime = new RelayServerTime();
  const relay = relaySettings({ proximityToleranceNs: BigInt(toleranceMs) * 1_000_000n });
  const impl = authService({ keyStore: stores.keyStore, profiles: stores.profiles, defaultProfile: stores.profile.name, relay, logger: silentLogger });
  const server = await startLoopbackServer((s, hooks) => addService(s, AuthService, { authenticate: serverTime.wrap(impl.authenticate) }, hooks));
  const hosts = new ReaderHosts(server.address, readers);
  try {
    let audit = { ...stores.audit };
    const window = await hosts.measure(windowMs, () => {
      serverTime.reset();
      audit = { ...stores.audit };
    });
    const gapsMs = serverTime.gapsNs.map(nsToMs);
    const perAuth = (n: number) => n / window.authentications;
    return {
      ...window,
      toleranceMs,
      inside: {
        messagesPerAuth: perAuth(gapsMs.length),
        serverMeanMs: gapsMs.reduce((a, b) => a + b, 0) / gapsMs.length,
        serverP99Ms: quantile(gapsMs, 0.99),
        auditRowsPerAuth: perAuth(stores.audit.rows - audit.rows),
        auditMsPerAuth: perAuth(nsToMs(stores.audit.ns - audit.ns)),
      },
    };
  } finally {
    hosts.close();
    await server.close();
  }
}
