/**
 * The reader side's key store (ARCHITECTURE.md §3, §6): diversified card keys out, masters never.
 * This is the module's public face; `key-ring.ts` (the masters) and the key file's
 * encrypt/decrypt functions are internal and not exported here.
 */
export { KeyStoreError, isKeyStoreError, type KeyStoreErrorCode } from './errors.js';
export {
  GENERIC_PACS_KEY_REFS,
  MAX_APPLICATION_KEYS,
  MAX_KEY_VERSION,
  PICC_MASTER_KEY,
  type AddVersionOptions,
  type CardKeyRequest,
  type CreateKeySetOptions,
  type KeyRef,
  type KeySetInfo,
  type KeyStore,
  type KeyUseEvent,
  type KeyUseListener,
  type KeyVersionInfo,
  type KnownKeySet,
  type KnownKeyVersion,
  type ManagedKeyStore,
} from './key-store.js';
export {
  DEFAULT_SCRYPT,
  KEK_LENGTH,
  KEY_FILE_FORMAT,
  KEY_FILE_VERSION,
  MIN_PASSPHRASE_LENGTH,
  type KeyFileSecret,
  type ScryptParams,
} from './key-file.js';
export { FileKeyStore, type FileKeyStoreOptions } from './file-key-store.js';
export { MemoryKeyStore, type MemoryKeyStoreOptions } from './memory-key-store.js';
export { KEK_ENV, PASSPHRASE_ENV, parseKek, secretFromEnvironment, type ResolvedSecret } from './secret.js';
