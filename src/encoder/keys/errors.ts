/**
 * What can go wrong in a key store. Each code names one cause, so callers (the CLI, the gRPC
 * error mapper) can branch on it; messages name key sets, versions, key refs and files, never a
 * key, a passphrase or a key-encryption key.
 */
export type KeyStoreErrorCode =
  /** The passphrase or key-encryption key is wrong, or the file was altered: the AES-GCM tag did not verify, or the file is not byte for byte what we write. The two cannot be told apart, by design. */
  | 'WRONG_SECRET_OR_TAMPERED'
  /** No passphrase or key-encryption key was given, the one given has the wrong form (KEK not 64 hex digits, passphrase too short for a new file), or it is not the kind the file needs. */
  | 'BAD_SECRET'
  /** The file is not a key file of ours, or its structure is invalid. */
  | 'MALFORMED_FILE'
  /** A key file of a format version this code does not know. */
  | 'UNSUPPORTED_FORMAT'
  | 'FILE_NOT_FOUND'
  | 'FILE_EXISTS'
  /** The file changed on disk since this store read it (another process wrote it); nothing was written. */
  | 'FILE_CHANGED'
  /** Reading or writing the file failed (permissions, disk full...). */
  | 'IO_ERROR'
  | 'UNKNOWN_KEY_SET'
  | 'UNKNOWN_VERSION'
  | 'UNKNOWN_KEY_REF'
  | 'KEY_SET_EXISTS'
  /** A key set has 255 versions: a DESFire key version is one byte and 0 is the factory's. */
  | 'VERSION_LIMIT'
  /** A malformed request: bad key set name, UID, AID, key ref, option. */
  | 'INVALID_ARGUMENT'
  /** The store was closed (its keys wiped). */
  | 'CLOSED';

export class KeyStoreError extends Error {
  override readonly name = 'KeyStoreError';
  readonly code: KeyStoreErrorCode;

  /** `cause` is kept for logs (an fs or JSON error); it never holds key material. */
  constructor(code: KeyStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isKeyStoreError(error: unknown, code?: KeyStoreErrorCode): error is KeyStoreError {
  return error instanceof KeyStoreError && (code === undefined || error.code === code);
}
