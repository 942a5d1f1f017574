import { join } from 'node:path';
import DatabaseConstructor from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { storeError, tempDir } from './support.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function dbPath(): string {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  return join(dir.dir, 'virtual-cards.db');
}

describe('virtual card store database', () => {
  it('creates a versioned WAL file, and opens it again without migrating twice', () => {
    const path = dbPath();
    VirtualCardStore.open({ path }).close();
    VirtualCardStore.open({ path }).close();
    const db = new DatabaseConstructor(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'virtual_cards'").pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it('refuses a file written by a newer schema, and leaves it as it was', async () => {
    const path = dbPath();
    const db = new DatabaseConstructor(path);
    db.pragma('user_version = 99');
    db.close();
    expect(await storeError(() => VirtualCardStore.open({ path }))).toMatchObject({ code: 'SCHEMA_TOO_NEW' });
    const after = new DatabaseConstructor(path, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(99);
      expect(after.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get()).toBe(0);
    } finally {
      after.close();
    }
  });
});
