import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { TransportError } from '../../encoder/transport-error.js';
import { ApiError, invalidArgument } from '../grpc/api-error.js';
import { requestName, type RelayRequest, type RelayResponse } from '../../relay/relay-messages.js';
import type { CallContext } from '../grpc/service-impl.js';
import type { PresentedCard } from './card-presented.js';
import { nextMessage } from './next-message.js';
import type { RelaySettings } from './relay-settings.js';
import { RelayStalled, RelayTransport } from './relay-transport.js';

/** One relay stream as its handler got it. */
export interface RelayCall<Start, Result> {
  readonly requests: AsyncIterable<RelayRequest<Start>>;
  readonly send: (response: RelayResponse<Result>) => Promise<void>;
  readonly context: CallContext;
  readonly settings: RelaySettings;
  readonly logger: Logger;
}

/** What a relay stream does with its card (an authentication, an encoding). */
export interface RelayFlow<Start, Opened extends { readonly card: PresentedCard }, Result> {
  /** Checks the start message (ApiError naming the field) and resolves what it names, before any APDU. */
  readonly open: (start: Start) => Opened;
  /** Drives the card through `transport` to the result; `signal` aborts with the stream. */
  readonly run: (opened: Opened, transport: RelayTransport, signal: AbortSignal) => Promise<Result>;
}

/**
 * Serves one relay stream: waits for the start message, runs the flow over a RelayTransport and
 * sends its result as the last message. A reader host that stops answering (per APDU, or the
 * whole stream past `streamTimeoutMs`) ends the stream with DEADLINE_EXCEEDED instead of a
 * result; a client cancel or a shutdown ends it at once, with the call signal's own reason (the
 * adapter maps it). Every timer and listener is gone when this returns.
 */
export async function serveRelayCall<Start, Opened extends { readonly card: PresentedCard }, Result>(
  call: RelayCall<Start, Result>,
  flow: RelayFlow<Start, Opened, Result>,
): Promise<void> {
  const { settings, context } = call;
  const controller = new AbortController();
  const onCancel = () => controller.abort(context.signal.reason);
  context.signal.addEventListener('abort', onCancel, { once: true });
  if (context.signal.aborted) onCancel();
  const deadline = setTimeout(
    () => controller.abort(new ApiError(GrpcStatus.DEADLINE_EXCEEDED, `the relay stream did not finish within ${settings.streamTimeoutMs} ms`)),
    settings.streamTimeoutMs,
  );
  const { signal } = controller;
  try {
    const requests = call.requests[Symbol.asyncIterator]();
    const start = await startMessage(requests, settings.apduTimeoutMs, signal);
    const opened = flow.open(start);
    const transport = new RelayTransport({
      requests,
      send: (command) => (signal.aborted ? Promise.reject(signal.reason as Error) : call.send({ message: command })),
      card: opened.card.presence,
      apduTimeoutMs: settings.apduTimeoutMs,
      signal,
    });
    const result = await untilAborted(flow.run(opened, transport, signal), signal, call.logger);
    if (transport.failure instanceof RelayStalled) throw new ApiError(GrpcStatus.DEADLINE_EXCEEDED, transport.failure.message);
    await call.send({ message: { case: 'result', value: result } });
  } finally {
    clearTimeout(deadline);
    context.signal.removeEventListener('abort', onCancel);
  }
}

async function startMessage<Start>(requests: AsyncIterator<RelayRequest<Start>>, timeoutMs: number, signal: AbortSignal): Promise<Start> {
  const next = await nextMessage(requests, timeoutMs, signal);
  switch (next.kind) {
    case 'message': {
      const { message } = next.value;
      if (message.case === 'start') return message.value;
      throw invalidArgument('start', `is required first, got ${requestName(message)}`);
    }
    case 'end':
      throw invalidArgument('start', 'is required: the stream ended without it');
    case 'timeout':
      throw new ApiError(GrpcStatus.DEADLINE_EXCEEDED, `no start message within ${timeoutMs} ms`);
    case 'aborted':
      throw next.reason;
    case 'error':
      throw new TransportError(`the relay stream failed before its start message`, { cause: next.error });
  }
}

/**
 * The flow's result, unless the stream is aborted first. A flow whose transport is aborted stops
 * at its next exchange; not waiting for it keeps the deadline exact whatever the flow is doing.
 */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, logger: Logger): Promise<T> {
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (signal.aborted) work.catch((e: unknown) => logger.debug({ err: e }, 'relay flow ended after its stream was aborted'));
  }
}
