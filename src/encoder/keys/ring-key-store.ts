import type { Change, KeyRing } from './key-ring.js';
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

/**
 * What every store built on a `KeyRing` shares: diversified card keys (with the audit hook) and
 * the listings are read from the ring; changes are prepared by the ring and handed to `commit`,
 * which each store implements its own way (the file store writes the file first, the memory store
 * just applies them).
 */
export abstract class RingKeyStore implements ManagedKeyStore {
  protected readonly ring: KeyRing;
  readonly #now: () => Date;
  readonly #onKeyUse: KeyUseListener | undefined;

  protected constructor(ring: KeyRing, options: { readonly now?: () => Date; readonly onKeyUse?: KeyUseListener }) {
    this.ring = ring;
    this.#now = options.now ?? (() => new Date());
    this.#onKeyUse = options.onKeyUse;
  }

  /** Applies a change prepared by the ring, the store's way; resolves with its result. */
  protected abstract commit<T>(prepare: () => Change<T>): Promise<T>;

  abstract close(): Promise<void>;

  protected now(): Date {
    return this.#now();
  }

  async cardKey(request: CardKeyRequest): Promise<Uint8Array> {
    const key = this.ring.cardKey(request);
    this.#onKeyUse?.({ keySet: request.keySet, version: request.version, keyRef: request.keyRef, aid: request.aid, uid: request.uid.slice() });
    return key;
  }

  async listKeySets(): Promise<KeySetInfo[]> {
    return this.ring.list();
  }

  async keySet(name: string): Promise<KeySetInfo> {
    return this.ring.info(name);
  }

  async currentVersion(keySet: string): Promise<number> {
    return this.ring.currentVersion(keySet);
  }

  createKeySet(name: string, options: CreateKeySetOptions = {}): Promise<KeySetInfo> {
    return this.commit(() => this.ring.createKeySet(name, options, this.now()));
  }

  addVersion(keySet: string, options: AddVersionOptions = {}): Promise<KeyVersionInfo> {
    return this.commit(() => this.ring.addVersion(keySet, options.makeCurrent ?? false, this.now()));
  }

  setCurrentVersion(keySet: string, version: number): Promise<void> {
    return this.commit(() => this.ring.setCurrentVersion(keySet, version));
  }

  importKeySet(known: KnownKeySet): Promise<KeySetInfo> {
    return this.commit(() => this.ring.importKeySet(known, this.now()));
  }
}
