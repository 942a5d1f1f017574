/**
 * The reader side's keys. A key store holds AES-128 master keys and hands out only card keys
 * diversified from them (NXP AN10922 §2.2): the personalizer writes those to a card, the door
 * authenticator authenticates with them. No call returns a master key, in any implementation:
 * the encrypted key file (`FileKeyStore`, the embedded default), keys given in memory
 * (`MemoryKeyStore`, for tests and known test keys), and later a PKCS#11 store whose
 * diversification runs inside the HSM.
 *
 * Organisation: named key sets (e.g. "dev", "site-a"), each with numbered versions 1..255 (the
 * DESFire key version written to the card with the key; 0 is the factory's) and one current
 * version. A version holds master keys by key ref: the PICC master key, and the application
 * keys by key number (0 the application master key, 1.. the others). AN10922 mixes the
 * application's AID into each card key, so one key set can serve several applications.
 */

/** The PICC master key (the card level, AID 0x000000), or an application key by number (0..13). */
export type KeyRef = 'picc' | number;

export const PICC_MASTER_KEY = 'picc' satisfies KeyRef;

/** The most keys a DESFire application has (key numbers 0..13). */
export const MAX_APPLICATION_KEYS = 14;

/** Highest key version (a byte on the card); versions are numbered from 1. */
export const MAX_KEY_VERSION = 255;

/**
 * The key refs of the generic encoding (`profiles/generic-pacs-v1`, ARCHITECTURE.md §4):
 * a key set made with the default options holds exactly these.
 */
export const GENERIC_PACS_KEY_REFS = Object.freeze({
  piccMaster: PICC_MASTER_KEY,
  applicationMaster: 0,
  doorRead: 1,
  issuerWrite: 2,
} as const);

/** What a card key is diversified for. */
export interface CardKeyRequest {
  readonly keySet: string;
  /** 1..255; no default: the caller writes or checks this version on the card. */
  readonly version: number;
  readonly keyRef: KeyRef;
  /** The card's UID (7 bytes for DESFire EV3; 4 and 10 are accepted). */
  readonly uid: Uint8Array;
  /** The application's AID (0x000000 for the PICC master key, by convention). */
  readonly aid: number;
  /** The issuer's system identifier, appended to the diversification input (may be empty). */
  readonly systemIdentifier: Uint8Array;
}

/** A version of a key set, without its keys. */
export interface KeyVersionInfo {
  readonly version: number;
  /** ISO 8601, when the version was made. */
  readonly createdAt: string;
  /** The keys this version holds: 'picc' first when present, then application key numbers in order. */
  readonly keyRefs: readonly KeyRef[];
}

/** A key set, without its keys. */
export interface KeySetInfo {
  readonly name: string;
  readonly currentVersion: number;
  /** In increasing order. */
  readonly versions: readonly KeyVersionInfo[];
}

/** Told of every card key handed out (the audit trail of ARCHITECTURE.md §6); never holds a key. */
export interface KeyUseEvent {
  readonly keySet: string;
  readonly version: number;
  readonly keyRef: KeyRef;
  readonly aid: number;
  readonly uid: Uint8Array;
}

export type KeyUseListener = (event: KeyUseEvent) => void;

/**
 * The contract the personalizer and the door authenticator use. Every method is async, so an
 * HSM-backed store fits the same interface.
 */
export interface KeyStore {
  /**
   * The 16-byte AES card key: AN10922 AES-128 diversification of the master (`keySet`,
   * `version`, `keyRef`) over M = UID || AID (LSB first) || system identifier. The caller owns
   * the array and should wipe it once the key is no longer needed.
   * Throws `KeyStoreError` (UNKNOWN_KEY_SET, UNKNOWN_VERSION, UNKNOWN_KEY_REF, INVALID_ARGUMENT, CLOSED).
   */
  cardKey(request: CardKeyRequest): Promise<Uint8Array>;
  /** Every key set, by name, without secrets. */
  listKeySets(): Promise<KeySetInfo[]>;
  /** One key set without secrets; UNKNOWN_KEY_SET when absent. */
  keySet(name: string): Promise<KeySetInfo>;
  /** The version new cards get; UNKNOWN_KEY_SET when absent. */
  currentVersion(keySet: string): Promise<number>;
  /** Wipes the keys held in memory; every later call fails with CLOSED. Idempotent. */
  close(): Promise<void>;
}

export interface CreateKeySetOptions {
  /** Application keys 0..n-1 (1..14; default 3: application master, door read, issuer write). */
  readonly applicationKeys?: number;
  /** Whether the set has a PICC master key (default true). */
  readonly picc?: boolean;
}

export interface AddVersionOptions {
  /** Make the new version the current one (default false: rotate later with `setCurrentVersion`). */
  readonly makeCurrent?: boolean;
}

/** Masters given explicitly, e.g. published test keys, or keys migrated from another system. */
export interface KnownKeyVersion {
  readonly version: number;
  readonly picc?: Uint8Array;
  /** Application keys by key number, 0 first (1..14 keys of 16 bytes). */
  readonly applicationKeys: readonly Uint8Array[];
  /** ISO 8601; default: now. */
  readonly createdAt?: string;
}

export interface KnownKeySet {
  readonly name: string;
  readonly versions: readonly KnownKeyVersion[];
  /** Default: the highest version given. */
  readonly currentVersion?: number;
}

/**
 * Key management: what an administrator (the `keys` CLI, later `KeyService`) does. New masters
 * come from `crypto.randomBytes` and never leave the store either.
 */
export interface ManagedKeyStore extends KeyStore {
  /** A new key set with version 1 (current) of random masters; KEY_SET_EXISTS when the name is taken. */
  createKeySet(name: string, options?: CreateKeySetOptions): Promise<KeySetInfo>;
  /** A new version (highest + 1) of random masters with the same key refs as the current version. */
  addVersion(keySet: string, options?: AddVersionOptions): Promise<KeyVersionInfo>;
  setCurrentVersion(keySet: string, version: number): Promise<void>;
  /** Adds a key set from explicit masters (test keys, migration); not offered by the CLI. */
  importKeySet(known: KnownKeySet): Promise<KeySetInfo>;
}
