import { describe, expect, it } from 'vitest';
import { isJournalError } from '../../../src/server/journal/index.js';
import { memoryJournal, uid } from './support.js';

const PROFILE = 'generic-pacs-v1';
const claim = { keySet: 'dev', keyVersion: 1 };
const numbers = (...n: number[]) => n.map((x) => ({ cardNumber: BigInt(x) }));

describe('journal: what stations ask while they work batches', () => {
  it('names the oldest open batch with a number left, skipping full, finished and cancelled ones', () => {
    const journal = memoryJournal();
    expect(journal.nextOpenBatch()).toBeUndefined();
    const a = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(1), id: 'a' });
    const b = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(2, 3), id: 'b' });
    const c = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(4), id: 'c' });
    expect(journal.nextOpenBatch()).toBe(a.id);
    journal.claimCard(a.id, { uid: uid(1), ...claim });
    expect(journal.nextOpenBatch()).toBe(b.id); // a's only number is on a card
    journal.setBatchState(b.id, 'cancelled');
    expect(journal.nextOpenBatch()).toBe(c.id);
    journal.claimCard(c.id, { uid: uid(4), ...claim });
    expect(journal.nextOpenBatch()).toBeUndefined();
  });

  it('gives a refused card\'s number back to the pool the next claim takes', () => {
    const journal = memoryJournal();
    const a = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(1) });
    const card = journal.claimCard(a.id, { uid: uid(1), ...claim })!;
    expect(journal.nextOpenBatch()).toBeUndefined();
    journal.setCardState(card.id, 'refused', 'foreign card');
    expect(journal.nextOpenBatch()).toBe(a.id);
  });

  it('lists unfinished cards a physical card holds, of open batches only', () => {
    const journal = memoryJournal();
    const a = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(1, 2, 3, 4, 5), id: 'a' });
    const cancelled = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(9), id: 'x' });
    const [claimed, encoding, failed, encoded, refused] = [1, 2, 3, 4, 5].map((n) => journal.claimCard(a.id, { uid: uid(n), ...claim })!);
    journal.setCardState(encoding.id, 'encoding');
    journal.setCardState(failed.id, 'failed', 'card pulled');
    journal.setCardState(encoded.id, 'encoded');
    journal.setCardState(refused.id, 'refused', 'foreign');
    journal.claimCard(cancelled.id, { uid: uid(9), ...claim });
    journal.setBatchState(cancelled.id, 'cancelled');
    expect(journal.resumableCards().map((c) => [c.uid, c.state])).toEqual([
      [claimed.uid, 'pending'],
      [encoding.uid, 'encoding'],
      [failed.uid, 'failed'],
    ]);
  });

  it('completes a batch once no card is pending or encoding, failed ones included, and only once', () => {
    const journal = memoryJournal();
    const a = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(1, 2) });
    const one = journal.claimCard(a.id, { uid: uid(1), ...claim })!;
    journal.setCardState(one.id, 'encoded');
    expect(journal.completeIfDone(a.id)).toBeUndefined(); // 2 is still pending
    const two = journal.claimCard(a.id, { uid: uid(2), ...claim })!;
    journal.setCardState(two.id, 'encoding');
    expect(journal.completeIfDone(a.id)).toBeUndefined();
    journal.setCardState(two.id, 'failed', 'card pulled');
    const done = journal.completeIfDone(a.id)!;
    expect(done).toMatchObject({ state: 'completed', counts: { total: 2, encoded: 1, failed: 1 } });
    expect(done.finishedAt).toBeDefined();
    expect(done).toEqual(journal.getBatch(a.id));
    expect(journal.completeIfDone(a.id)).toBeUndefined(); // once
    // a cancelled batch stays cancelled
    const b = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(3) });
    journal.setBatchState(b.id, 'cancelled');
    expect(journal.completeIfDone(b.id)).toBeUndefined();
    expect(journal.getBatch(b.id).state).toBe('cancelled');
  });
});

describe('journal: batches in pages', () => {
  it('lists batches newest first with a state filter, page by page', () => {
    const journal = memoryJournal();
    const ids = Array.from({ length: 7 }, (_, i) => journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(i + 1), id: `b${i}` }).id);
    journal.setBatchState('b1', 'cancelled');
    journal.setBatchState('b4', 'cancelled');
    const seen: string[] = [];
    let token = '';
    do {
      const page = journal.listBatches({}, { pageSize: 3, pageToken: token });
      expect(page.batches.length).toBeLessThanOrEqual(3);
      seen.push(...page.batches.map((b) => b.id));
      token = page.nextPageToken;
    } while (token !== '');
    expect(seen).toEqual([...ids].reverse());
    const cancelled = journal.listBatches({ state: 'cancelled' }, { pageSize: 1 });
    expect(cancelled.batches.map((b) => b.id)).toEqual(['b4']);
    expect(journal.listBatches({ state: 'cancelled' }, { pageSize: 1, pageToken: cancelled.nextPageToken })).toMatchObject({ batches: [{ id: 'b1', counts: { total: 1 } }], nextPageToken: '' });
  });

  it('refuses a token made for another filter, and bad page sizes', () => {
    const journal = memoryJournal();
    journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(1) });
    journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: numbers(2) });
    const token = journal.listBatches({}, { pageSize: 1 }).nextPageToken;
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        if (isJournalError(e)) return e.code;
        throw e;
      }
      return undefined;
    };
    expect(codeOf(() => journal.listBatches({ state: 'created' }, { pageToken: token }))).toBe('INVALID_PAGE_TOKEN');
    expect(codeOf(() => journal.listBatches({}, { pageSize: 0 }))).toBe('INVALID_ARGUMENT');
  });
});
