/**
 * What can go wrong in the journal. Each code names one cause, so the gRPC error mapper can
 * branch on it (ALREADY_EXISTS, NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT). Messages name
 * batches, cards, card numbers and UIDs, never a key.
 */
export type JournalErrorCode =
  /** The card number is already held by a card of the same profile (pending, encoding, encoded or failed). */
  | 'CARD_NUMBER_TAKEN'
  /** The UID already belongs to a card that is not refused. */
  | 'UID_TAKEN'
  | 'UNKNOWN_BATCH'
  /** A batch with this id exists already. */
  | 'BATCH_EXISTS'
  | 'UNKNOWN_CARD'
  /** A state change the lifecycle does not allow (e.g. an encoded card back to pending). */
  | 'INVALID_TRANSITION'
  /** A page token that is malformed or was made for another filter. */
  | 'INVALID_PAGE_TOKEN'
  /** A malformed argument: card number, UID, page size, empty name. */
  | 'INVALID_ARGUMENT'
  /** The database file has a schema newer than this code knows. */
  | 'SCHEMA_TOO_NEW'
  /** The journal was closed. */
  | 'CLOSED';

export class JournalError extends Error {
  override readonly name = 'JournalError';
  readonly code: JournalErrorCode;

  /** `cause` is kept for logs (a SqliteError). */
  constructor(code: JournalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isJournalError(error: unknown, code?: JournalErrorCode): error is JournalError {
  return error instanceof JournalError && (code === undefined || error.code === code);
}

/**
 * Turns SQLite's unique-constraint failures on cards into typed errors; anything else is
 * returned unchanged (a bug or an I/O failure, for the caller to propagate).
 */
export function fromSqliteError(error: unknown, what: { cardNumber?: string; uid?: string; profile?: string }): unknown {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_UNIQUE') return error;
  if (error.message.includes('cards.card_number')) {
    return new JournalError('CARD_NUMBER_TAKEN', `card number ${what.cardNumber ?? '?'} is already taken in profile ${what.profile ?? '?'}`, { cause: error });
  }
  if (error.message.includes('cards.uid')) {
    return new JournalError('UID_TAKEN', `UID ${what.uid ?? '?'} already belongs to a card`, { cause: error });
  }
  return error;
}
