import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { isDesfireError } from '../../desfire/errors.js';
import { KeyStoreError } from '../../encoder/keys/errors.js';
import { PersonalizationError } from '../../encoder/personalize/personalization-error.js';
import { formatIssue, isProfileError } from '../../encoder/profile/profile-error.js';
import { TransportError } from '../../encoder/transport-error.js';
import { VirtualCardStoreError, type VirtualCardStoreErrorCode } from '../emulator/errors.js';
import { JournalError, type JournalErrorCode } from '../journal/errors.js';
import { ApiError } from './api-error.js';

/** Trailing metadata keys clients can branch on. */
export const FIELD_METADATA = 'desfire-pacs-field';
export const DESFIRE_STATUS_METADATA = 'desfire-status';

const JOURNAL_STATUS: Readonly<Record<JournalErrorCode, GrpcStatus>> = {
  CARD_NUMBER_TAKEN: GrpcStatus.ALREADY_EXISTS,
  UID_TAKEN: GrpcStatus.ALREADY_EXISTS,
  UNKNOWN_BATCH: GrpcStatus.NOT_FOUND,
  BATCH_EXISTS: GrpcStatus.ALREADY_EXISTS,
  UNKNOWN_CARD: GrpcStatus.NOT_FOUND,
  INVALID_TRANSITION: GrpcStatus.FAILED_PRECONDITION,
  INVALID_PAGE_TOKEN: GrpcStatus.INVALID_ARGUMENT,
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  SCHEMA_TOO_NEW: GrpcStatus.FAILED_PRECONDITION,
  CLOSED: GrpcStatus.UNAVAILABLE,
};

const KEY_STORE_STATUS: Partial<Record<KeyStoreError['code'], GrpcStatus>> = {
  UNKNOWN_KEY_SET: GrpcStatus.NOT_FOUND,
  UNKNOWN_VERSION: GrpcStatus.NOT_FOUND,
  UNKNOWN_KEY_REF: GrpcStatus.NOT_FOUND,
  KEY_SET_EXISTS: GrpcStatus.ALREADY_EXISTS,
  VERSION_LIMIT: GrpcStatus.RESOURCE_EXHAUSTED,
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  FILE_CHANGED: GrpcStatus.ABORTED,
  CLOSED: GrpcStatus.UNAVAILABLE,
};

const VIRTUAL_CARD_STATUS: Readonly<Record<VirtualCardStoreErrorCode, GrpcStatus>> = {
  UNKNOWN_CARD: GrpcStatus.NOT_FOUND,
  UID_TAKEN: GrpcStatus.ALREADY_EXISTS,
  INVALID_IMAGE: GrpcStatus.INVALID_ARGUMENT,
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  SCHEMA_TOO_NEW: GrpcStatus.FAILED_PRECONDITION,
  CLOSED: GrpcStatus.UNAVAILABLE,
};

/** What the client is told and what only the logs get. */
export interface MappedError {
  readonly error: Partial<ServiceError>;
  /** True when the error was not one we mean for clients: log it with its stack. */
  readonly unexpected: boolean;
}

/**
 * The one place where anything a handler throws becomes a gRPC status. Known errors get a precise
 * code and their own message (which never holds key material, by each type's contract); field
 * errors name the field, in the message and in `desfire-pacs-field` metadata; card refusals carry
 * the DESFire status name in `desfire-status`. Anything else is INTERNAL with a generic message,
 * the cause going only to the logs.
 */
export function toServiceError(e: unknown): MappedError {
  const metadata = new Metadata();
  const known = (code: GrpcStatus, details: string): MappedError => ({ error: { code, details, metadata }, unexpected: false });
  if (e instanceof ApiError) {
    if (e.field !== undefined) metadata.set(FIELD_METADATA, e.field);
    return known(e.code, e.message);
  }
  if (isProfileError(e)) {
    const first = e.issues[0];
    if (first.path !== '') metadata.set(FIELD_METADATA, first.path);
    return known(GrpcStatus.INVALID_ARGUMENT, `${e.subject}: ${e.issues.map(formatIssue).join('; ')}`);
  }
  if (e instanceof JournalError) return known(JOURNAL_STATUS[e.code], e.message);
  if (e instanceof VirtualCardStoreError) {
    if (e.field !== undefined) metadata.set(FIELD_METADATA, e.field);
    return known(VIRTUAL_CARD_STATUS[e.code], e.message);
  }
  if (e instanceof KeyStoreError) {
    const code = KEY_STORE_STATUS[e.code];
    return code === undefined ? { error: { code: GrpcStatus.INTERNAL, details: 'key store failure', metadata }, unexpected: true } : known(code, e.message);
  }
  if (isDesfireError(e)) {
    metadata.set(DESFIRE_STATUS_METADATA, e.statusName);
    return known(GrpcStatus.FAILED_PRECONDITION, `card ${e.origin === 'card' ? 'refused' : 'answer rejected'}: ${e.message}`);
  }
  if (e instanceof PersonalizationError) return known(GrpcStatus.FAILED_PRECONDITION, e.message);
  if (e instanceof TransportError) return known(GrpcStatus.UNAVAILABLE, `card link lost: ${e.message}`);
  return { error: { code: GrpcStatus.INTERNAL, details: 'internal error', metadata }, unexpected: true };
}
