import type { Database } from 'better-sqlite3';
import { JournalError } from './errors.js';

export interface Migration {
  /** 1, 2, 3...: applied in order, each exactly once. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The schema, as numbered migrations. Never edit a released migration: add the next one.
 * Tables are STRICT; no table holds key material (audit rows name key sets, versions and refs).
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'batches, cards, steps, audit events',
    sql: `
      CREATE TABLE batches (
        id          TEXT PRIMARY KEY,
        profile     TEXT NOT NULL,
        key_set     TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('created', 'running', 'completed', 'cancelled')),
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;

      CREATE TABLE cards (
        id          INTEGER PRIMARY KEY,
        uid         TEXT CHECK (uid IS NULL OR (length(uid) IN (8, 14, 20) AND uid NOT GLOB '*[^0-9A-F]*')),
        card_number TEXT NOT NULL CHECK (card_number NOT GLOB '*[^0-9]*' AND card_number NOT GLOB '0*'),
        profile     TEXT NOT NULL,
        batch_id    TEXT REFERENCES batches (id),
        key_set     TEXT,
        key_version INTEGER CHECK (key_version BETWEEN 1 AND 255),
        data        TEXT,
        state       TEXT NOT NULL CHECK (state IN ('pending', 'encoding', 'encoded', 'failed', 'refused')),
        detail      TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        encoded_at  TEXT
      ) STRICT;
      -- No card number twice in a profile (the profile names the issuer's system), except
      -- refused cards, whose number goes back to the pool.
      CREATE UNIQUE INDEX cards_profile_number ON cards (profile, card_number) WHERE state <> 'refused';
      CREATE UNIQUE INDEX cards_uid ON cards (uid) WHERE uid IS NOT NULL AND state <> 'refused';
      CREATE INDEX cards_uid_all ON cards (uid, id);
      CREATE INDEX cards_batch ON cards (batch_id, id);
      CREATE INDEX cards_state ON cards (state, id);
      CREATE INDEX cards_number ON cards (card_number, id);

      CREATE TABLE steps (
        id      INTEGER PRIMARY KEY,
        card_id INTEGER NOT NULL REFERENCES cards (id),
        uid     TEXT NOT NULL,
        step    TEXT NOT NULL,
        phase   TEXT NOT NULL CHECK (phase IN ('started', 'completed', 'skipped', 'failed')),
        detail  TEXT,
        at      TEXT NOT NULL
      ) STRICT;
      CREATE INDEX steps_card ON steps (card_id, id);

      CREATE TABLE audit_events (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        purpose     TEXT NOT NULL,
        key_set     TEXT NOT NULL,
        key_version INTEGER NOT NULL,
        key_ref     TEXT NOT NULL,
        aid         INTEGER NOT NULL,
        uid         TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_events_uid ON audit_events (uid, id);
    `,
  },
  {
    version: 2,
    name: 'profiles',
    sql: `
      -- Encoding profiles beside the cards encoded with them, so "no card uses this profile"
      -- and its replacement are one transaction, and replicas sharing the journal share profiles.
      CREATE TABLE profiles (
        name       TEXT PRIMARY KEY,
        profile    TEXT NOT NULL CHECK (json_valid(profile)), -- the Profile message, protobuf JSON
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'cards by batch and state',
    // A claim takes the batch's lowest pending card, and progress counts a batch's cards per
    // state: without this index both walk every card of the batch, so claims in a 50000-card
    // batch slow down as it is encoded.
    sql: `CREATE INDEX cards_batch_state ON cards (batch_id, state, id);`,
  },
]);

/**
 * Brings the database to the newest schema: creates `schema_migrations`, then applies each
 * migration not yet recorded there, each in its own transaction with its row. Idempotent.
 * Returns the schema version. SCHEMA_TOO_NEW when the file was migrated by newer code.
 */
export function migrate(db: Database, now: () => Date, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]),
  );
  const newest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const highest = Math.max(0, ...applied);
  if (highest > newest) {
    throw new JournalError('SCHEMA_TOO_NEW', `journal schema version ${highest} is newer than this code's ${newest}`);
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    // IMMEDIATE: a second process opening the same file waits instead of migrating twice.
    db.transaction(() => {
      const again = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version);
      if (again) return;
      db.exec(m.sql);
      record.run(m.version, m.name, now().toISOString());
    }).immediate();
  }
  return schemaVersion(db);
}

export function schemaVersion(db: Database): number {
  return (db.prepare('SELECT coalesce(max(version), 0) FROM schema_migrations').pluck().get() as number);
}
