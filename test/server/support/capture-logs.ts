import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { LogLevel } from '../../../src/server/config/service-config.js';
import { createLogger } from '../../../src/server/logger.js';

export interface CapturedLogs {
  /** The service's logger (redaction included), writing here. */
  readonly logger: Logger;
  /** Everything written, as text. */
  text(): string;
  /** Each line parsed. */
  lines(): Record<string, unknown>[];
  /** The messages of lines at `level` (pino's number: 30 info, 40 warn...) or above. */
  messages(minLevel?: number): string[];
}

/** A logger of the service's own kind whose JSON lines are kept in memory. */
export function captureLogs(level: LogLevel = 'trace'): CapturedLogs {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    logger: createLogger({ level, destination }),
    text,
    lines,
    messages: (minLevel = 0) => lines().filter((l) => (l.level as number) >= minLevel).map((l) => l.msg as string),
  };
}
