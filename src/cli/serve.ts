import { aborted, stopSignals } from './stop-signals.js';
import { parseArgs } from 'node:util';
import type { DestinationStream } from 'pino';
import { CONFIG_FILE_ENV, ConfigError, loadConfig, type Environment } from '../server/config/index.js';
import { createLogger } from '../server/logger.js';
import { startService } from '../server/service.js';

export interface ServeIo {
  /** A line of normal output (the help). */
  write(line: string): void;
  /** A line of error output (usage and config errors, found before logging starts). */
  error(line: string): void;
  /** Settings and the key file's secret are read from here (default `process.env`). */
  readonly env?: Environment;
  /** Resolves relative paths (default `process.cwd()`). */
  readonly cwd?: string;
  /** Stops the service when aborted, its reason logged; default: the first SIGINT or SIGTERM. */
  readonly stop?: AbortSignal;
  /** Where the log lines go (default stdout). */
  readonly logDestination?: DestinationStream;
}

export const SERVE_USAGE = `usage: desfire-pacs serve [options]

Runs the desfire-pacs gRPC service (auth, encoder, emulator, profile and key services, health,
reflection) until SIGTERM or Ctrl-C, then stops gracefully. Logs JSON lines on stdout, the
address it listens on among them. Every setting is described in docs/service.md.

options:
  --config <file>       a YAML or JSON config file (default: $${CONFIG_FILE_ENV}, else none)
  --listen <host:port>  where to listen (default 127.0.0.1:50051; port 0: any free port)
  --data-dir <dir>      the data directory (default ./desfire-pacs-data)
  -h, --help            this help

Settings come from, lowest first: the embedded defaults, the config file, DESFIRE_PACS_*
environment variables, these options. The key file is unlocked with DESFIRE_PACS_KEK or
DESFIRE_PACS_PASSPHRASE; without either, a development key-encryption key is kept in the
data directory (with a warning at every start). Plaintext gRPC is for loopback only: to listen
elsewhere set tls.cert_file and tls.key_file (and tls.client_ca_file for mTLS, with access.roles
giving each client certificate its roles), or allow_plaintext.
`;

/**
 * `desfire-pacs serve`: returns the exit code once the service has stopped: 0 after a stop
 * asked for, 2 on a usage or config error, 1 when the service cannot start (the log says why).
 */
export async function runServe(args: string[], io: ServeIo): Promise<number> {
  const env = io.env ?? process.env;
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { config: { type: 'string' }, listen: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    return usageError(io, error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    io.write(SERVE_USAGE.trimEnd());
    return 0;
  }
  const empty = (['config', 'listen', 'data-dir'] as const).find((name) => values[name] === '');
  if (empty !== undefined) return usageError(io, `--${empty} needs a value`);

  let config;
  try {
    config = await loadConfig({ env, cwd: io.cwd, configFile: values.config, flags: { listen: values.listen, 'data-dir': values['data-dir'] } });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.error(`desfire-pacs serve: ${error.message}`);
    return 2;
  }

  const logger = createLogger({ level: config.logLevel, destination: io.logDestination });
  // Listening before the start, so a signal during a slow start stops the service once it is up.
  const signals = io.stop === undefined ? stopSignals() : undefined;
  const stop = io.stop ?? signals!.signal;
  try {
    let service;
    try {
      service = await startService(config, { logger, env });
    } catch (error) {
      logger.fatal({ err: error }, `cannot start: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
    await aborted(stop);
    await service.stop(String(stop.reason));
    return 0;
  } finally {
    signals?.dispose();
  }
}

function usageError(io: ServeIo, message: string): number {
  io.error(`desfire-pacs serve: ${message}`);
  io.error(SERVE_USAGE.trimEnd());
  return 2;
}

