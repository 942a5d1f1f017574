import DatabaseConstructor, { type Database } from 'better-sqlite3';
import { migrate } from './migrations.js';

/**
 * Opens (creating if needed) the SQLite file at `path`, or an in-memory database for
 * ":memory:", and migrates it. WAL mode, so readers do not block the writer;
 * `synchronous = FULL`, so every commit, step records first, is on disk before `record()`
 * returns (in WAL mode NORMAL could lose the last commits on power loss); foreign keys on;
 * a busy timeout, so two processes sharing a file wait for each other instead of failing.
 */
export function openDatabase(path: string, now: () => Date): Database {
  const db = new DatabaseConstructor(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, now);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
