import { create } from '@bufbuild/protobuf';
import { systemTimer, type NanoTimer } from '../desfire/proximity-check.js';
import type { Transport } from '../desfire/transport.js';
import { TransportError } from '../encoder/transport-error.js';
import { ApduResponseSchema, ReaderFailureSchema, TimedExchangeResultSchema, type ApduCommand, type TimedExchangeTask } from '../gen/desfirepacs/v1/relay_pb.js';
import type { RelayRequest, RelayResponse } from './relay-messages.js';
import { runTimedExchange } from './timed-exchange.js';

/** A reader host's end of a relay stream: what grpc-js's ClientDuplexStream offers. */
export interface RelayStream<Start, Result> extends AsyncIterable<RelayResponse<Result>> {
  write(message: RelayRequest<Start>): boolean;
  end(): void;
  cancel(): void;
  once(event: 'drain', listener: () => void): unknown;
}

export interface ReaderHostOptions {
  /** Cancels the stream (the card is left as the last command left it). */
  readonly signal?: AbortSignal;
  /** The monotonic clock timed exchanges are measured with (default process.hrtime.bigint). */
  readonly clock?: NanoTimer;
}

/**
 * The reader host's side of a relay: sends `start`, then answers every command of the service
 * with the card in `transport` (an ApduCommand with its ApduResponse; a TimedExchangeTask run and
 * timed here, where the card is), until the service's result, which it returns. A card that
 * fails is reported as a ReaderFailure, and the service then ends the stream with its result.
 * The reader host holds no keys and judges nothing: it only moves bytes. A stream the service
 * ends with an error status rejects with grpc-js's ServiceError; an aborted one with the
 * signal's reason.
 */
export async function serveRelay<Start, Result>(transport: Transport, stream: RelayStream<Start, Result>, start: Start, options: ReaderHostOptions = {}): Promise<Result> {
  const { signal, clock = systemTimer } = options;
  signal?.throwIfAborted();
  const onAbort = () => stream.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await send(stream, { message: { case: 'start', value: start } });
    for await (const { message } of stream) {
      if (message.case === 'apdu') await send(stream, await answerApdu(transport, message.value));
      else if (message.case === 'timedExchange') await send(stream, await answerTimedExchange(transport, message.value, clock));
      else if (message.case === 'result') {
        stream.end();
        return message.value;
      }
    }
    throw new TransportError('the service closed the relay stream without a result');
  } catch (e) {
    signal?.throwIfAborted();
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

type Answer = RelayRequest<never>;

async function answerApdu(transport: Transport, { sequence, command }: ApduCommand): Promise<Answer> {
  let response: Uint8Array;
  try {
    response = await transport.transceive(command);
  } catch (e) {
    return failure(sequence, e);
  }
  if (response.length === 0) return failure(sequence, new TransportError('empty answer: the card left the field or lost power'));
  return { message: { case: 'apduResponse', value: create(ApduResponseSchema, { sequence, response }) } };
}

async function answerTimedExchange(transport: Transport, { sequence, commands }: TimedExchangeTask, clock: NanoTimer): Promise<Answer> {
  try {
    const answers = await runTimedExchange(transport, commands, clock);
    return { message: { case: 'timedResult', value: create(TimedExchangeResultSchema, { sequence, answers }) } };
  } catch (e) {
    return failure(sequence, e);
  }
}

/** The card failed: said without card data (the transport's own message names reader and cause). */
function failure(sequence: number, e: unknown): Answer {
  return { message: { case: 'failure', value: create(ReaderFailureSchema, { sequence, detail: e instanceof Error ? e.message : String(e) }) } };
}

/** Writes one message, waiting while the stream's buffer is full. */
async function send<Start, Result>(stream: RelayStream<Start, Result>, message: RelayRequest<Start>): Promise<void> {
  if (!stream.write(message)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}
