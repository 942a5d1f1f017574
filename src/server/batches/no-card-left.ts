import { status as GrpcStatus } from '@grpc/grpc-js';
import { ApiError } from '../grpc/api-error.js';

/**
 * No card number to give the presented card: no open batch has one left, or the batch named has
 * none left. FAILED_PRECONDITION for a client; an idle signal for a station.
 */
export class NoCardLeft extends ApiError {
  constructor(batchId?: string) {
    super(GrpcStatus.FAILED_PRECONDITION, batchId === undefined ? 'no open batch has a card number left' : `batch ${batchId} has no card number left`);
  }
}
