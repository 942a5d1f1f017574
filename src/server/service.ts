import type { DescService } from '@bufbuild/protobuf';
import { Server } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ScryptParams } from '../encoder/keys/index.js';
import { PcscTransport } from '../encoder/transports/index.js';
import { AuthService } from '../gen/desfirepacs/v1/auth_pb.js';
import { EmulatorService } from '../gen/desfirepacs/v1/emulator_pb.js';
import { EncoderService } from '../gen/desfirepacs/v1/encoder_pb.js';
import { KeyService } from '../gen/desfirepacs/v1/key_service_pb.js';
import { ProfileService } from '../gen/desfirepacs/v1/profile_service_pb.js';
import { accessMode, accessRefusal, authorizer } from './access/access-policy.js';
import { BatchRunner } from './batches/batch-runner.js';
import { Closers } from './closers.js';
import type { Environment } from './config/load-config.js';
import type { ServiceConfig } from './config/service-config.js';
import { openDataDir } from './data-dir.js';
import { VirtualCardStore } from './emulator/virtual-card-store.js';
import { ActiveCalls } from './grpc/active-calls.js';
import { addService } from './grpc/add-service.js';
import { bindServer } from './grpc/bind.js';
import { ServiceHealth } from './health.js';
import { createLogger } from './logger.js';
import { reflectionService } from './reflection.js';
import { relaySettings } from './relay/relay-settings.js';
import { authService } from './services/auth-service.js';
import { emulatorService } from './services/emulator-service.js';
import { encodeStream } from './services/encode-stream.js';
import { encoderService } from './services/encoder-service.js';
import { keyService } from './services/key-service.js';
import { profileService } from './services/profile-service.js';
import { shutdownServer } from './shutdown.js';
import { isLoopbackListen, plaintextRefusal, serverCredentials, transportSecurity } from './tls.js';
import { EmulatedStation } from './stations/emulated-station.js';
import { PcscStation, type CardReader } from './stations/pcsc-station.js';
import type { Station } from './stations/station.js';
import { StationRegistry } from './stations/station-registry.js';

/** The services the server offers (besides health and reflection). */
export const SERVICES: readonly DescService[] = Object.freeze([AuthService, EncoderService, EmulatorService, ProfileService, KeyService]);

/**
 * The verification step at an encoding station runs the door flow, proximity check included, to
 * prove the card completes it with the right MACs. Relay timing is the doors' concern: a busy
 * station (or a remote agent's host) must not fail good cards over a slow round.
 */
export const ENCODING_PROXIMITY_TOLERANCE_NS = 500_000_000n;

/** A PC/SC reader a station encodes with, closed when the service stops. */
export type StationReader = CardReader & { close(): Promise<void> };

export interface ServiceOptions {
  /** Default: JSON lines on stdout at the config's level. */
  readonly logger?: Logger;
  /** Where the key file's secret is looked for (default `process.env`). */
  readonly env?: Environment;
  /** scrypt cost of a new key file locked with a passphrase (tests lower it). */
  readonly scrypt?: ScryptParams;
  /** Opens a configured PC/SC reader by name (default `PcscTransport.open`). */
  readonly openReader?: (name: string) => Promise<StationReader>;
}

export interface RunningService {
  /** host:port the server is bound to (the port the system chose when the config says 0). */
  readonly address: string;
  /**
   * Stops gracefully: health says NOT_SERVING, stations finish the card in hand, long streams
   * are ended with UNAVAILABLE, calls in progress get the grace period, then the stores close.
   * Idempotent.
   */
  stop(reason?: string): Promise<void>;
}

/**
 * Starts the desfire-pacs service on `config`: opens the data directory (journal, key store,
 * profiles) and the virtual cards, registers every service on one gRPC server with one set of
 * active calls, adds grpc.health.v1 and server reflection, binds, starts the stations, and only
 * then reports SERVING. A start that fails closes whatever it had opened. Without TLS it refuses,
 * before opening anything, to listen beyond loopback unless `allowPlaintext` (tls.ts), and to
 * take client certificates without roles for them unless `access.open` (access/access-policy.ts).
 */
export async function startService(config: ServiceConfig, options: ServiceOptions = {}): Promise<RunningService> {
  const refusal = plaintextRefusal(config);
  if (refusal !== undefined) throw new Error(`cannot listen on ${config.listen}: ${refusal}`);
  const accessRefused = accessRefusal(config);
  if (accessRefused !== undefined) throw new Error(`cannot start: ${accessRefused.setting}: ${accessRefused.message}`);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const opened = new Closers();
  try {
    const data = await openDataDir({ path: config.dataDir, logger, env: options.env, scrypt: options.scrypt });
    opened.add(() => data.close());
    const virtualCards = VirtualCardStore.open({ path: data.virtualCardsPath, logger });
    opened.add(() => virtualCards.close());

    const relay = relaySettings({
      apduTimeoutMs: config.relay.apduTimeoutMs,
      streamTimeoutMs: config.relay.streamTimeoutMs,
      proximityToleranceNs: BigInt(config.relay.proximityToleranceMs) * 1_000_000n,
    });
    const runner = new BatchRunner({ journal: data.journal, profiles: data.profiles, keyStore: data.keys, logger, door: { proximityToleranceNs: ENCODING_PROXIMITY_TOLERANCE_NS } });
    const registry = new StationRegistry();
    opened.add(registry.follow(runner.events));

    const server = new Server();
    const calls = new ActiveCalls();
    const hooks = { logger, calls, authorize: authorizer(config) };
    addService(server, AuthService, authService({ keyStore: data.keys, profiles: data.profiles, defaultProfile: config.defaultDoorProfile, relay, logger }), hooks);
    const encode = encodeStream({ encodeCard: (input) => runner.encodeCard(input), relay, logger, stationSeen: (id, activity) => registry.seen(id, 'remote', activity) });
    addService(server, EncoderService, encoderService({ journal: data.journal, runner, profiles: data.profiles, keyStore: data.keys, stations: registry, encode }), hooks);
    addService(server, EmulatorService, emulatorService(virtualCards), hooks);
    addService(server, ProfileService, profileService(data.profiles), hooks);
    addService(server, KeyService, keyService(data.keys), hooks);
    const health = new ServiceHealth(SERVICES.map((s) => s.typeName));
    health.addToServer(server);
    reflectionService(SERVICES).addToServer(server);
    const port = await bind(server, config, logger);
    opened.add(() => server.forceShutdown());
    const address = `${config.listen.slice(0, config.listen.lastIndexOf(':'))}:${port}`;

    const stations: Station[] = [];
    for (let n = 1; n <= config.stations.emulated; n++) {
      stations.push(new EmulatedStation({ id: `emulated-${n}`, runner, journal: data.journal, cards: virtualCards, registry, logger }));
    }
    for (const name of config.stations.pcscReaders) {
      const reader = await (options.openReader ?? PcscTransport.open)(name);
      opened.add(() => reader.close());
      stations.push(new PcscStation({ id: `pcsc:${name}`, reader, runner, registry, logger }));
    }
    for (const station of stations) station.start();
    opened.add(() => Promise.all(stations.map((s) => s.stop())));

    health.set('SERVING');
    logger.info({ address, transport: transportSecurity(config.tls), services: SERVICES.map((s) => s.typeName), stations: stations.map((s) => s.id) }, `listening on ${address}`);

    let stopping: Promise<void> | undefined;
    const stop = (reason = 'stop requested') =>
      (stopping ??= (async () => {
        logger.info({ reason }, `shutting down: ${reason}`);
        health.set('NOT_SERVING');
        await Promise.all(stations.map((s) => s.stop()));
        calls.abortAll(`the service is shutting down (${reason})`);
        const ended = await shutdownServer(server, config.shutdownGraceMs);
        if (ended === 'forced') logger.warn({ graceMs: config.shutdownGraceMs }, 'calls still open after the grace period were cancelled');
        await opened.closeAll();
        logger.info('stopped');
      })());
    return { address, stop };
  } catch (error) {
    await opened.closeAll();
    throw error;
  }
}

/** Binds the configured address with its credentials (plaintext, TLS or mTLS). */
function bind(server: Server, config: ServiceConfig, logger: Logger): Promise<number> {
  const address = config.listen;
  logTransport(config, logger);
  logAccess(config, logger);
  return bindServer(server, address, serverCredentials(config.tls));
}

/** Which protection the port has and from which files (never the key itself). */
function logTransport(config: ServiceConfig, logger: Logger): void {
  const { tls } = config;
  if (tls === undefined) {
    if (!isLoopbackListen(config.listen)) logger.warn({ transport: 'plaintext' }, 'TLS is off and plaintext is allowed: calls must reach the service only through a TLS-terminating proxy');
    else logger.info({ transport: 'plaintext' }, 'TLS is off: plaintext on loopback only (development)');
  } else if (tls.clientCa === undefined) {
    logger.info({ transport: 'TLS', certFile: tls.certFile }, 'TLS is on; clients are not asked for certificates (set tls.client_ca_file for mTLS)');
  } else {
    logger.info({ transport: 'mTLS', certFile: tls.certFile, clientCaFile: tls.clientCaFile }, 'mTLS is on: clients must present a certificate signed by the client CA');
  }
}

/** Which calls are let in: by role, or all (and why). */
function logAccess(config: ServiceConfig, logger: Logger): void {
  const mode = accessMode(config);
  if (mode === 'roles') logger.info({ access: mode, clients: config.access.roles?.size }, 'access by role: each call needs a client certificate whose CN access.roles gives a role for it');
  else if (mode === 'open-mtls') logger.warn({ access: mode }, 'access.open: every client certificate the client CA signed may call every method');
  else logger.info({ access: mode }, 'no client certificates: every call is let in');
}
