import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { FIELD_METADATA } from '../../server/grpc/error-status.js';

/** What the operator is told when a call fails, and the exit code. */
export interface CallFailure {
  readonly message: string;
  readonly exitCode: number;
  /** The request field at fault (INVALID_ARGUMENT), from the `desfire-pacs-field` trailer. */
  readonly field?: string;
}

export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number' && 'metadata' in e;
}

/** Statuses that mean the request itself was wrong (a bad value, an unknown batch): like a usage error. */
const USAGE_STATUSES: ReadonlySet<GrpcStatus> = new Set([GrpcStatus.INVALID_ARGUMENT, GrpcStatus.NOT_FOUND]);

/**
 * One line for a failed call: the status name, the field at fault, the service's details (which
 * already start with the field; it is said once). An unreachable service gets the address tried
 * and how to start one.
 */
export function describeCallFailure(e: ServiceError, server: string): CallFailure {
  const name = GrpcStatus[e.code] ?? `status ${e.code}`;
  if (e.code === GrpcStatus.UNAVAILABLE) {
    return {
      message: `the service is not reachable at ${server} (UNAVAILABLE: ${e.details}); start it with "npm start", or give its address with --server or DESFIRE_PACS_SERVER`,
      exitCode: 1,
    };
  }
  const field = e.metadata.get(FIELD_METADATA)[0]?.toString();
  const details = field !== undefined && e.details.startsWith(`${field}: `) ? e.details.slice(field.length + 2) : e.details;
  return {
    message: field === undefined ? `${name}: ${details}` : `${name}, field ${field}: ${details}`,
    exitCode: USAGE_STATUSES.has(e.code) ? 2 : 1,
    ...(field === undefined ? {} : { field }),
  };
}
