import { describe, expect, it } from 'vitest';
import { finished, formatDuration, progressBar, progressLogLine, progressText, speedOf, tenths } from '../../../src/cli/batch/progress.js';

const counts = (total: number, encoded: number, failed = 0, refused = 0) => ({ total, encoded, failed, refused });

describe('progress bar', () => {
  it.each([
    [counts(100, 0), {}, '[..............................] 0/100 encoded, 0 failed, 0 refused, -- cards/s, ETA --'],
    [counts(100, 40, 2, 1), { cardsPerSecond: 3.24, etaSeconds: 19.4 }, '[############..................] 40/100 encoded, 2 failed, 1 refused, 3.2 cards/s, ETA 0:19'],
    [counts(10, 4, 2), { cardsPerSecond: 12.6, etaSeconds: 3725 }, '[############xxxxxx............] 4/10 encoded, 2 failed, 0 refused, 13 cards/s, ETA 1:02:05'],
    [counts(3, 3), { cardsPerSecond: 0.5, etaSeconds: 0 }, '[##############################] 3/3 encoded, 0 failed, 0 refused, 0.5 cards/s, ETA 0:00'],
    [counts(3, 0, 3), {}, '[xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx] 0/3 encoded, 3 failed, 0 refused, -- cards/s, ETA --'],
    [counts(0, 0), {}, '[..............................] 0/0 encoded, 0 failed, 0 refused, -- cards/s, ETA --'],
  ])('%o %o', (c, speed, line) => {
    expect(progressBar(c, speed)).toBe(line);
  });

  it('is full only when every card is finished (cells round down), at any width', () => {
    expect(progressBar(counts(1000, 999), {}, 10)).toMatch(/^\[#########\.\] /);
    expect(progressBar(counts(1000, 999, 1), {}, 10)).toMatch(/^\[#########x\] /);
    expect(progressBar(counts(7, 5, 1), {}, 7)).toMatch(/^\[#####x\.\] /);
  });

  it('the log line shows the whole percent finished (encoded and failed)', () => {
    expect(progressLogLine('b1', counts(3, 1, 1), { cardsPerSecond: 2, etaSeconds: 0.4 })).toBe('batch b1: 66% (1/3 encoded, 1 failed, 0 refused, 2.0 cards/s, ETA 0:00)');
    expect(progressLogLine('b1', counts(0, 0), {})).toBe('batch b1: 100% (0/0 encoded, 0 failed, 0 refused, -- cards/s, ETA --)');
    expect(progressText(counts(5, 5), {})).toBe('5/5 encoded, 0 failed, 0 refused, -- cards/s, ETA --');
  });
});

describe('speed, tenths, durations', () => {
  it('speed counts cards encoded since watching began; the ETA covers the cards not yet finished', () => {
    const start = { atMs: 5_000, encoded: 10 };
    expect(speedOf(start, start, counts(100, 10))).toEqual({});
    expect(speedOf(start, { atMs: 9_000, encoded: 10 }, counts(100, 10, 5))).toEqual({});
    expect(speedOf(start, { atMs: 9_000, encoded: 30 }, counts(100, 30, 10))).toEqual({ cardsPerSecond: 5, etaSeconds: 12 });
    expect(speedOf(start, { atMs: 4_000, encoded: 30 }, counts(100, 30))).toEqual({});
  });

  it('tenths finished', () => {
    expect([counts(10, 0), counts(10, 1), counts(10, 4, 5), counts(10, 9, 1), counts(7, 2), counts(0, 0)].map(tenths)).toEqual([0, 1, 9, 10, 2, 10]);
    expect(finished(counts(10, 4, 5, 3))).toBe(9);
  });

  it.each([
    [0, '0:00'],
    [7.4, '0:07'],
    [59.6, '1:00'],
    [750, '12:30'],
    [3723, '1:02:03'],
    [-3, '0:00'],
  ])('%d s is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
