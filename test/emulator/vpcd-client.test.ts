import { afterEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { VpcdClient, type VpcdClientOptions, type VpcdEvent } from '../../src/emulator/vpcd/index.js';
import { FakeVpcd, freePort } from '../support/fake-vpcd.js';
import { STUB_ATR, StubCard } from '../support/stub-card.js';

const FAST = { backoff: { initialMs: 20, maxMs: 100 }, removalMs: 150 } satisfies VpcdClientOptions;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(card: StubCard, options: VpcdClientOptions = {}, port?: number) {
  const vpcd = port === undefined ? await FakeVpcd.listen() : undefined;
  const events: VpcdEvent[] = [];
  const client = new VpcdClient(card, {
    ...FAST,
    ...options,
    address: { host: '127.0.0.1', port: port ?? vpcd!.port },
    onEvent: (event) => events.push(event),
  });
  cleanup.push(async () => {
    await client.close();
    await vpcd?.close();
  });
  client.start();
  return { vpcd, client, events };
}

const hex = (bytes: Uint8Array) => toHex(bytes);
const types = (events: VpcdEvent[]) => events.map((e) => e.type);

describe('vpcd client over TCP (against a fake vpcd)', () => {
  it('answers ATR requests, power codes and APDUs, each answer framed', async () => {
    const card = new StubCard({ answers: { '9060000000': '0401013300160591af' } });
    const { vpcd, events } = await setup(card);
    const link = await vpcd!.nextConnection();
    expect(hex(await link.request(Uint8Array.of(0x04)))).toBe(STUB_ATR);
    link.send(Uint8Array.of(0x01)); // power on: no answer
    expect(hex(await link.request(Uint8Array.of(0x04)))).toBe(STUB_ATR);
    expect(hex(await link.request(fromHex('9060000000')))).toBe('0401013300160591af');
    expect(hex(await link.request(fromHex('ffca000000')))).toBe('04a1b2c3d4e5f69000');
    link.send(Uint8Array.of(0x00)); // power off: no answer
    expect(await link.quietFor(50)).toBe(true);
    expect(card.log).toEqual(['powerOn', '> 9060000000', 'powerOff']);
    expect(types(events)).toEqual(['connecting', 'connected', 'power', 'apdu', 'apdu', 'power']);
  });

  it('reads messages split across TCP chunks and several in one chunk', async () => {
    const card = new StubCard({ answers: { '9060000000': '91af', '90af000000': '9100' } });
    const { vpcd } = await setup(card);
    const link = await vpcd!.nextConnection();
    link.sendRaw(fromHex('0005906000'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    link.sendRaw(fromHex('0000' + '000104' + '000590af000000'));
    expect([hex(await link.next()), hex(await link.next()), hex(await link.next())]).toEqual(['91af', STUB_ATR, '9100']);
  });

  it("waits the card's answer delay before answering, but not for the reader's own answers", async () => {
    const card = new StubCard({ answers: { '9060000000': '91af' }, answerDelayMs: 150 });
    const { vpcd } = await setup(card);
    const link = await vpcd!.nextConnection();
    let start = performance.now();
    expect(hex(await link.request(fromHex('9060000000')))).toBe('91af');
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);
    start = performance.now();
    await link.request(fromHex('ffca000000'));
    await link.request(Uint8Array.of(0x04));
    expect(performance.now() - start).toBeLessThan(100);
  });

  it('on a power loss, leaves the field without answering and comes back after the removal time', async () => {
    const card = new StubCard({ tearOn: ['903d000000'] });
    const { vpcd, events } = await setup(card);
    const first = await vpcd!.nextConnection();
    await first.request(Uint8Array.of(0x04));
    first.send(fromHex('903d000000'));
    await expect(first.next()).rejects.toThrow('connection closed before an answer');
    const lostAt = performance.now();
    const second = await vpcd!.nextConnection();
    expect(performance.now() - lostAt).toBeGreaterThanOrEqual(FAST.removalMs - 10);
    expect(hex(await second.request(Uint8Array.of(0x04)))).toBe(STUB_ATR);
    expect(card.log).toEqual(['powerOn', '> 903d000000', 'power lost', 'powerOn']);
    expect(types(events)).toEqual(['connecting', 'connected', 'card-lost', 'disconnected', 'retrying', 'connecting', 'connected']);
    expect(events[2]).toMatchObject({ reason: 'power lost (stub tear)', command: fromHex('903d000000'), backInMs: FAST.removalMs });
  });

  it('retries with backoff until vpcd listens', async () => {
    const port = await freePort();
    const card = new StubCard();
    const { events } = await setup(card, {}, port);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const retries = events.filter((e) => e.type === 'retrying');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries.slice(0, 3).map((e) => (e.type === 'retrying' ? e.inMs : 0))).toEqual([20, 40, 80].slice(0, Math.min(3, retries.length)));
    expect(card.log).toEqual([]); // never in the field yet
    const vpcd = await FakeVpcd.listen(port);
    cleanup.push(() => vpcd.close());
    const link = await vpcd.nextConnection();
    expect(hex(await link.request(Uint8Array.of(0x04)))).toBe(STUB_ATR);
  });

  it('when vpcd drops the connection (pcscd restarts), the card leaves the field and the client reconnects', async () => {
    const card = new StubCard();
    const { vpcd, events } = await setup(card);
    const first = await vpcd!.nextConnection();
    await first.request(Uint8Array.of(0x04));
    first.destroy();
    const second = await vpcd!.nextConnection();
    expect(hex(await second.request(Uint8Array.of(0x04)))).toBe(STUB_ATR);
    expect(card.log).toEqual(['powerOn', 'powerOff', 'powerOn']);
    expect(events.find((e) => e.type === 'disconnected')).toMatchObject({ reason: 'closed by vpcd' });
  });

  it('closes cleanly: the delayed answer still goes out, then the connection ends and the card is powered off', async () => {
    const card = new StubCard({ answers: { '9060000000': '91af' }, answerDelayMs: 100 });
    const { vpcd, client } = await setup(card);
    const link = await vpcd!.nextConnection();
    await link.request(Uint8Array.of(0x04));
    link.send(fromHex('9060000000'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = client.close();
    expect(hex(await link.next())).toBe('91af');
    await closing;
    await link.closed;
    await expect(client.closed).resolves.toBeUndefined();
    expect(card.log.at(-1)).toBe('powerOff');
    expect(client.connected).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(vpcd!.connections).toHaveLength(1); // no reconnection after close
  });

  it('close() while waiting to retry, or before start, resolves at once', async () => {
    const port = await freePort();
    const { client } = await setup(new StubCard(), {}, port);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await client.close();
    await expect(client.closed).resolves.toBeUndefined();
    const idle = new VpcdClient(new StubCard());
    await idle.close();
    expect(() => idle.start()).toThrow('already closed');
  });

  it('a card error that is not a power loss stops the client: closed rejects, no reconnection', async () => {
    const card = new StubCard({ failWith: new TypeError('handler bug') });
    const { vpcd, client } = await setup(card);
    const link = await vpcd!.nextConnection();
    link.send(fromHex('9060000000'));
    await expect(client.closed).rejects.toThrow('handler bug');
    await link.closed;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(vpcd!.connections).toHaveLength(1);
    await client.close(); // still resolves
  });
});
