import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { FileKeyStore, type ScryptParams } from '../encoder/keys/index.js';
import { keyRefOf } from '../encoder/profile/profile-view.js';
import type { Profile } from '../gen/desfirepacs/v1/profile_pb.js';
import { currentAudit } from './audit-context.js';
import { Closers } from './closers.js';
import type { Environment } from './config/load-config.js';
import { Journal } from './journal/index.js';
import { keyFileSecret } from './key-secret.js';
import { ProfileStore } from './profiles/profile-store.js';
import { loadShippedProfile } from './profiles/shipped-profiles.js';

/** What a data directory holds, by file name. */
export const DATA_FILES = Object.freeze({
  journal: 'journal.db',
  keys: 'keys.json',
  kek: 'kek',
  virtualCards: 'virtual-cards.db',
});

/** The profile a new data directory starts with, and whose key sets it gets. */
export const STARTER_PROFILE = 'generic-pacs-v1';

export interface DataDirOptions {
  /** Absolute path; created (0700) when missing. */
  readonly path: string;
  readonly logger: Logger;
  /** Where the key file's secret is looked for (default `process.env`). */
  readonly env?: Environment;
  /** scrypt cost of a new key file locked with a passphrase (tests lower it). */
  readonly scrypt?: ScryptParams;
}

/** The open stores of a data directory. */
export interface DataDir {
  readonly path: string;
  readonly journal: Journal;
  /** Every card key it hands out is an audit row in the journal, with the flow's `currentAudit()`. */
  readonly keys: FileKeyStore;
  readonly profiles: ProfileStore;
  /** Where the emulator keeps its virtual cards. */
  readonly virtualCardsPath: string;
  /** Closes the stores (wipes the keys held in memory). */
  close(): Promise<void>;
}

/**
 * Opens the service's data directory, making what is missing on first start: the directory, the
 * journal, the encrypted key file with development key sets for generic-pacs-v1 (random masters,
 * drawn in the key store), and generic-pacs-v1 in the profile store. Later starts open what exists
 * and change nothing. On failure, whatever was opened is closed again.
 */
export async function openDataDir(options: DataDirOptions): Promise<DataDir> {
  const { path, logger } = options;
  await mkdir(path, { recursive: true, mode: 0o700 });
  const opened = new Closers();
  const close = () => opened.closeAll();
  try {
    const journal = Journal.open({ path: join(path, DATA_FILES.journal) });
    opened.add(() => journal.close());
    const profiles = ProfileStore.open(journal.path);
    opened.add(() => profiles.close());
    const keyFile = join(path, DATA_FILES.keys);
    const secret = await keyFileSecret({ env: options.env ?? process.env, kekFile: join(path, DATA_FILES.kek), keyFile, logger });
    const storeOptions = { onKeyUse: journal.keyUseListener(currentAudit), scrypt: options.scrypt };
    const firstStart = !existsSync(keyFile);
    const keys = firstStart ? await FileKeyStore.create(keyFile, secret, storeOptions) : await FileKeyStore.open(keyFile, secret, storeOptions);
    opened.add(() => keys.close());
    if (secret.kind === 'kek') secret.kek.fill(0);

    if (!profiles.has(STARTER_PROFILE)) {
      profiles.put(await loadShippedProfile(STARTER_PROFILE));
      logger.info({ profile: STARTER_PROFILE }, `profile ${STARTER_PROFILE} stored`);
    }
    // A key file without key sets is a first start cut short (the file is written before its first set).
    if ((await keys.listKeySets()).length === 0) {
      for (const [name, applicationKeys] of keySetsOf(profiles.get(STARTER_PROFILE))) {
        await keys.createKeySet(name, { applicationKeys });
        logger.info({ keySet: name }, `key set "${name}" made with random masters, for ${STARTER_PROFILE}`);
      }
    }
    logger.info({ dataDir: path, firstStart }, firstStart ? `new data directory ${path}` : `data directory ${path} opened`);
    return { path, journal, keys, profiles, virtualCardsPath: join(path, DATA_FILES.virtualCards), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The key sets a profile's keys come from, each with the application keys it needs (highest key ref + 1). */
export function keySetsOf(profile: Profile): Map<string, number> {
  const sets = new Map<string, number>();
  const need = (name: string, applicationKeys: number) => sets.set(name, Math.max(sets.get(name) ?? 1, applicationKeys));
  if (profile.picc?.masterKey) need(profile.picc.masterKey.keySet, 1);
  for (const app of profile.applications) for (const key of app.keys) need(key.keySet, keyRefOf(key) + 1);
  return sets;
}
