import { describe, expect, it } from 'vitest';
import { isJournalError, type JournalErrorCode } from '../../../src/server/journal/index.js';
import { memoryJournal, uid } from './support.js';

function codeOf(fn: () => unknown): JournalErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (isJournalError(e)) return e.code;
    throw e;
  }
  return undefined;
}

const PROFILE = 'generic-pacs-v1';

describe('cards: one card number per profile', () => {
  it('refuses a card number already held in the profile, with a typed error', () => {
    const journal = memoryJournal();
    journal.registerCard({ profile: PROFILE, cardNumber: 42n, uid: uid(1), keySet: 'dev', keyVersion: 1 });
    expect(codeOf(() => journal.registerCard({ profile: PROFILE, cardNumber: 42n, uid: uid(2), keySet: 'dev', keyVersion: 1 }))).toBe('CARD_NUMBER_TAKEN');
    expect(codeOf(() => journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: [{ cardNumber: 41n }, { cardNumber: 42n }] }))).toBe('CARD_NUMBER_TAKEN');
    // all or nothing: 41 was not kept
    expect(journal.listCards({ cardNumber: 41n }).cards).toEqual([]);
    // another profile (another issuer) may use the number
    expect(journal.registerCard({ profile: 'other', cardNumber: 42n, uid: uid(3), keySet: 'dev', keyVersion: 1 }).cardNumber).toBe(42n);
  });

  it('refuses the same number twice in one batch, and a UID already held', () => {
    const journal = memoryJournal();
    expect(codeOf(() => journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: [{ cardNumber: 7n }, { cardNumber: 7n }] }))).toBe('CARD_NUMBER_TAKEN');
    journal.registerCard({ profile: PROFILE, cardNumber: 1n, uid: uid(1), keySet: 'dev', keyVersion: 1 });
    expect(codeOf(() => journal.registerCard({ profile: PROFILE, cardNumber: 2n, uid: uid(1), keySet: 'dev', keyVersion: 1 }))).toBe('UID_TAKEN');
  });

  it('refuses a second batch with the same id, keeping nothing of it', () => {
    const journal = memoryJournal();
    journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: [{ cardNumber: 1n }], id: 'b-1' });
    expect(codeOf(() => journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: [{ cardNumber: 2n }], id: 'b-1' }))).toBe('BATCH_EXISTS');
    expect(journal.listCards({ cardNumber: 2n }).cards).toEqual([]);
  });

  it('validates card numbers, UIDs and key versions', () => {
    const journal = memoryJournal();
    const base = { profile: PROFILE, cardNumber: 1n, uid: uid(1), keySet: 'dev', keyVersion: 1 };
    expect(codeOf(() => journal.registerCard({ ...base, cardNumber: 0n }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => journal.registerCard({ ...base, cardNumber: 1n << 64n }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => journal.registerCard({ ...base, uid: '0411' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => journal.registerCard({ ...base, keyVersion: 0 }))).toBe('INVALID_ARGUMENT');
    const max = journal.registerCard({ ...base, cardNumber: (1n << 64n) - 1n, uid: new Uint8Array([4, 0xaa, 1, 2, 3, 4, 0xff]) });
    expect(max).toMatchObject({ cardNumber: 18446744073709551615n, uid: '04AA01020304FF' });
  });

  it('lets a refused card give its number back to the batch, but never an encoded or failed one', () => {
    const journal = memoryJournal();
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: [{ cardNumber: 10n, data: '{"name":"A"}' }] });
    const first = journal.claimCard(batch.id, { uid: uid(1), keySet: 'dev', keyVersion: 1 })!;
    expect(journal.claimCard(batch.id, { uid: uid(2), keySet: 'dev', keyVersion: 1 })).toBeUndefined(); // none left
    journal.setCardState(first.id, 'refused', 'foreign PICC master key');
    expect(journal.getBatch(batch.id).counts).toMatchObject({ total: 1, pending: 1, refused: 1 });
    const second = journal.claimCard(batch.id, { uid: uid(2), keySet: 'dev', keyVersion: 2 })!;
    expect(second).toMatchObject({ cardNumber: 10n, data: '{"name":"A"}', uid: uid(2), keyVersion: 2 });
    journal.setCardState(second.id, 'encoded');
    expect(journal.getCard(second.id).encodedAt).toBeDefined();
    expect(codeOf(() => journal.setCardState(second.id, 'refused'))).toBe('INVALID_TRANSITION');
    expect(codeOf(() => journal.setCardState(second.id, 'pending'))).toBe('INVALID_TRANSITION');
    // the refused UID is still known, as refused
    expect(journal.getCardByUid(uid(1))).toMatchObject({ state: 'refused', detail: 'foreign PICC master key' });
    expect(codeOf(() => journal.getCardByUid(uid(9)))).toBe('UNKNOWN_CARD');
  });

  it('gives a card presented again its own number, and gives each UID a distinct number', () => {
    const journal = memoryJournal();
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: [1n, 2n, 3n].map((cardNumber) => ({ cardNumber })) });
    const a = journal.claimCard(batch.id, { uid: uid(1), keySet: 'dev', keyVersion: 1 })!;
    const b = journal.claimCard(batch.id, { uid: uid(2), keySet: 'dev', keyVersion: 1 })!;
    expect(journal.claimCard(batch.id, { uid: uid(1), keySet: 'dev', keyVersion: 1 })!.id).toBe(a.id);
    expect(new Set([a.cardNumber, b.cardNumber]).size).toBe(2);
    const other = journal.createBatch({ profile: PROFILE, keySet: 'dev', cards: [{ cardNumber: 4n }] });
    expect(codeOf(() => journal.claimCard(other.id, { uid: uid(1), keySet: 'dev', keyVersion: 1 }))).toBe('UID_TAKEN');
    journal.setBatchState(batch.id, 'cancelled');
    expect(codeOf(() => journal.claimCard(batch.id, { uid: uid(3), keySet: 'dev', keyVersion: 1 }))).toBe('INVALID_TRANSITION');
    expect(codeOf(() => journal.setBatchState(batch.id, 'running'))).toBe('INVALID_TRANSITION');
    expect(codeOf(() => journal.getBatch('nope'))).toBe('UNKNOWN_BATCH');
  });
});
