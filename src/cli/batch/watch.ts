import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { BatchState, EncoderService, type Batch, type WatchBatchResponse } from '../../gen/desfirepacs/v1/encoder_pb.js';
import type { ServiceClient } from '../../server/grpc/client.js';
import { isServiceError } from './call-failure.js';
import { formatDuration, NO_COUNTS, progressBar, progressLogLine, speedOf, tally, tenths, type Counts, type Sample, type Speed } from './progress.js';

export type EncoderClient = ServiceClient<typeof EncoderService>;

export interface WatchIo {
  /** A line of output. */
  write(line: string): void;
  /** On a terminal: writes text as is, for the progress line redrawn in place. Absent: one log line per tenth. */
  readonly redraw?: (text: string) => void;
  /** Milliseconds of a monotonic clock, for the speed and the ETA. */
  readonly now: () => number;
  /** Aborted: stop watching (the batch goes on). */
  readonly interrupt: AbortSignal;
}

/** Exit codes of a watch. */
export const WATCH_EXIT = { completed: 0, failedCards: 1, cancelled: 4, interrupted: 130 } as const;

/** A terminal is redrawn at most this often: a batch of fast stations sends hundreds of events a second. */
const REDRAW_EVERY_MS = 100;

/**
 * Follows WatchBatch until the batch ends (the service then ends the stream) or `interrupt`
 * aborts, drawing progress, then prints a summary. Returns 0 when every card was encoded, 1 when
 * the batch completed with failed cards (or the stream ended early), 4 when it was cancelled,
 * 130 when interrupted. Call failures are thrown (ServiceError).
 */
export async function watchBatch(client: EncoderClient, batchId: string, io: WatchIo): Promise<number> {
  const stream = client.watchBatch({ batchId });
  const stop = () => stream.cancel();
  if (io.interrupt.aborted) stop();
  io.interrupt.addEventListener('abort', stop, { once: true });
  if (io.redraw) io.write(`watching batch ${batchId}; Ctrl-C stops watching, not the batch`);

  let last: Batch | undefined;
  let start: Sample | undefined;
  let shown: { counts: Counts; speed: Speed } | undefined;
  let drawnAt = -Infinity;
  let loggedTenths = -1;
  /** Ended by the interrupt (a batch that ended first is summarized as it ended). */
  let stopped = false;
  const draw = (counts: Counts, speed: Speed) => io.redraw?.(`\r${progressBar(counts, speed)}\x1b[K`);
  try {
    for await (const message of stream as AsyncIterable<WatchBatchResponse>) {
      if (message.batch === undefined) continue;
      last = message.batch;
      const counts = last.counts ?? NO_COUNTS;
      const now: Sample = { atMs: io.now(), encoded: counts.encoded };
      start ??= now;
      shown = { counts, speed: speedOf(start, now, counts) };
      if (io.redraw) {
        if (now.atMs - drawnAt >= REDRAW_EVERY_MS) {
          draw(shown.counts, shown.speed);
          drawnAt = now.atMs;
        }
      } else if (tenths(counts) > loggedTenths) {
        loggedTenths = tenths(counts);
        io.write(progressLogLine(batchId, counts, shown.speed));
      }
    }
  } catch (e) {
    if (!(io.interrupt.aborted && isServiceError(e) && e.code === GrpcStatus.CANCELLED)) throw e;
    stopped = true;
  } finally {
    io.interrupt.removeEventListener('abort', stop);
    // The last state, whatever the redraw rate skipped, and the line ended for what follows.
    if (io.redraw && shown) {
      draw(shown.counts, shown.speed);
      io.redraw('\n');
    }
  }
  if (stopped) {
    io.write(`stopped watching; batch ${batchId} goes on (follow it again with: desfire-pacs batch watch ${batchId})`);
    return WATCH_EXIT.interrupted;
  }
  return summarize(batchId, last, io);
}

function summarize(batchId: string, batch: Batch | undefined, io: WatchIo): number {
  const counts = batch?.counts ?? NO_COUNTS;
  switch (batch?.state) {
    case BatchState.COMPLETED: {
      io.write(`batch ${batchId} completed${took(batch.createdAt, batch.finishedAt)}: ${tally(counts)}`);
      if (counts.encoded === counts.total) return WATCH_EXIT.completed;
      io.write(`the failed cards: desfire-pacs batch cards ${batchId} --state failed`);
      return WATCH_EXIT.failedCards;
    }
    case BatchState.CANCELLED:
      io.write(`batch ${batchId} cancelled: ${tally(counts)}; ${counts.total - counts.encoded - counts.failed} card numbers not encoded`);
      return WATCH_EXIT.cancelled;
    default:
      io.write(`the service ended the watch before batch ${batchId} finished (${tally(counts)})`);
      return WATCH_EXIT.failedCards;
  }
}

/** ` in 1:23`, when both times are known. */
function took(from: Timestamp | undefined, to: Timestamp | undefined): string {
  if (from === undefined || to === undefined) return '';
  return ` in ${formatDuration((timestampDate(to).getTime() - timestampDate(from).getTime()) / 1000)}`;
}

