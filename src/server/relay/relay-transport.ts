import { create } from '@bufbuild/protobuf';
import type { CardPresence, TimedAnswer, Transport } from '../../desfire/transport.js';
import { TransportError } from '../../encoder/transport-error.js';
import { ApduCommandSchema, TimedExchangeTaskSchema } from '../../gen/desfirepacs/v1/relay_pb.js';
import { requestName, type RelayCommand, type RelayRequest } from '../../relay/relay-messages.js';
import { nextMessage } from './next-message.js';

/** The reader host did not answer in time: the stream is ended with DEADLINE_EXCEEDED. */
export class RelayStalled extends TransportError {}

/** The stream a relay runs over, as the service sees it. */
export interface RelayLink {
  /** The reader host's messages after its start message. */
  readonly requests: AsyncIterator<RelayRequest<unknown>>;
  /** Sends a command to the reader host. */
  readonly send: (command: RelayCommand) => Promise<void>;
  /** The card the start message presented. */
  readonly card: CardPresence;
  /** The longest the reader host may take per APDU or timed exchange. */
  readonly apduTimeoutMs: number;
  /** Ends every wait: the stream's deadline, the client's cancel, a shutdown. */
  readonly signal: AbortSignal;
}

/** An answer's length as relay.proto allows it (data and status word). */
const MIN_ANSWER = 1;
const MAX_ANSWER = 258;
/** Commands of one timed exchange (ProximityCheck rounds). */
const MAX_TIMED_COMMANDS = 8;

/**
 * A Transport whose card is in a reader host's field at the other end of a gRPC stream: each APDU
 * goes out as an ApduCommand with the next sequence number and comes back as the ApduResponse
 * carrying it; the proximity rounds go out as one TimedExchangeTask the reader host times where
 * the card is (the service cannot time the network; it relies on the reader host's clock, as any
 * network SAM relies on its reader). Exchanges run one at a time. The first failure breaks the
 * relay for good (wrong sequence, wrong message, ReaderFailure, stream end, timeout, abort: a relay
 * out of step cannot be trusted again) and every later call rejects with the same TransportError.
 */
export class RelayTransport implements Transport {
  readonly #link: RelayLink;
  #sequence = 0;
  #failure: TransportError | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(link: RelayLink) {
    this.#link = link;
  }

  get card(): CardPresence {
    return this.#link.card;
  }

  /** Why the relay broke, once it did. */
  get failure(): TransportError | undefined {
    return this.#failure;
  }

  transceive(apdu: Uint8Array): Promise<Uint8Array> {
    return this.#run(async (sequence) => {
      const answer = await this.#roundTrip({ case: 'apdu', value: create(ApduCommandSchema, { sequence, command: apdu }) }, sequence);
      if (answer.case !== 'apduResponse') throw unexpected(answer, 'apdu_response', sequence);
      checkSequence(answer.value.sequence, sequence);
      return checkedAnswer(answer.value.response, `the answer to command ${sequence}`);
    });
  }

  timedExchange(commands: readonly Uint8Array[]): Promise<TimedAnswer[]> {
    if (commands.length < 1 || commands.length > MAX_TIMED_COMMANDS) return Promise.reject(new RangeError(`a timed exchange carries 1..${MAX_TIMED_COMMANDS} commands, got ${commands.length}`));
    return this.#run(async (sequence) => {
      const answer = await this.#roundTrip({ case: 'timedExchange', value: create(TimedExchangeTaskSchema, { sequence, commands: [...commands] }) }, sequence);
      if (answer.case !== 'timedResult') throw unexpected(answer, 'timed_result', sequence);
      checkSequence(answer.value.sequence, sequence);
      const { answers } = answer.value;
      if (answers.length !== commands.length) throw new TransportError(`the reader host gave ${answers.length} timed answers to ${commands.length} commands`);
      return answers.map((a, i) => ({ response: checkedAnswer(a.response, `timed answer ${i + 1} of command ${sequence}`), elapsedNs: a.elapsedNs }));
    });
  }

  /** One exchange at a time, numbered; any failure breaks the relay. */
  #run<T>(exchange: (sequence: number) => Promise<T>): Promise<T> {
    const result = this.#queue.then(async () => {
      if (this.#failure) throw this.#failure;
      try {
        return await exchange(++this.#sequence);
      } catch (e) {
        this.#failure = e instanceof TransportError ? e : new TransportError(errorText(e), { cause: e });
        throw this.#failure;
      }
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Sends `command` and waits for the reader host's next message, which must not be a failure. */
  async #roundTrip(command: RelayCommand, sequence: number): Promise<RelayRequest<unknown>['message']> {
    const { requests, send, apduTimeoutMs, signal } = this.#link;
    try {
      await send(command);
    } catch (e) {
      throw new TransportError(`command ${sequence} could not be sent to the reader host: ${errorText(e)}`, { cause: e });
    }
    const next = await nextMessage(requests, apduTimeoutMs, signal);
    switch (next.kind) {
      case 'timeout':
        throw new RelayStalled(`the reader host did not answer command ${sequence} within ${apduTimeoutMs} ms`);
      case 'aborted':
        throw new TransportError(`the relay was stopped: ${errorText(next.reason)}`, { cause: next.reason });
      case 'end':
        throw new TransportError(`the reader host closed the stream before answering command ${sequence}`);
      case 'error':
        throw new TransportError(`the relay stream failed: ${errorText(next.error)}`, { cause: next.error });
      default:
        break;
    }
    const message = next.value.message;
    if (message.case === 'failure') {
      const { sequence: at, detail } = message.value;
      throw new TransportError(`the reader host lost the card${at === 0 ? '' : ` at command ${at}`}: ${detail.slice(0, 200) || 'no detail given'}`);
    }
    return message;
  }
}

function unexpected(message: RelayRequest<unknown>['message'], expected: string, sequence: number): TransportError {
  return new TransportError(`the reader host sent ${requestName(message)} where the ${expected} to command ${sequence} was due`);
}

function checkSequence(got: number, expected: number): void {
  if (got !== expected) throw new TransportError(`the reader host answered command ${got} where command ${expected} was due`);
}

function checkedAnswer(answer: Uint8Array, what: string): Uint8Array {
  if (answer.length < MIN_ANSWER || answer.length > MAX_ANSWER) throw new TransportError(`${what} has ${answer.length} bytes, ${MIN_ANSWER}..${MAX_ANSWER} expected`);
  return answer;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
