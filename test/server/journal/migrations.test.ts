import DatabaseConstructor from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/server/journal/database.js';
import { isJournalError, Journal, MIGRATIONS } from '../../../src/server/journal/index.js';
import { memoryJournal, steppingClock, tempDir, uid } from './support.js';

describe('journal schema migrations', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  const dir = (): string => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };

  it('migrates a fresh in-memory journal to the newest version', () => {
    const journal = memoryJournal();
    expect(journal.schemaVersion()).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
    journal.close();
  });

  it('opens a file in WAL mode with synchronous FULL, and records each migration once', () => {
    const path = join(dir(), 'journal.db');
    Journal.open({ path }).close();
    Journal.open({ path }).close(); // reopen: nothing applied twice
    const db = new DatabaseConstructor(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    db.close();
    // synchronous is per connection: check the one the journal opens (2 = FULL).
    const own = openDatabase(path, () => new Date());
    expect(own.pragma('synchronous', { simple: true })).toBe(2);
    expect(own.pragma('foreign_keys', { simple: true })).toBe(1);
    own.close();
  });

  it('keeps its records across close and reopen of a file', () => {
    const path = join(dir(), 'journal.db');
    const first = Journal.open({ path, now: steppingClock() });
    const batch = first.createBatch({ profile: 'generic-pacs-v1', keySet: 'dev', cards: [{ cardNumber: 1n }, { cardNumber: 2n }] });
    const card = first.claimCard(batch.id, { uid: uid(1), keySet: 'dev', keyVersion: 1 })!;
    first.record({ uid: Buffer.from(uid(1), 'hex'), step: 'inspect', phase: 'started' });
    first.close();
    expect(first.closed).toBe(true);

    const second = Journal.open({ path });
    expect(second.getBatch(batch.id)).toEqual({ ...batch, state: 'running', updatedAt: second.getBatch(batch.id).updatedAt, counts: { ...batch.counts, pending: 1, encoding: 1 } });
    expect(second.getCardByUid(uid(1))).toMatchObject({ id: card.id, cardNumber: 1n, state: 'encoding', keySet: 'dev', keyVersion: 1 });
    expect(second.steps(card.id).map((s) => [s.step, s.phase])).toEqual([['inspect', 'started']]);
    second.close();
  });

  it('refuses a journal migrated by newer code', () => {
    const path = join(dir(), 'journal.db');
    Journal.open({ path }).close();
    const db = new DatabaseConstructor(path);
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01T00:00:00.000Z')").run();
    db.close();
    expect(() => Journal.open({ path })).toThrow(expect.objectContaining({ code: 'SCHEMA_TOO_NEW' }));
  });

  it('fails with CLOSED after close, and close is idempotent', () => {
    const journal = memoryJournal();
    journal.close();
    journal.close();
    let error: unknown;
    try {
      journal.getCard(1);
    } catch (e) {
      error = e;
    }
    expect(isJournalError(error, 'CLOSED')).toBe(true);
  });
});
