import type { RandomSource } from '../../desfire/random.js';
import { KeyRing } from './key-ring.js';
import type {
  AddVersionOptions,
  CardKeyRequest,
  CreateKeySetOptions,
  KeySetInfo,
  KeyUseListener,
  KeyVersionInfo,
  KnownKeySet,
  ManagedKeyStore,
} from './key-store.js';

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
export class MemoryKeyStore implements ManagedKeyStore {
  readonly #ring: KeyRing;
  readonly #now: () => Date;
  readonly #onKeyUse: KeyUseListener | undefined;

  constructor(keySets: readonly KnownKeySet[] = [], options: MemoryKeyStoreOptions = {}) {
    this.#ring = new KeyRing(options.random);
    this.#now = options.now ?? (() => new Date());
    this.#onKeyUse = options.onKeyUse;
    try {
      for (const known of keySets) this.#ring.importKeySet(known, this.#now()).apply();
    } catch (error) {
      this.#ring.wipe();
      throw error;
    }
  }

  async cardKey(request: CardKeyRequest): Promise<Uint8Array> {
    const key = this.#ring.cardKey(request);
    this.#onKeyUse?.({ keySet: request.keySet, version: request.version, keyRef: request.keyRef, aid: request.aid, uid: request.uid.slice() });
    return key;
  }

  async listKeySets(): Promise<KeySetInfo[]> {
    return this.#ring.list();
  }

  async keySet(name: string): Promise<KeySetInfo> {
    return this.#ring.info(name);
  }

  async currentVersion(keySet: string): Promise<number> {
    return this.#ring.currentVersion(keySet);
  }

  async createKeySet(name: string, options: CreateKeySetOptions = {}): Promise<KeySetInfo> {
    return applied(this.#ring.createKeySet(name, options, this.#now()));
  }

  async addVersion(keySet: string, options: AddVersionOptions = {}): Promise<KeyVersionInfo> {
    return applied(this.#ring.addVersion(keySet, options.makeCurrent ?? false, this.#now()));
  }

  async setCurrentVersion(keySet: string, version: number): Promise<void> {
    applied(this.#ring.setCurrentVersion(keySet, version));
  }

  async importKeySet(known: KnownKeySet): Promise<KeySetInfo> {
    return applied(this.#ring.importKeySet(known, this.#now()));
  }

  async close(): Promise<void> {
    if (!this.#ring.closed) this.#ring.wipe();
  }
}

function applied<T>(change: { apply(): void; readonly result: T }): T {
  change.apply();
  return change.result;
}
