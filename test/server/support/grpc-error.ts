import type { ServiceError } from '@grpc/grpc-js';
import { FIELD_METADATA } from '../../../src/server/grpc/error-status.js';

export interface CallFailure {
  readonly code: number;
  readonly details: string;
  /** The `desfire-pacs-field` trailer, when the status names a field. */
  readonly field: string | undefined;
}

/** How a call failed (a call that succeeds fails the test). */
export async function callFailure(call: Promise<unknown>): Promise<CallFailure> {
  let error: ServiceError;
  try {
    await call;
    throw new Error('expected the call to fail');
  } catch (e) {
    if (!(e instanceof Error) || !('code' in e) || !('metadata' in e)) throw e;
    error = e as ServiceError;
  }
  const field = error.metadata.get(FIELD_METADATA)[0];
  return { code: error.code, details: error.details, field: field === undefined ? undefined : String(field) };
}

/** Every message of a server stream until it ends (rejects with the stream's status). */
export async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of stream) out.push(m);
  return out;
}
