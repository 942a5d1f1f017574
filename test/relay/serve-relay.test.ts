import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import type { Transport } from '../../src/desfire/transport.js';
import { TransportError } from '../../src/encoder/transport-error.js';
import { ApduCommandSchema, TimedExchangeTaskSchema } from '../../src/gen/desfirepacs/v1/relay_pb.js';
import { presentCard } from '../../src/relay/present-card.js';
import type { RelayRequest, RelayResponse } from '../../src/relay/relay-messages.js';
import { serveRelay, type RelayStream } from '../../src/relay/serve-relay.js';
import { Channel } from '../server/relay/support/channel.js';

/** The reader host's stream, with the test playing the service. */
function service() {
  const up = new Channel<RelayRequest<string>>();
  const down = new Channel<RelayResponse<string>>();
  const events: string[] = [];
  const stream: RelayStream<string, string> = {
    write: (m) => (up.push(m), true),
    end: () => events.push('end'),
    cancel: () => (events.push('cancel'), down.end()),
    once: () => undefined,
    [Symbol.asyncIterator]: () => down[Symbol.asyncIterator](),
  };
  return {
    stream,
    up,
    events,
    apdu: (sequence: number, hex: string) => down.push({ message: { case: 'apdu', value: create(ApduCommandSchema, { sequence, command: fromHex(hex) }) } }),
    timed: (sequence: number, ...hex: string[]) => down.push({ message: { case: 'timedExchange', value: create(TimedExchangeTaskSchema, { sequence, commands: hex.map(fromHex) }) } }),
    result: (value: string) => down.push({ message: { case: 'result', value } }),
    close: () => down.end(),
  };
}

/** A card that answers each APDU with `answer(apdu)`, recording what it got. */
function card(answer: (apdu: Uint8Array) => Uint8Array | Promise<Uint8Array>): Transport & { got: string[] } {
  const got: string[] = [];
  return { got, card: { uid: fromHex('04010203040506'), atr: fromHex('3b8180018080') }, transceive: async (apdu) => (got.push(toHex(apdu)), answer(apdu)) };
}

describe('serveRelay (the reader host)', () => {
  it('sends start, answers each APDU with the card, and resolves with the result after ending its side', async () => {
    const s = service();
    const c = card((apdu) => Uint8Array.of(apdu[1], 0x91, 0x00));
    const done = serveRelay(c, s.stream, 'hello');
    expect(await s.up.next()).toEqual({ message: { case: 'start', value: 'hello' } });
    s.apdu(1, '9060000000');
    const answer = await s.up.next();
    expect(answer.message.case).toBe('apduResponse');
    expect(answer.message.value).toMatchObject({ sequence: 1 });
    expect(toHex((answer.message.value as { response: Uint8Array }).response)).toBe('609100');
    s.result('granted');
    expect(await done).toBe('granted');
    expect(c.got).toEqual(['9060000000']);
    expect(s.events).toEqual(['end']);
  });

  it('runs a timed exchange locally, timing each command on its clock', async () => {
    const s = service();
    const c = card((apdu) => Uint8Array.of(apdu[2]));
    const readings = [10n, 110n, 200n, 450n];
    const done = serveRelay(c, s.stream, 'start', { clock: () => readings.shift()! });
    await s.up.next();
    s.timed(7, 'f201aa', 'f201bb');
    const { message } = await s.up.next();
    expect(message.case).toBe('timedResult');
    const result = message.value as { sequence: number; answers: { response: Uint8Array; elapsedNs: bigint }[] };
    expect(result.sequence).toBe(7);
    expect(result.answers.map((a) => [toHex(a.response), a.elapsedNs])).toEqual([
      ['aa', 100n],
      ['bb', 250n],
    ]);
    s.result('ok');
    await done;
  });

  it('reports a card that fails, or answers nothing, as a ReaderFailure and still takes the result', async () => {
    const s = service();
    const answers = [() => Promise.reject(new TransportError('the card left PC/SC reader "R"')), () => new Uint8Array(0), () => Promise.reject(new Error('gone'))];
    const c = card(() => answers.shift()!());
    const done = serveRelay(c, s.stream, 'start');
    await s.up.next();
    s.apdu(1, '90aa000000');
    expect((await s.up.next()).message).toMatchObject({ case: 'failure', value: { sequence: 1, detail: 'the card left PC/SC reader "R"' } });
    s.apdu(2, '90aa000000');
    expect((await s.up.next()).message).toMatchObject({ case: 'failure', value: { sequence: 2, detail: 'empty answer: the card left the field or lost power' } });
    s.timed(3, 'f201aa');
    expect((await s.up.next()).message).toMatchObject({ case: 'failure', value: { sequence: 3, detail: 'gone' } });
    s.result('denied');
    expect(await done).toBe('denied');
  });

  it('rejects when the service closes the stream without a result', async () => {
    const s = service();
    const done = serveRelay(card(() => Uint8Array.of(0x91, 0)), s.stream, 'start');
    await s.up.next();
    s.close();
    await expect(done).rejects.toThrow('the service closed the relay stream without a result');
  });

  it('cancels the stream when its signal aborts, rejecting with the reason', async () => {
    const s = service();
    const controller = new AbortController();
    const done = serveRelay(card(() => Uint8Array.of(0x91, 0)), s.stream, 'start', { signal: controller.signal });
    await s.up.next();
    controller.abort(new Error('shutting the door'));
    await expect(done).rejects.toThrow('shutting the door');
    expect(s.events).toEqual(['cancel']);
    await expect(serveRelay(card(() => Uint8Array.of(0)), service().stream, 'start', { signal: controller.signal })).rejects.toThrow('shutting the door');
  });
});

describe('presentCard', () => {
  it('says what the transport saw of its card, and refuses an empty field', () => {
    const c = card(() => Uint8Array.of(0));
    const presented = presentCard(c, 'reader A');
    expect(toHex(presented.uid as Uint8Array)).toBe('04010203040506');
    expect(toHex(presented.atr as Uint8Array)).toBe('3b8180018080');
    expect(presented.readerId).toBe('reader A');
    expect(() => presentCard({ card: undefined, transceive: c.transceive })).toThrow(TransportError);
  });
});
