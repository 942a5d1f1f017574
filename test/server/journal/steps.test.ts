import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PERSONALIZATION_STEPS, type PersonalizationJournal, type StepEvent } from '../../../src/encoder/personalize/journal.js';
import { isJournalError, Journal } from '../../../src/server/journal/index.js';
import { memoryJournal, steppingClock, tempDir, uid } from './support.js';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

describe('write-ahead personalization steps', () => {
  it('records every step event in order, readable after reopen', () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'journal.db');
      const journal: Journal = Journal.open({ path, now: steppingClock() });
      const asPersonalizer: PersonalizationJournal = journal; // the personalizer writes to it directly
      const card = journal.registerCard({ profile: 'p', cardNumber: 5n, uid: uid(5), keySet: 'dev', keyVersion: 1 });
      const events: StepEvent[] = PERSONALIZATION_STEPS.flatMap((step): StepEvent[] => [
        { uid: bytes(uid(5)), step, phase: 'started' },
        step === 'inspect' ? { uid: bytes(uid(5)), step, phase: 'skipped', detail: 'already' } : { uid: bytes(uid(5)), step, phase: 'completed' },
      ]);
      for (const e of events) asPersonalizer.record(e);
      expect(journal.getCard(card.id).state).toBe('encoding');
      journal.close();

      const reopened = Journal.open({ path });
      const steps = reopened.steps(card.id);
      expect(steps.map((s) => [s.step, s.phase, s.detail])).toEqual(events.map((e) => [e.step, e.phase, e.detail]));
      expect(steps.map((s) => s.id)).toEqual([...steps.map((s) => s.id)].sort((a, b) => a - b));
      expect(new Set(steps.map((s) => s.at)).size).toBe(steps.length);
      expect(steps.every((s) => s.uid === uid(5) && s.cardId === card.id)).toBe(true);
      reopened.close();
    } finally {
      cleanup();
    }
  });

  it('refuses a step for a UID it has no live card for, so nothing is written to the card', () => {
    const journal = memoryJournal();
    let error: unknown;
    try {
      journal.record({ uid: bytes(uid(9)), step: 'inspect', phase: 'started' });
    } catch (e) {
      error = e;
    }
    expect(isJournalError(error, 'UNKNOWN_CARD')).toBe(true);
  });

  it('moves a failed card back to encoding when it is presented again', () => {
    const journal = memoryJournal();
    const card = journal.registerCard({ profile: 'p', cardNumber: 5n, uid: uid(5), keySet: 'dev', keyVersion: 1 });
    journal.record({ uid: bytes(uid(5)), step: 'picc-master-key', phase: 'started' });
    journal.record({ uid: bytes(uid(5)), step: 'picc-master-key', phase: 'failed', detail: 'card removed' });
    journal.setCardState(card.id, 'failed', 'card removed');
    journal.record({ uid: bytes(uid(5)), step: 'inspect', phase: 'started' });
    expect(journal.getCard(card.id)).toMatchObject({ state: 'encoding', detail: undefined });
  });
});

describe('unfinished work after a crash', () => {
  it('lists cards whose last step started without an outcome, and batches not finished', () => {
    const journal = memoryJournal();
    const open = journal.createBatch({ profile: 'p', keySet: 'dev', cards: [1n, 2n, 3n, 4n].map((cardNumber) => ({ cardNumber })) });
    const done = journal.createBatch({ profile: 'p', keySet: 'dev', cards: [{ cardNumber: 9n }] });
    const untouched = journal.createBatch({ profile: 'p', keySet: 'dev', cards: [{ cardNumber: 10n }] });
    const [a, b, c] = [1, 2, 3].map((n) => journal.claimCard(open.id, { uid: uid(n), keySet: 'dev', keyVersion: 1 })!);
    // a: interrupted in application-keys
    journal.record({ uid: bytes(a.uid!), step: 'inspect', phase: 'started' });
    journal.record({ uid: bytes(a.uid!), step: 'inspect', phase: 'completed' });
    journal.record({ uid: bytes(a.uid!), step: 'application-keys', phase: 'started' });
    // b: between steps (last step completed): not interrupted mid-step
    journal.record({ uid: bytes(b.uid!), step: 'inspect', phase: 'started' });
    journal.record({ uid: bytes(b.uid!), step: 'inspect', phase: 'completed' });
    // c: its step failed
    journal.record({ uid: bytes(c.uid!), step: 'inspect', phase: 'started' });
    journal.record({ uid: bytes(c.uid!), step: 'inspect', phase: 'failed', detail: 'x' });
    const d = journal.claimCard(done.id, { uid: uid(9), keySet: 'dev', keyVersion: 1 })!;
    journal.record({ uid: bytes(d.uid!), step: 'verify', phase: 'started' });
    journal.setBatchState(done.id, 'completed');

    const work = journal.unfinishedWork();
    expect(work.interruptedCards.map((i) => [i.card.id, i.step])).toEqual([
      [a.id, 'application-keys'],
      [d.id, 'verify'],
    ]);
    expect(work.unfinishedBatches.map((x) => [x.id, x.state])).toEqual([
      [open.id, 'running'],
      [untouched.id, 'created'],
    ]);
    expect(work.unfinishedBatches[0].counts).toEqual({ total: 4, pending: 1, encoding: 3, encoded: 0, failed: 0, refused: 0 });
    expect(journal.batchProgress(open.id)).toEqual(work.unfinishedBatches[0].counts);
  });
});
