import { resolve } from 'node:path';
import type { Role } from '../access/roles.js';

/** pino's levels, most to least severe; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Timing of relayed card sessions (Authenticate, Encode). */
export interface RelayConfig {
  /** How long the service waits for the reader host's answer to one APDU. */
  readonly apduTimeoutMs: number;
  /** How long one relayed session (a door authentication, a card encoding) may take in all. */
  readonly streamTimeoutMs: number;
  /** Extra time allowed per proximity-check round beyond the card's own limit (reader and network jitter). */
  readonly proximityToleranceMs: number;
}

/** The encoding stations the service runs itself. */
export interface StationsConfig {
  /** Stations feeding virtual cards (the emulator) to batches. */
  readonly emulated: number;
  /** PC/SC readers on this machine, by name, each an encoding station. */
  readonly pcscReaders: readonly string[];
}

/** TLS on the gRPC port, read from the PEM files the settings name (checked at load). */
export interface TlsConfig {
  /** The server's certificate, then any intermediates. */
  readonly certChain: Buffer;
  /** The certificate's private key; named `key` so the log redaction catches it should it ever be logged. */
  readonly key: Buffer;
  /** CA certificates a client's certificate must chain to: set, clients must present one (mTLS). */
  readonly clientCa?: Buffer;
  /** Where they came from, for the start log. */
  readonly certFile: string;
  readonly clientCaFile?: string;
}

/** Which clients may call which RPCs (ARCHITECTURE.md §6; src/server/access). */
export interface AccessConfig {
  /** Client certificate subject CN → its roles; enforced with mTLS only. */
  readonly roles?: ReadonlyMap<string, readonly Role[]>;
  /** With mTLS and no roles: every client the CA signed may call everything, said explicitly. */
  readonly open: boolean;
}

/** Everything the service is configured with (docs/service.md lists each setting). */
export interface ServiceConfig {
  /** host:port to listen on (port 0: any free port). */
  readonly listen: string;
  /** Absolute path of the data directory (journal, key file, virtual cards). */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly stations: StationsConfig;
  /** The profile whose door policy applies when an Authenticate call names none. */
  readonly defaultDoorProfile: string;
  readonly relay: RelayConfig;
  /** How long a shutdown waits for calls in progress before cancelling them. */
  readonly shutdownGraceMs: number;
  /** Unset: plaintext, allowed on loopback only unless `allowPlaintext`. */
  readonly tls?: TlsConfig;
  /** Plaintext on a non-loopback address (a TLS-terminating proxy in front). */
  readonly allowPlaintext: boolean;
  readonly access: AccessConfig;
}

/** The embedded defaults: one process on loopback with a data directory in the working directory. */
export function defaultServiceConfig(cwd: string = process.cwd()): ServiceConfig {
  return {
    listen: '127.0.0.1:50051',
    dataDir: resolve(cwd, 'desfire-pacs-data'),
    logLevel: 'info',
    stations: { emulated: 1, pcscReaders: [] },
    defaultDoorProfile: 'generic-pacs-v1',
    relay: { apduTimeoutMs: 2000, streamTimeoutMs: 15_000, proximityToleranceMs: 20 },
    shutdownGraceMs: 10_000,
    allowPlaintext: false,
    access: { open: false },
  };
}
