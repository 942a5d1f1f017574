import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../../src/server/journal/index.js';

/** A clock that advances one second per call, from a fixed start. */
export function steppingClock(start = Date.parse('2026-01-01T00:00:00Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

export const memoryJournal = (): Journal => Journal.open({ path: ':memory:', now: steppingClock() });

/** A temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const uid = (n: number): string => `04${n.toString(16).padStart(12, '0').toUpperCase()}`;
