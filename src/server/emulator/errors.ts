/**
 * What can go wrong with the virtual card store. Each code names one cause, so the gRPC error
 * mapper can branch on it; `field` names the request field at fault in the proto's spelling
 * (`uid`, `faults.delay_ms`, `image.applications[0].keys`), for INVALID_ARGUMENT and NOT_FOUND.
 * Messages name cards and UIDs, never keys or image contents.
 */
export type VirtualCardStoreErrorCode =
  | 'UNKNOWN_CARD'
  /** Another stored card has this UID. */
  | 'UID_TAKEN'
  /** A card image that does not load (the field says where). */
  | 'INVALID_IMAGE'
  | 'INVALID_ARGUMENT'
  /** The database file has a schema newer than this code knows. */
  | 'SCHEMA_TOO_NEW'
  | 'CLOSED';

export class VirtualCardStoreError extends Error {
  override readonly name = 'VirtualCardStoreError';
  readonly code: VirtualCardStoreErrorCode;
  readonly field: string | undefined;

  constructor(code: VirtualCardStoreErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
}

export function isVirtualCardStoreError(error: unknown, code?: VirtualCardStoreErrorCode): error is VirtualCardStoreError {
  return error instanceof VirtualCardStoreError && (code === undefined || error.code === code);
}

export const unknownCard = (id: string): VirtualCardStoreError => new VirtualCardStoreError('UNKNOWN_CARD', `no virtual card ${id}`, { field: 'card_id' });

export const invalidArgument = (field: string, problem: string): VirtualCardStoreError =>
  new VirtualCardStoreError('INVALID_ARGUMENT', `${field}: ${problem}`, { field });
