import { describe, expect, it } from 'vitest';
import { BatchEvents } from '../../../src/server/batches/batch-events.js';
import { watchBatch, type BatchProgress } from '../../../src/server/batches/batch-watch.js';
import { isJournalError, Journal } from '../../../src/server/journal/index.js';
import { steppingClock, uid } from '../journal/support.js';
import { batchCards } from './support.js';

const claim = { keySet: 'pacs', keyVersion: 1 };

describe('watchBatch', () => {
  it('sees changes made by another process sharing the journal, by reading it, and ends when the batch completes', async () => {
    const journal = Journal.open({ path: ':memory:', now: steppingClock() });
    const batch = journal.createBatch({ profile: 'generic-pacs-v1', keySet: 'pacs', cards: batchCards(1, 1) });
    // no events at all: the other process changes the journal only
    const steps = watchBatch(journal, new BatchEvents(), batch.id, { signal: new AbortController().signal, pollMs: 5 });
    expect((await steps.next()).value).toMatchObject({ batch: { state: 'created' } });
    const card = journal.claimCard(batch.id, { uid: uid(1), ...claim })!;
    journal.setCardState(card.id, 'encoding');
    expect((await steps.next()).value).toMatchObject({ batch: { state: 'running', counts: { encoding: 1 } } });
    journal.setCardState(card.id, 'encoded');
    journal.completeIfDone(batch.id);
    const last = (await steps.next()).value as BatchProgress;
    expect(last).toMatchObject({ batch: { state: 'completed', counts: { encoded: 1 } } });
    expect(last.card).toBeUndefined();
    expect((await steps.next()).done).toBe(true);
  });

  it('gives one step per card event of its batch, and ends when the signal aborts', async () => {
    const journal = Journal.open({ path: ':memory:', now: steppingClock() });
    const events = new BatchEvents();
    const batch = journal.createBatch({ profile: 'generic-pacs-v1', keySet: 'pacs', cards: batchCards(1, 2) });
    const other = journal.createBatch({ profile: 'generic-pacs-v1', keySet: 'pacs', cards: batchCards(10, 1) });
    const stop = new AbortController();
    const steps = watchBatch(journal, events, batch.id, { signal: stop.signal, pollMs: 60_000 });
    await steps.next();
    const a = journal.claimCard(batch.id, { uid: uid(1), ...claim })!;
    const elsewhere = journal.claimCard(other.id, { uid: uid(9), ...claim })!;
    events.publish({ kind: 'card', card: elsewhere, stationId: 's' });
    events.publish({ kind: 'card', card: journal.setCardState(a.id, 'encoding'), stationId: 's' });
    events.publish({ kind: 'card', card: journal.setCardState(a.id, 'failed', 'pulled'), stationId: 's' });
    expect((await steps.next()).value).toMatchObject({ card: { id: a.id, state: 'encoding' } });
    expect((await steps.next()).value).toMatchObject({ card: { id: a.id, state: 'failed' }, batch: { counts: { failed: 1, pending: 1 } } });
    const next = steps.next();
    stop.abort();
    expect((await next).done).toBe(true);
  });

  it('sends every card event queued before the batch completed, then ends', async () => {
    const journal = Journal.open({ path: ':memory:', now: steppingClock() });
    const events = new BatchEvents();
    const batch = journal.createBatch({ profile: 'generic-pacs-v1', keySet: 'pacs', cards: batchCards(1, 3) });
    const steps = watchBatch(journal, events, batch.id, { signal: new AbortController().signal, pollMs: 60_000 });
    await steps.next();
    // Three cards finish before the watcher runs again, and the batch completes with the last.
    for (let n = 1; n <= 3; n++) {
      const card = journal.claimCard(batch.id, { uid: uid(n), ...claim })!;
      events.publish({ kind: 'card', card: journal.setCardState(card.id, 'encoded'), stationId: 's' });
    }
    journal.completeIfDone(batch.id);
    const rest: BatchProgress[] = [];
    for await (const step of steps) rest.push(step);
    expect(rest.map((step) => step.card?.cardNumber)).toEqual([1n, 2n, 3n]);
    expect(rest.at(-1)!.batch).toMatchObject({ state: 'completed', counts: { encoded: 3 } });
  });

  it('sends every change queued while it was busy, also those after the batch finished, then ends', async () => {
    const journal = Journal.open({ path: ':memory:', now: steppingClock() });
    const events = new BatchEvents();
    const batch = journal.createBatch({ profile: 'generic-pacs-v1', keySet: 'pacs', cards: batchCards(1, 1) });
    const steps = watchBatch(journal, events, batch.id, { signal: new AbortController().signal, pollMs: 60_000 });
    await steps.next();
    const card = journal.claimCard(batch.id, { uid: uid(1), ...claim })!;
    events.publish({ kind: 'card', card: journal.setCardState(card.id, 'encoding'), stationId: 's' });
    events.publish({ kind: 'card', card: journal.setCardState(card.id, 'encoded'), stationId: 's' });
    events.publish({ kind: 'batch', batch: journal.completeIfDone(batch.id)! });
    const rest: BatchProgress[] = [];
    for await (const step of steps) rest.push(step);
    expect(rest.map((s) => [s.card?.state, s.batch.state])).toEqual([
      ['encoding', 'completed'],
      ['encoded', 'completed'],
    ]);
  });

  it('fails with UNKNOWN_BATCH for a batch that does not exist', async () => {
    const journal = Journal.open({ path: ':memory:' });
    const steps = watchBatch(journal, new BatchEvents(), 'nope', { signal: new AbortController().signal });
    expect(isJournalError(await steps.next().catch((e: unknown) => e), 'UNKNOWN_BATCH')).toBe(true);
  });
});
