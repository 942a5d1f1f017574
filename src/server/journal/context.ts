import type { Database } from 'better-sqlite3';

/** What the journal's query modules share: the open database and the clock. */
export interface JournalContext {
  readonly db: Database;
  readonly now: () => Date;
}

export const isoNow = (ctx: JournalContext): string => ctx.now().toISOString();
