import { equals, fromJsonString, toJsonString } from '@bufbuild/protobuf';
import type { Database, Statement } from 'better-sqlite3';
import { validateProfile } from '../../encoder/profile/validate.js';
import { ProfileSchema, type Profile } from '../../gen/desfirepacs/v1/profile_pb.js';
import { failedPrecondition, notFound } from '../grpc/api-error.js';
import { openDatabase } from '../journal/database.js';
import { JournalError } from '../journal/errors.js';

export interface PutProfileResult {
  /** As stored. */
  readonly profile: Profile;
  /** True when an earlier, different profile of the same name was replaced. */
  readonly replaced: boolean;
}

export interface ProfileStoreOptions {
  /** The clock for created/updated times (tests pin it). */
  readonly now?: () => Date;
}

/**
 * The encoding profiles, in the journal's `profiles` table (migration 2), as protobuf JSON.
 * They live in the journal, not in files, so that checking that no card uses a profile and
 * replacing it are one transaction, and service replicas sharing a journal share profiles.
 * The store has its own connection to the journal's file (WAL lets several connections share
 * it), so the journal file must be a real file, not ":memory:".
 */
export class ProfileStore {
  #db: Database | undefined;
  readonly #now: () => Date;
  /** Prepared once: every door authentication and every encoded card reads its profile. */
  readonly #profileText: Statement<[string], string>;

  private constructor(db: Database, now: () => Date) {
    this.#db = db;
    this.#now = now;
    this.#profileText = db.prepare<[string], string>('SELECT profile FROM profiles WHERE name = ?').pluck();
  }

  /** Opens the store in the journal file at `path` (creating and migrating it if needed). */
  static open(path: string, options: ProfileStoreOptions = {}): ProfileStore {
    const now = options.now ?? (() => new Date());
    return new ProfileStore(openDatabase(path, now), now);
  }

  /** The profile called `name`; NOT_FOUND naming `field` when there is none. */
  get(name: string, field = 'name'): Profile {
    this.#open();
    const text = this.#profileText.get(name);
    if (text === undefined) throw notFound(`no profile "${name}"`, field);
    return fromJsonString(ProfileSchema, text);
  }

  has(name: string): boolean {
    return this.#open().prepare('SELECT 1 FROM profiles WHERE name = ?').get(name) !== undefined;
  }

  /** Every profile, in name order. */
  list(): Profile[] {
    const texts = this.#open().prepare('SELECT profile FROM profiles ORDER BY name').pluck().all() as string[];
    return texts.map((text) => fromJsonString(ProfileSchema, text));
  }

  /**
   * Stores a valid profile (ProfileError listing every problem otherwise) under its name.
   * A profile some card uses (any card of the journal not refused, pending batch cards
   * included) cannot be replaced by a different one: FAILED_PRECONDITION, publish a new name.
   * Storing exactly the profile already stored changes nothing, so a retried put succeeds.
   */
  put(profile: Profile): PutProfileResult {
    validateProfile(profile);
    const db = this.#open();
    const text = toJsonString(ProfileSchema, profile);
    return db
      .transaction((): PutProfileResult => {
        const stored = this.#profileText.get(profile.name);
        const at = this.#now().toISOString();
        if (stored === undefined) {
          db.prepare('INSERT INTO profiles (name, profile, created_at, updated_at) VALUES (?, ?, ?, ?)').run(profile.name, text, at, at);
          return { profile, replaced: false };
        }
        if (equals(ProfileSchema, fromJsonString(ProfileSchema, stored), profile)) return { profile, replaced: false };
        const cards = db.prepare("SELECT count(*) FROM cards WHERE profile = ? AND state <> 'refused'").pluck().get(profile.name) as number;
        if (cards > 0) {
          throw failedPrecondition(`profile "${profile.name}" is used by ${cards} card${cards === 1 ? '' : 's'} and cannot be replaced: store the new version under a new name`);
        }
        db.prepare('UPDATE profiles SET profile = ?, updated_at = ? WHERE name = ?').run(text, at, profile.name);
        return { profile, replaced: true };
      })
      .immediate();
  }

  /** Closes the store's connection; later calls fail with CLOSED. Idempotent. */
  close(): void {
    this.#db?.close();
    this.#db = undefined;
  }

  #open(): Database {
    if (!this.#db) throw new JournalError('CLOSED', 'the profile store is closed');
    return this.#db;
  }
}
