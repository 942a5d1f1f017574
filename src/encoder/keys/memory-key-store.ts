import type { RandomSource } from '../../desfire/random.js';
import { KeyRing, type Change } from './key-ring.js';
import type { KeyUseListener, KnownKeySet } from './key-store.js';
import { RingKeyStore } from './ring-key-store.js';

export interface MemoryKeyStoreOptions {
  readonly random?: RandomSource;
  readonly now?: () => Date;
  readonly onKeyUse?: KeyUseListener;
}

/**
 * A key store held in memory only, built from explicit masters (published test keys, a
 * test's fixed keys) and/or filled with random ones; nothing is persisted. For tests, demos and
 * the emulator's walk-throughs; the `keys` CLI does not offer it. The masters given are copied
 * (the caller may wipe its arrays) and, as in every store, never returned.
 */
export class MemoryKeyStore extends RingKeyStore {
  constructor(keySets: readonly KnownKeySet[] = [], options: MemoryKeyStoreOptions = {}) {
    super(new KeyRing(options.random), options);
    try {
      for (const known of keySets) this.ring.importKeySet(known, this.now()).apply();
    } catch (error) {
      this.ring.wipe();
      throw error;
    }
  }

  protected async commit<T>(prepare: () => Change<T>): Promise<T> {
    const change = prepare();
    change.apply();
    return change.result;
  }

  async close(): Promise<void> {
    if (!this.ring.closed) this.ring.wipe();
  }
}
