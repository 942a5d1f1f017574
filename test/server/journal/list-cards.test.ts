import { describe, expect, it } from 'vitest';
import { isJournalError, type CardRecord, type Journal } from '../../../src/server/journal/index.js';
import { memoryJournal, uid } from './support.js';

function all(journal: Journal, filter: Parameters<Journal['listCards']>[0], pageSize: number): { pages: CardRecord[][] } {
  const pages: CardRecord[][] = [];
  let pageToken = '';
  do {
    const page = journal.listCards(filter, { pageSize, pageToken });
    pages.push(page.cards);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return { pages };
}

function setup(): { journal: Journal; a: string; b: string } {
  const journal = memoryJournal();
  const a = journal.createBatch({ profile: 'p', keySet: 'dev', cards: Array.from({ length: 25 }, (_, i) => ({ cardNumber: BigInt(i + 1) })) }).id;
  const b = journal.createBatch({ profile: 'p', keySet: 'dev', cards: Array.from({ length: 10 }, (_, i) => ({ cardNumber: BigInt(100 + i) })) }).id;
  for (let n = 1; n <= 12; n++) {
    const card = journal.claimCard(a, { uid: uid(n), keySet: 'dev', keyVersion: 1 })!;
    if (n % 3 === 0) journal.setCardState(card.id, 'encoded');
  }
  journal.record({ uid: Buffer.from(uid(1), 'hex'), step: 'inspect', phase: 'started' }); // uid(1): encoding
  return { journal, a, b };
}

describe('listCards: keyset pagination and filters', () => {
  it('walks every card once, in a stable order, page by page', () => {
    const { journal } = setup();
    const { pages } = all(journal, {}, 10);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 10, 5]);
    const ids = pages.flat().map((c) => c.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(35);
    expect(journal.listCards({}, { pageSize: 35 }).nextPageToken).toBe('');
  });

  it('is not shifted by cards added between pages', () => {
    const { journal } = setup();
    const first = journal.listCards({}, { pageSize: 20 });
    journal.registerCard({ profile: 'p', cardNumber: 999n, uid: uid(99), keySet: 'dev', keyVersion: 1 });
    const rest = all(journal, {}, 100);
    expect(rest.pages.flat().length).toBe(36);
    const second = journal.listCards({}, { pageSize: 100, pageToken: first.nextPageToken });
    expect(second.cards[0].id).toBe(first.cards[19].id + 1);
    expect(second.cards.length).toBe(16);
  });

  it('filters by batch, state, UID and card number, combined', () => {
    const { journal, a, b } = setup();
    expect(all(journal, { batchId: b }, 3).pages.flat().map((c) => c.cardNumber)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(100 + i)));
    expect(all(journal, { batchId: a, state: 'encoded' }, 2).pages.flat().map((c) => c.uid)).toEqual([3, 6, 9, 12].map(uid));
    expect(all(journal, { state: ['encoded', 'pending'] }, 7).pages.flat().length).toBe(35 - 1); // all but the encoding one
    expect(journal.listCards({ state: 'encoding' }).cards.map((c) => c.uid)).toEqual([uid(1)]);
    expect(journal.listCards({ uid: uid(5) }).cards.map((c) => c.cardNumber)).toEqual([5n]);
    expect(journal.listCards({ cardNumber: 104n }).cards.map((c) => c.batchId)).toEqual([b]);
    expect(journal.listCards({ batchId: a, cardNumber: 104n }).cards).toEqual([]);
  });

  it('refuses a token made for another filter, a forged token and a bad page size', () => {
    const { journal, a } = setup();
    const token = journal.listCards({ batchId: a }, { pageSize: 5 }).nextPageToken;
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (e) {
        return isJournalError(e) ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => journal.listCards({ state: 'pending' }, { pageToken: token }))).toBe('INVALID_PAGE_TOKEN');
    expect(code(() => journal.listCards({ batchId: a }, { pageToken: 'not-a-token' }))).toBe('INVALID_PAGE_TOKEN');
    expect(code(() => journal.listCards({}, { pageSize: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => journal.listCards({}, { pageSize: 1001 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => journal.listCards({ state: 'lost' as never }))).toBe('INVALID_ARGUMENT');
    expect(code(() => journal.listCards({ batchId: a }, { pageToken: token }))).toBeUndefined();
  });
});
