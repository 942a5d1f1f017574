import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/desfire/bytes.js';
import { ProximityTimingError } from '../../../src/desfire/proximity-check.js';
import { factoryState } from '../../../src/emulator/factory.js';
import { InProcessTransport } from '../../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../../src/emulator/virtual-card.js';
import { DesfireClient } from '../../../src/encoder/client/desfire-client.js';
import { TransportError } from '../../../src/encoder/transport-error.js';
import { ApduResponseSchema, ReaderFailureSchema, TimedAnswerSchema, TimedExchangeResultSchema } from '../../../src/gen/desfirepacs/v1/relay_pb.js';
import type { RelayCommand, RelayRequest, RelayResponse } from '../../../src/relay/relay-messages.js';
import { serveRelay, type RelayStream } from '../../../src/relay/serve-relay.js';
import { RelayStalled, RelayTransport } from '../../../src/server/relay/relay-transport.js';
import { Channel } from './support/channel.js';

const UID = fromHex('04010203040506');
const GET_VERSION = fromHex('9060000000');

/** A RelayTransport over in-memory channels; the test plays the reader host. */
function relay(options: { apduTimeoutMs?: number; signal?: AbortSignal } = {}) {
  const up = new Channel<RelayRequest<unknown>>();
  const sent = new Channel<RelayCommand>();
  const transport = new RelayTransport({
    requests: up[Symbol.asyncIterator](),
    send: async (command) => sent.push(command),
    card: { uid: UID },
    apduTimeoutMs: options.apduTimeoutMs ?? 1000,
    signal: options.signal ?? new AbortController().signal,
  });
  const answer = (sequence: number, hex: string) => up.push({ message: { case: 'apduResponse', value: create(ApduResponseSchema, { sequence, response: fromHex(hex) }) } });
  return { transport, up, sent, answer };
}

describe('RelayTransport', () => {
  it('numbers each APDU from 1 and returns the answer carrying its number', async () => {
    const { transport, sent, answer } = relay();
    expect(toHex(transport.card.uid)).toBe(toHex(UID));
    const first = transport.transceive(GET_VERSION);
    const command = await sent.next();
    expect(command.case).toBe('apdu');
    expect(command.value.sequence).toBe(1);
    expect(toHex((command.value as { command: Uint8Array }).command)).toBe(toHex(GET_VERSION));
    answer(1, '0401013300160591af');
    expect(toHex(await first)).toBe('0401013300160591af');
    const second = transport.transceive(GET_VERSION);
    expect((await sent.next()).value.sequence).toBe(2);
    answer(2, '9100');
    expect(toHex(await second)).toBe('9100');
    expect(transport.failure).toBeUndefined();
  });

  it('runs exchanges one at a time, in call order', async () => {
    const { transport, sent, answer } = relay();
    const a = transport.transceive(Uint8Array.of(1));
    const b = transport.transceive(Uint8Array.of(2));
    expect((await sent.next()).value.sequence).toBe(1);
    answer(1, '01');
    expect((await sent.next()).value.sequence).toBe(2);
    answer(2, '02');
    expect([toHex(await a), toHex(await b)]).toEqual(['01', '02']);
  });

  it('breaks on an answer with the wrong sequence number, and stays broken', async () => {
    const { transport, sent, answer } = relay();
    const pending = transport.transceive(GET_VERSION);
    await sent.next();
    answer(5, '9100');
    await expect(pending).rejects.toThrow(/answered command 5 where command 1 was due/);
    const again = transport.transceive(GET_VERSION);
    await expect(again).rejects.toBe(transport.failure);
    expect(transport.failure).toBeInstanceOf(TransportError);
  });

  it('breaks with RelayStalled when the reader host does not answer in time', async () => {
    const { transport } = relay({ apduTimeoutMs: 50 });
    const error = await transport.transceive(GET_VERSION).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayStalled);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toBe('the reader host did not answer command 1 within 50 ms');
  });

  it('breaks when the reader host reports a ReaderFailure', async () => {
    const { transport, sent, up } = relay();
    const pending = transport.transceive(GET_VERSION);
    await sent.next();
    up.push({ message: { case: 'failure', value: create(ReaderFailureSchema, { sequence: 1, detail: 'card removed' }) } });
    await expect(pending).rejects.toThrow('the reader host lost the card at command 1: card removed');
  });

  it('breaks when the stream ends, or the wait is aborted', async () => {
    const ended = relay();
    const pending = ended.transport.transceive(GET_VERSION);
    await ended.sent.next();
    ended.up.end();
    await expect(pending).rejects.toThrow('the reader host closed the stream before answering command 1');

    const controller = new AbortController();
    const aborted = relay({ signal: controller.signal });
    const waiting = aborted.transport.transceive(GET_VERSION);
    await aborted.sent.next();
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('the relay was stopped: client went away');
  });

  it('breaks on a message of the wrong kind, and on answers of a length the proto does not allow', async () => {
    const wrongKind = relay();
    const pending = wrongKind.transport.transceive(GET_VERSION);
    await wrongKind.sent.next();
    wrongKind.up.push({ message: { case: 'timedResult', value: create(TimedExchangeResultSchema, { sequence: 1 }) } });
    await expect(pending).rejects.toThrow('the reader host sent timed_result where the apdu_response to command 1 was due');

    for (const length of [0, 259]) {
      const bad = relay();
      const answer = bad.transport.transceive(GET_VERSION);
      await bad.sent.next();
      bad.answer(1, '00'.repeat(length));
      await expect(answer).rejects.toThrow(`the answer to command 1 has ${length} bytes, 1..258 expected`);
    }
  });

  it('sends a timed exchange as one task and returns the answers with their times', async () => {
    const { transport, sent, up } = relay();
    const pending = transport.timedExchange([Uint8Array.of(0xf2, 1, 0xaa), Uint8Array.of(0xf2, 1, 0xbb)]);
    const task = await sent.next();
    expect(task.case).toBe('timedExchange');
    expect((task.value as { commands: Uint8Array[] }).commands.map(toHex)).toEqual(['f201aa', 'f201bb']);
    const answers = [create(TimedAnswerSchema, { response: Uint8Array.of(0x11), elapsedNs: 900n }), create(TimedAnswerSchema, { response: Uint8Array.of(0x22), elapsedNs: 1200n })];
    up.push({ message: { case: 'timedResult', value: create(TimedExchangeResultSchema, { sequence: 1, answers }) } });
    expect((await pending).map((a) => [toHex(a.response), a.elapsedNs])).toEqual([
      ['11', 900n],
      ['22', 1200n],
    ]);
  });

  it('breaks when a timed result does not answer every command', async () => {
    const { transport, sent, up } = relay();
    const pending = transport.timedExchange([Uint8Array.of(0xf2, 1, 0xaa), Uint8Array.of(0xf2, 1, 0xbb)]);
    await sent.next();
    up.push({ message: { case: 'timedResult', value: create(TimedExchangeResultSchema, { sequence: 1, answers: [{ response: Uint8Array.of(1), elapsedNs: 1n }] }) } });
    await expect(pending).rejects.toThrow('the reader host gave 1 timed answers to 2 commands');
    await expect(transport.timedExchange([])).rejects.toBeInstanceOf(RangeError);
  });
});

/** Both ends in memory: a RelayTransport on one side, serveRelay with a virtual card on the other. */
function relayedCard(clock: () => bigint) {
  const card = new VirtualCard(factoryState({ uid: UID }));
  const up = new Channel<RelayRequest<string>>();
  const down = new Channel<RelayResponse<string>>();
  const transport = new RelayTransport({
    requests: up[Symbol.asyncIterator](),
    send: async (message) => down.push({ message }),
    card: { uid: UID },
    apduTimeoutMs: 1000,
    signal: new AbortController().signal,
  });
  const stream: RelayStream<string, string> = {
    write: (m) => (up.push(m), true),
    end: () => up.end(),
    cancel: () => down.end(),
    once: () => undefined,
    [Symbol.asyncIterator]: () => down[Symbol.asyncIterator](),
  };
  const host = serveRelay(new InProcessTransport(card), stream, 'start', { clock });
  return { transport, host, finish: () => down.push({ message: { case: 'result', value: 'done' } }), started: up.next() };
}

describe('DesfireClient through the relay', () => {
  /** A clock that advances `stepNs` per reading. */
  const steppingClock = (stepNs: bigint) => {
    let t = 0n;
    return () => (t += stepNs);
  };

  it('runs the proximity check with rounds timed by the reader host: in time passes', async () => {
    const relayed = relayedCard(steppingClock(100_000n)); // 100 µs per round, card publicises 800 µs
    expect((await relayed.started).message.case).toBe('start');
    await new DesfireClient(relayed.transport).proximityCheck({ timer: () => expect.fail('the service must not time relayed rounds'), vcProximityKey: new Uint8Array(16) });
    relayed.finish();
    expect(await relayed.host).toBe('done');
  });

  it('a reader host reporting slow rounds makes the check fail as a suspected relay', async () => {
    const relayed = relayedCard(steppingClock(2_000_000n));
    await expect(new DesfireClient(relayed.transport).proximityCheck({ timer: () => 0n, vcProximityKey: new Uint8Array(16), toleranceNs: 1_000_000n })).rejects.toBeInstanceOf(ProximityTimingError);
    relayed.finish();
    await relayed.host;
  });
});
