import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * An error a handler means for the client, with its gRPC status. `field` names the request
 * field at fault (for INVALID_ARGUMENT), in the proto's own spelling, e.g. `cards[3].card_number`.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: GrpcStatus,
    message: string,
    readonly field?: string,
  ) {
    super(field === undefined ? message : `${field}: ${message}`);
  }
}

/** INVALID_ARGUMENT naming the field. */
export function invalidArgument(field: string, message: string): ApiError {
  return new ApiError(GrpcStatus.INVALID_ARGUMENT, message, field);
}

/** NOT_FOUND naming what was looked up. */
export function notFound(message: string, field?: string): ApiError {
  return new ApiError(GrpcStatus.NOT_FOUND, message, field);
}

export function failedPrecondition(message: string): ApiError {
  return new ApiError(GrpcStatus.FAILED_PRECONDITION, message);
}
