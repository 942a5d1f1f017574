import { resolve } from 'node:path';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { toHex } from '../desfire/bytes.js';
import { isProfileError } from '../encoder/profile/index.js';
import { BatchStateSchema, CardStateSchema, EncoderService } from '../gen/desfirepacs/v1/encoder_pb.js';
import { serviceClient } from '../server/grpc/client.js';
import { MAX_PAGE_SIZE } from '../server/grpc/validate.js';
import { BATCH_USAGE, parseBatchArgs, type BatchCommand, type CardsSpec } from './batch/args.js';
import { UsageError } from './usage-error.js';
import { describeCallFailure, isServiceError } from './batch/call-failure.js';
import { cardsFromFile, numberedCards, type CardSource } from './batch/card-source.js';
import { allPages } from './batch/pages.js';
import { NO_COUNTS, tally } from './batch/progress.js';
import { stateName } from './batch/states.js';
import { formatTable } from './batch/table.js';
import { watchBatch, type EncoderClient } from './batch/watch.js';

/** `desfire-pacs batch`: operator commands for the batches of a running service, over gRPC. */

export { BATCH_USAGE, DEFAULT_SERVER, SERVER_ENV } from './batch/args.js';
export { WATCH_EXIT } from './batch/watch.js';

export interface BatchIo {
  /** A line of normal output (stdout). */
  write(line: string): void;
  /** A line of error output (stderr). */
  error(line: string): void;
  /** Output is a terminal: watch redraws one progress line in place. */
  readonly isTTY?: boolean;
  /** Writes text as is, without a newline, for that progress line (default: process.stdout). */
  readonly raw?: (text: string) => void;
  /** Where DESFIRE_PACS_SERVER is read from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Resolves the --cards and TLS files (default `process.cwd()`). */
  readonly cwd?: string;
  /** Stops watching when aborted (default: Ctrl-C, SIGINT, while watching). */
  readonly interrupt?: AbortSignal;
  /** Milliseconds of a monotonic clock, for speeds and ETAs (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * Runs `desfire-pacs batch ...` and returns the exit code: 0 done, 1 failed, 2 usage error or a
 * request the service calls invalid or about an unknown batch, and watch's own codes (WATCH_EXIT).
 * Every failure is one line on `io.error` (with the usage for usage errors).
 */
export async function runBatch(args: string[], io: BatchIo): Promise<number> {
  let options;
  try {
    options = parseBatchArgs(args, io.env ?? process.env, io.cwd);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.error(`desfire-pacs batch: ${error.message}`);
    io.error(BATCH_USAGE.trimEnd());
    return 2;
  }
  if (options === 'help') {
    io.write(BATCH_USAGE.trimEnd());
    return 0;
  }
  const { command, server, tls } = options;
  const client = serviceClient(EncoderService, server, { tls });
  let source: CardSource | undefined;
  try {
    switch (command.name) {
      case 'create': {
        source = await cardSource(command.cards, io.cwd ?? process.cwd());
        const { batch } = await client.createBatch({ profile: command.profile, keySet: command.keySet, batchId: command.batchId, cards: [...source.cards] });
        const id = batch?.id ?? command.batchId;
        io.write(id);
        return command.watch ? await watch(client, id, io) : 0;
      }
      case 'watch':
        return await watch(client, command.batchId, io);
      case 'list':
        return await list(client, command.state, io);
      case 'cancel':
        return await cancel(client, command.batchId, io);
      case 'cards':
        return await cards(client, command.batchId, command.state, io);
    }
  } catch (error) {
    return failed(error, command, server, source, io);
  } finally {
    client.grpc.close();
  }
}

async function cardSource(spec: CardsSpec, cwd: string): Promise<CardSource> {
  return spec.kind === 'numbered' ? numberedCards(spec.count, spec.first, spec.defaults) : cardsFromFile(resolve(cwd, spec.path), spec.defaults);
}

/** Watches with Ctrl-C bound to stopping the watch, unless the caller gives its own interrupt. */
async function watch(client: EncoderClient, batchId: string, io: BatchIo): Promise<number> {
  const ctrlC = new AbortController();
  const onSigint = () => ctrlC.abort();
  if (io.interrupt === undefined) process.once('SIGINT', onSigint);
  try {
    return await watchBatch(client, batchId, {
      write: (line) => io.write(line),
      ...(io.isTTY ? { redraw: io.raw ?? ((text) => void process.stdout.write(text)) } : {}),
      now: io.now ?? (() => performance.now()),
      interrupt: io.interrupt ?? ctrlC.signal,
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function list(client: EncoderClient, state: number, io: BatchIo): Promise<number> {
  const batches = await allPages((pageToken) => client.listBatches({ state, pageSize: MAX_PAGE_SIZE, pageToken }), (page) => page.batches);
  if (batches.length === 0) {
    io.write(state === 0 ? 'no batches' : `no ${stateName(BatchStateSchema, state)} batches`);
    return 0;
  }
  const rows = batches.map((b) => [b.id, b.profile, stateName(BatchStateSchema, b.state), `${b.counts?.encoded ?? 0}/${b.counts?.total ?? 0}`, time(b.createdAt)]);
  for (const line of formatTable(['ID', 'PROFILE', 'STATE', 'ENCODED', 'CREATED'], rows, [3])) io.write(line);
  return 0;
}

async function cancel(client: EncoderClient, batchId: string, io: BatchIo): Promise<number> {
  const { batch } = await client.cancelBatch({ batchId });
  io.write(`batch ${batchId} cancelled: ${tally(batch?.counts ?? NO_COUNTS)}; stations finish the cards they are on`);
  return 0;
}

async function cards(client: EncoderClient, batchId: string, state: number, io: BatchIo): Promise<number> {
  const all = await allPages((pageToken) => client.listCards({ batchId, state, pageSize: MAX_PAGE_SIZE, pageToken }), (page) => page.cards);
  if (all.length === 0) {
    io.write(state === 0 ? `no cards in batch ${batchId}` : `no ${stateName(CardStateSchema, state)} cards in batch ${batchId}`);
    return 0;
  }
  const rows = all.map((c) => [String(c.cardNumber), c.uid.length === 0 ? '-' : toHex(c.uid).toUpperCase(), stateName(CardStateSchema, c.state), c.detail]);
  for (const line of formatTable(['CARD NUMBER', 'UID', 'STATE', 'DETAIL'], rows, [0])) io.write(line);
  return 0;
}

/** `2026-11-25T14:03:11Z`; `-` when unknown. */
function time(ts: Timestamp | undefined): string {
  return ts === undefined ? '-' : timestampDate(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Known failures as one line (and, for a card the service refused, which card it is); anything else is a bug and propagates. */
function failed(error: unknown, command: BatchCommand, server: string, source: CardSource | undefined, io: BatchIo): number {
  const prefix = `desfire-pacs batch ${command.name}:`;
  if (isServiceError(error)) {
    const failure = describeCallFailure(error, server);
    io.error(`${prefix} ${failure.message}`);
    const index = /^cards\[(\d+)\]/.exec(failure.field ?? '')?.[1];
    if (index !== undefined && source !== undefined && Number(index) < source.cards.length) io.error(`  cards[${index}] is ${source.describe(Number(index))}`);
    return failure.exitCode;
  }
  if (isProfileError(error)) {
    io.error(`${prefix} ${error.message}`);
    return 2;
  }
  if (error instanceof Error && 'syscall' in error && command.name === 'create' && command.cards.kind === 'file') {
    io.error(`${prefix} cannot read the cards file: ${error.message}`);
    return 2;
  }
  throw error;
}
