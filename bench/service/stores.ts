import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeyStore, type KeyUseListener } from '../../src/encoder/keys/index.js';
import type { Profile } from '../../src/gen/desfirepacs/v1/profile_pb.js';
import { currentAudit } from '../../src/server/audit-context.js';
import { keySetsOf, STARTER_PROFILE } from '../../src/server/data-dir.js';
import { notFound } from '../../src/server/grpc/api-error.js';
import { Journal } from '../../src/server/journal/index.js';
import { loadShippedProfile } from '../../src/server/profiles/shipped-profiles.js';

/** Where the journal lives: a file as the service keeps it (WAL, synchronous = FULL), or in memory. */
export type JournalKind = 'durable' | 'memory';

/**
 * The stores a benchmark runs the service's code on, in a temporary directory: the journal,
 * generic-pacs-v1, and its key sets with random masters. As in the service, every card key handed
 * out is an audit row in the journal, under the flow's audit context. The key store is held in
 * memory (the service's key file only differs when it is opened), and profiles come from memory
 * instead of the journal's profile table (one indexed read per card or door).
 */
export interface BenchStores {
  readonly dir: string;
  readonly journal: Journal;
  readonly keyStore: MemoryKeyStore;
  readonly profile: Profile;
  readonly profiles: { get(name: string, field?: string): Profile };
  /** Key-use audit rows committed so far, and the time spent committing them (on the event loop, as in the service). */
  readonly audit: { rows: number; ns: bigint };
  /** Closes the stores and removes the directory. */
  close(): Promise<void>;
}

export async function openBenchStores(journalKind: JournalKind): Promise<BenchStores> {
  const dir = mkdtempSync(join(tmpdir(), 'desfire-pacs-bench-'));
  const journal = Journal.open({ path: journalKind === 'durable' ? join(dir, 'journal.db') : ':memory:' });
  const profile = await loadShippedProfile(STARTER_PROFILE);
  const audit = { rows: 0, ns: 0n };
  const record = journal.keyUseListener(currentAudit);
  const onKeyUse: KeyUseListener = (event) => {
    const start = process.hrtime.bigint();
    record(event);
    audit.ns += process.hrtime.bigint() - start;
    audit.rows++;
  };
  const keyStore = new MemoryKeyStore([], { onKeyUse });
  for (const [name, applicationKeys] of keySetsOf(profile)) await keyStore.createKeySet(name, { applicationKeys });
  return {
    dir,
    journal,
    keyStore,
    profile,
    audit,
    profiles: {
      get: (name, field = 'name') => {
        if (name !== profile.name) throw notFound(`no profile "${name}"`, field);
        return profile;
      },
    },
    close: async () => {
      await keyStore.close();
      journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
