import { create, type DescMessage, type DescMethod } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import {
  status as GrpcStatus,
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type Server,
  type ServerDuplexStream,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Authorize } from '../access/access-policy.js';
import { clientIdentity, type CallAuth } from '../access/client-identity.js';
import { ActiveCalls, ShuttingDown } from './active-calls.js';
import { toServiceError, type MappedError } from './error-status.js';
import { serviceDefinition } from './service-definition.js';
import type { CallContext, ServiceImpl } from './service-impl.js';

export interface ServiceHooks {
  readonly logger: Logger;
  readonly calls: ActiveCalls;
  /** Checks every call before its handler runs, throwing to refuse it (default: all are let in). */
  readonly authorize?: Authorize;
}

type AnyCall = { getPeer(): string; getAuthContext(): CallAuth; metadata: import('@grpc/grpc-js').Metadata; on(event: 'cancelled', listener: () => void): unknown };

/**
 * Registers `impl` for `service` on a grpc-js server. Each call gets an AbortSignal (client
 * cancel, deadline, shutdown), one log line at its end (method, peer, status, milliseconds; never
 * a payload), the caller's certificate identity, the `authorize` check before the handler, and
 * errors mapped by `toServiceError`.
 */
export function addService<T extends GenServiceMethods>(server: Server, service: GenService<T>, impl: ServiceImpl<GenService<T>>, hooks: ServiceHooks): void {
  const handlers: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const fn = (impl as Record<string, (...args: never[]) => Promise<unknown>>)[method.localName];
    handlers[method.localName] = adapt(method, fn, hooks);
  }
  server.addService(serviceDefinition(service), handlers);
}

function adapt(method: DescMethod, fn: (...args: never[]) => Promise<unknown>, hooks: ServiceHooks) {
  const path = `/${method.parent.typeName}/${method.name}`;
  const run = async (call: AnyCall, body: (context: CallContext) => Promise<unknown>, fail: (e: Partial<import('@grpc/grpc-js').ServiceError>) => void) => {
    const started = performance.now();
    const controller = hooks.calls.open();
    const onCancel = () => controller.abort(new Error('the client cancelled the call'));
    call.on('cancelled', onCancel);
    const caller = clientIdentity(call.getAuthContext());
    const context: CallContext = { signal: controller.signal, peer: call.getPeer(), metadata: call.metadata, ...(caller && { caller }) };
    const log = hooks.logger.child({ method: method.name, peer: context.peer, ...(caller && { client: caller.commonName }) });
    try {
      hooks.authorize?.(path, caller);
      const result = await body(context);
      log.debug({ code: 'OK', ms: Math.round(performance.now() - started) }, 'call done');
      return result;
    } catch (e) {
      const mapped = abortStatus(controller.signal, e) ?? toServiceError(e);
      if (mapped.unexpected) log.error({ err: e }, 'call failed unexpectedly');
      else log.info({ code: GrpcStatus[mapped.error.code!], details: mapped.error.details, ms: Math.round(performance.now() - started) }, 'call refused');
      fail(mapped.error);
      return undefined;
    } finally {
      hooks.calls.close(controller);
    }
  };
  const output = method.output as DescMessage;
  const sender = (call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>, signal: AbortSignal) => async (init: unknown) => {
    if (signal.aborted) throw signal.reason;
    if (!call.write(create(output, init as never))) await new Promise<void>((resolve) => call.once('drain', resolve));
  };
  switch (method.methodKind) {
    case 'unary': {
      const handler: handleUnaryCall<unknown, unknown> = (call, callback) => {
        let answered = false;
        void run(call, async (ctx) => {
          const reply = await (fn as (r: unknown, c: CallContext) => Promise<unknown>)(call.request, ctx);
          answered = true;
          callback(null, create(output, reply as never));
        }, (error) => {
          if (!answered) callback(error as never);
        });
      };
      return handler;
    }
    case 'server_streaming': {
      const handler: handleServerStreamingCall<unknown, unknown> = (call) => {
        void run(call, async (ctx) => {
          await (fn as (r: unknown, s: unknown, c: CallContext) => Promise<void>)(call.request, sender(call, ctx.signal), ctx);
          call.end();
        }, (error) => call.emit('error', error));
      };
      return handler;
    }
    case 'bidi_streaming': {
      const handler: handleBidiStreamingCall<unknown, unknown> = (call) => {
        void run(call, async (ctx) => {
          // grpc-js's call is a Readable, which destroys itself when a for-await loop over it ends;
          // a destroyed call can send neither its last messages nor its status.
          const requests = { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false }) };
          await (fn as (r: unknown, s: unknown, c: CallContext) => Promise<void>)(requests, sender(call, ctx.signal), ctx);
          call.end();
        }, (error) => call.emit('error', error));
      };
      return handler;
    }
    default:
      throw new Error(`${method.name}: client-streaming methods are not used by this service`);
  }
}

/**
 * A call ended by its own abort signal: the service shutting down is UNAVAILABLE (clients retry
 * elsewhere); a client that cancelled or whose deadline passed is CANCELLED (nobody reads it).
 */
function abortStatus(signal: AbortSignal, e: unknown): MappedError | undefined {
  if (e instanceof ShuttingDown) return { error: { code: GrpcStatus.UNAVAILABLE, details: e.message }, unexpected: false };
  if (signal.aborted && e === signal.reason) return { error: { code: GrpcStatus.CANCELLED, details: 'call cancelled' }, unexpected: false };
  return undefined;
}
