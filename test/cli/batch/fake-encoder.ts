import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { BatchSchema, BatchState, EncoderService, type Batch } from '../../../src/gen/desfirepacs/v1/encoder_pb.js';
import { addService } from '../../../src/server/grpc/add-service.js';
import { ApiError } from '../../../src/server/grpc/api-error.js';
import type { ServiceImpl } from '../../../src/server/grpc/service-impl.js';
import { startLoopbackServer } from '../../../src/server/grpc/loopback-server.js';

type Impl = ServiceImpl<typeof EncoderService>;
type RequestOf<K extends keyof Impl> = Parameters<Impl[K]>[0];

/**
 * An EncoderService of the test's own making on a real grpc-js server (127.0.0.1, port 0), through
 * the service's own adapter and error mapper: the methods a test gives answer, the others are
 * UNIMPLEMENTED. Every request is kept, per method, so tests can check what the CLI sent.
 */
export interface FakeEncoder {
  readonly address: string;
  requests<K extends keyof Impl>(method: K): RequestOf<K>[];
  close(): Promise<void>;
}

export async function startFakeEncoder(handlers: Partial<Impl>): Promise<FakeEncoder> {
  const received = new Map<string, unknown[]>();
  const impl: Record<string, (request: unknown, ...rest: unknown[]) => Promise<unknown>> = {};
  for (const method of EncoderService.methods) {
    const handler = handlers[method.localName as keyof Impl] as ((request: unknown, ...rest: unknown[]) => Promise<unknown>) | undefined;
    impl[method.localName] = async (request, ...rest) => {
      received.set(method.localName, [...(received.get(method.localName) ?? []), request]);
      if (handler === undefined) throw new ApiError(GrpcStatus.UNIMPLEMENTED, `${method.name} is not part of this test`);
      return handler(request, ...rest);
    };
  }
  const server = await startLoopbackServer((grpcServer, hooks) => addService(grpcServer, EncoderService, impl as unknown as Impl, hooks));
  return {
    address: server.address,
    requests: <K extends keyof Impl>(method: K) => (received.get(method) ?? []) as RequestOf<K>[],
    close: () => server.close(),
  };
}

const CREATED_AT = new Date('2026-11-25T10:00:00Z');

/** A batch message with the given counts (pending makes up the rest of `total`). */
export function batchOf(
  id: string,
  state: BatchState,
  counts: { total: number; encoded?: number; failed?: number; refused?: number; encoding?: number },
  extra: { profile?: string; createdAt?: Date } = {},
): Batch {
  const { total, encoded = 0, failed = 0, refused = 0, encoding = 0 } = counts;
  const { profile = 'generic-pacs-v1', createdAt = CREATED_AT } = extra;
  return create(BatchSchema, {
    id,
    profile,
    keySet: 'pacs',
    state,
    counts: { total, encoded, failed, refused, encoding, pending: total - encoded - failed - encoding },
    createdAt: timestampFromDate(createdAt),
    updatedAt: timestampFromDate(createdAt),
    // Finished batches took 1:23.
    ...(state === BatchState.COMPLETED || state === BatchState.CANCELLED ? { finishedAt: timestampFromDate(new Date(createdAt.getTime() + 83_000)) } : {}),
  });
}
