import type { Readable } from 'node:stream';

/** A bidi handler as ServiceImpl types it: requests in, `send` out. */
type BidiHandler<In, Out, Ctx> = (requests: AsyncIterable<In>, send: (message: Out) => Promise<void>, context: Ctx) => Promise<void>;

/**
 * Wraps a relay handler to measure the service's own time per relayed message: from the moment
 * the handler is handed a reader host's message (the start, an APDU answer, a timed exchange's
 * answers) to the moment it sends its next one (a command or the result): the door flow's work,
 * the key lookup and its audit row included. grpc-js's HTTP/2 framing and the messages'
 * (de)serialization lie outside (they show in the process's CPU per authentication). With one
 * stream the reader host is waiting all along; with many, the time also holds waits for the
 * event loop.
 */
export class RelayServerTime {
  /** One entry per relayed message, in nanoseconds. */
  readonly gapsNs: bigint[] = [];

  wrap<In, Out, Ctx>(handler: BidiHandler<In, Out, Ctx>): BidiHandler<In, Out, Ctx> {
    return (requests, send, context) => {
      let received: bigint | undefined;
      const timedSend = (message: Out) => {
        if (received !== undefined) this.gapsNs.push(process.hrtime.bigint() - received);
        received = undefined;
        return send(message);
      };
      return handler(
        timedMessages(requests, () => (received = process.hrtime.bigint())),
        timedSend,
        context,
      );
    };
  }

  reset(): void {
    this.gapsNs.length = 0;
  }
}

/**
 * `requests` with `onMessage` called as each message is handed over. The relay reads a grpc-js
 * stream through `Readable.iterator({ destroyOnReturn: false })` (so that ending the loop does
 * not destroy the call), so the wrapper offers that method too.
 */
function timedMessages<T>(requests: AsyncIterable<T>, onMessage: () => void): AsyncIterable<T> & Pick<Readable, 'iterator'> {
  const timed = (inner: AsyncIterator<T>): AsyncIterableIterator<T> => ({
    next: async () => {
      const step = await inner.next();
      if (!step.done) onMessage();
      return step;
    },
    return: async (value?: unknown) => (inner.return ? inner.return(value) : { done: true, value: undefined }),
    [Symbol.asyncIterator]() {
      return this;
    },
  });
  const readable = requests as Partial<Pick<Readable, 'iterator'>>;
  return {
    [Symbol.asyncIterator]: () => timed(requests[Symbol.asyncIterator]()),
    iterator: (options) => timed(typeof readable.iterator === 'function' ? (readable.iterator(options) as AsyncIterator<T>) : requests[Symbol.asyncIterator]()),
  };
}
