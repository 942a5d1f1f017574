import DatabaseConstructor, { type Database } from 'better-sqlite3';
import { VirtualCardStoreError } from './errors.js';

/**
 * The store's schema, one statement list per version, applied in order and recorded in SQLite's
 * `user_version`. Never edit a released version: add the next one. The image column holds the
 * card's whole persistent state (keys included: these are test cards); the other columns repeat
 * what listings show, so a page of cards never parses images.
 */
const SCHEMA: readonly string[] = [
  `CREATE TABLE virtual_cards (
     id              TEXT PRIMARY KEY,
     uid             TEXT NOT NULL UNIQUE CHECK (length(uid) = 14 AND uid NOT GLOB '*[^0-9a-f]*'),
     capacity_bytes  INTEGER NOT NULL,
     random_uid      INTEGER NOT NULL CHECK (random_uid IN (0, 1)),
     application_ids TEXT NOT NULL,
     tear_at_write   INTEGER NOT NULL CHECK (tear_at_write >= 0),
     delay_ms        INTEGER NOT NULL CHECK (delay_ms >= 0),
     station_id      TEXT,
     created_at      TEXT NOT NULL,
     image           TEXT NOT NULL
   ) STRICT;
   CREATE INDEX virtual_cards_station ON virtual_cards (station_id, id);`,
];

/**
 * Opens (creating if needed) the store's SQLite file, or an in-memory database for ":memory:",
 * and brings its schema up to date. WAL with `synchronous = NORMAL`: a commit is in the WAL file
 * when the statement returns, so it survives the process being killed (SIGKILL, a crash); only an
 * OS crash or power loss may drop the last commits, which is fine for test cards and spares an
 * fsync per card write. A busy timeout, so a second connection (a reader) waits instead of failing.
 */
export function openDatabase(path: string): Database {
  const db = new DatabaseConstructor(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function migrate(db: Database): void {
  // IMMEDIATE: a second connection opening the same file waits instead of migrating twice.
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA.length) {
      throw new VirtualCardStoreError('SCHEMA_TOO_NEW', `virtual card store schema version ${version} is newer than this code's ${SCHEMA.length}`);
    }
    for (const sql of SCHEMA.slice(version)) db.exec(sql);
    db.pragma(`user_version = ${SCHEMA.length}`);
  }).immediate();
}
