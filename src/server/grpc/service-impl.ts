import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { Metadata } from '@grpc/grpc-js';
import type { ClientIdentity } from '../access/client-identity.js';

/** What a handler knows of its call. */
export interface CallContext {
  /** Aborts when the client cancels, the deadline passes, or the service shuts down. */
  readonly signal: AbortSignal;
  /** The client's address, for logs. */
  readonly peer: string;
  readonly metadata: Metadata;
  /** Who is calling, from the client certificate (mTLS); undefined without one. */
  readonly caller?: ClientIdentity;
}

/** Sends one message on a server stream, waiting while the client is slow to read (backpressure). */
export type Send<O extends DescMessage> = (message: MessageInitShape<O>) => Promise<void>;

type MethodImpl<M> = M extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageShape<I>, context: CallContext) => Promise<MessageInitShape<O>>
  : M extends { methodKind: 'server_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? (request: MessageShape<I>, send: Send<O>, context: CallContext) => Promise<void>
    : M extends { methodKind: 'bidi_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? (requests: AsyncIterable<MessageShape<I>>, send: Send<O>, context: CallContext) => Promise<void>
      : never;

/**
 * A service's handlers, typed from its generated descriptor: a missing or mistyped RPC is a
 * compile error. Handlers return (or send) plain init objects and throw to fail; the adapter
 * (`add-service.ts`) builds the messages and maps errors to statuses in one place.
 */
export type ServiceImpl<S> = S extends GenService<infer T extends GenServiceMethods> ? { readonly [K in keyof T]: MethodImpl<T[K]> } : never;
