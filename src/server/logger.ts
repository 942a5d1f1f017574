import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './config/service-config.js';

/**
 * Names of log fields that hold or may hold secrets or card traffic: keys, key-encryption keys,
 * passphrases, card images, APDUs. Code must not log them at all (ARCHITECTURE.md §6); this is
 * the net under that rule, redacted at the top level and two levels down.
 */
const SECRET_FIELDS = [
  'key',
  'keys',
  'cardKey',
  'masterKey',
  'master',
  'masters',
  'sessionKey',
  'kek',
  'passphrase',
  'password',
  'secret',
  'secrets',
  'image',
  'cardImage',
  'apdu',
  'apdus',
  'command',
  'response',
  'payload',
] as const;

export const REDACTED_PATHS: readonly string[] = Object.freeze(SECRET_FIELDS.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]));

export const REDACTED = '[redacted]';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where JSON lines go (tests capture them). Default: stdout, pretty-printed when it is a terminal. */
  readonly destination?: DestinationStream;
}

/** The service's logger: JSON lines (pino), one per event, with secret-looking fields redacted. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? (process.stdout.isTTY ? pretty({ colorize: true, sync: true }) : pino.destination({ dest: 1, sync: true }));
  return pino({ level: options.level, redact: { paths: [...REDACTED_PATHS], censor: REDACTED } }, destination);
}
