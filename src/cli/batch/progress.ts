import type { CardCounts } from '../../gen/desfirepacs/v1/encoder_pb.js';

/** The counts progress is drawn from. */
export type Counts = Pick<CardCounts, 'total' | 'encoded' | 'failed' | 'refused'>;

/** A batch message without counts has none yet. */
export const NO_COUNTS: Counts = Object.freeze({ total: 0, encoded: 0, failed: 0, refused: 0 });

/** Encoding speed while watching; each part undefined until it can be known. */
export interface Speed {
  readonly cardsPerSecond?: number;
  readonly etaSeconds?: number;
}

/** A moment of the watch: when (milliseconds, any monotonic clock) and how many cards were encoded. */
export interface Sample {
  readonly atMs: number;
  readonly encoded: number;
}

/**
 * Card numbers the batch is done with: encoded, or failed (a failed card resumes only when its
 * physical card comes back, so it no longer moves the batch on by itself).
 */
export function finished(counts: Counts): number {
  return counts.encoded + counts.failed;
}

/** Tenths of the batch finished, 0..10 (an empty batch is whole). */
export function tenths(counts: Counts): number {
  return counts.total === 0 ? 10 : Math.floor((finished(counts) * 10) / counts.total);
}

/**
 * Cards encoded per second since watching began, and the time the cards not yet finished take at
 * that speed. Nothing is known before a card has been encoded while watching.
 */
export function speedOf(start: Sample, now: Sample, counts: Counts): Speed {
  const seconds = (now.atMs - start.atMs) / 1000;
  const encoded = now.encoded - start.encoded;
  if (encoded <= 0 || seconds <= 0) return {};
  const cardsPerSecond = encoded / seconds;
  return { cardsPerSecond, etaSeconds: Math.max(0, counts.total - finished(counts)) / cardsPerSecond };
}

/** `0:07`, `12:30`, `1:02:03`. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** `40/100 encoded, 2 failed, 1 refused`. */
export function tally(counts: Counts): string {
  return `${counts.encoded}/${counts.total} encoded, ${counts.failed} failed, ${counts.refused} refused`;
}

/** `40/100 encoded, 2 failed, 1 refused, 3.2 cards/s, ETA 0:19` (the speed as `--` while unknown). */
export function progressText(counts: Counts, speed: Speed): string {
  const rate = speed.cardsPerSecond === undefined ? '--' : speed.cardsPerSecond < 10 ? speed.cardsPerSecond.toFixed(1) : String(Math.round(speed.cardsPerSecond));
  const eta = speed.etaSeconds === undefined ? '--' : formatDuration(speed.etaSeconds);
  return `${tally(counts)}, ${rate} cards/s, ETA ${eta}`;
}

/**
 * The terminal's progress line: a bar of `width` cells, `#` for encoded cards and `x` for failed
 * ones (rounded down, so a full bar means every card is finished), then the counts.
 */
export function progressBar(counts: Counts, speed: Speed, width = 30): string {
  const cells = (n: number) => (counts.total === 0 ? 0 : Math.floor((n * width) / counts.total));
  const done = Math.min(width, cells(finished(counts)));
  const encoded = Math.min(done, cells(counts.encoded));
  return `[${'#'.repeat(encoded)}${'x'.repeat(done - encoded)}${'.'.repeat(width - done)}] ${progressText(counts, speed)}`;
}

/** One line of a log (not a terminal): `batch b1: 40% (...)`. */
export function progressLogLine(batchId: string, counts: Counts, speed: Speed): string {
  const percent = counts.total === 0 ? 100 : Math.floor((finished(counts) * 100) / counts.total);
  return `batch ${batchId}: ${percent}% (${progressText(counts, speed)})`;
}
