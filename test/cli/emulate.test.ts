import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { runEmulate, type CardOptions, type EmulateIo } from '../../src/cli/emulate.js';
import { FakeVpcd } from '../support/fake-vpcd.js';
import { StubCard } from '../support/stub-card.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function harness(makeCard: (options: CardOptions) => StubCard = () => new StubCard({ answers: { '9060000000': '91af' } })) {
  const out: string[] = [];
  const err: string[] = [];
  const created: CardOptions[] = [];
  const stop = new AbortController();
  const io: EmulateIo = {
    write: (line) => out.push(line),
    error: (line) => err.push(line),
    createCard: (options) => {
      created.push(options);
      return makeCard(options);
    },
    stop: stop.signal,
    vpcd: { backoff: { initialMs: 20, maxMs: 100 }, removalMs: 100 },
  };
  return { io, out, err, created, stop };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-emulate-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function fakeVpcd(): Promise<FakeVpcd> {
  const vpcd = await FakeVpcd.listen();
  cleanup.push(() => vpcd.close());
  return vpcd;
}

describe('desfire-pacs emulate: options', () => {
  it('--help prints the usage and exits 0', async () => {
    const { io, out } = harness();
    expect(await runEmulate(['--help'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/^usage: desfire-pacs emulate/);
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /positional argument/],
    [['--vpcd', 'host:99999'], /--vpcd "host:99999": the port must be/],
    [['--uid', 'xyz'], /--uid "xyz" is not hex/],
    [['--uid', '04112233'], /--uid must be 7 bytes \(14 hex digits\), got 4/],
    [['--capacity', '16k'], /--capacity must be one of 2k, 4k, 8k, got "16k"/],
    [['--tear-at', '0'], /--tear-at must be an integer from 1, got "0"/],
    [['--tear-at', '2.5'], /--tear-at must be an integer from 1/],
    [['--delay-ms', 'soon'], /--delay-ms must be a number of ms from 0, got "soon"/],
    [['--delay-ms'], /argument missing/],
    [['--image', ''], /--image needs a file name/],
    [['--image', '/nonexistent-dir/card.json'], /--image \/nonexistent-dir\/card.json: no directory \/nonexistent-dir to save it in/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const { io, err, created } = harness();
    expect(await runEmulate(args, io)).toBe(2);
    expect(err[0]).toMatch(message);
    expect(err.join('\n')).toContain('usage: desfire-pacs emulate');
    expect(created).toEqual([]);
  });

  it('passes the card options to the factory', async () => {
    const vpcd = await fakeVpcd();
    const { io, created, stop } = harness();
    const args = ['--vpcd', `127.0.0.1:${vpcd.port}`, '--uid', '04:11:22:33:44:55:66', '--random-uid', '--capacity', '2K', '--tear-at', '3', '--delay-ms', '12.5'];
    const run = runEmulate(args, io);
    await vpcd.nextConnection();
    stop.abort();
    expect(await run).toBe(0);
    expect(created).toEqual([{ uid: fromHex('04112233445566'), randomUid: true, capacity: '2k', tearAt: 3, answerDelayMs: 12.5, image: undefined }]);
  });
});

describe('desfire-pacs emulate: a session', () => {
  it('serves vpcd until stopped, then saves the image; the next run starts from it', async () => {
    const vpcd = await fakeVpcd();
    const image = join(await tempDir(), 'card.json');
    const first = harness();
    const run = runEmulate(['--vpcd', `127.0.0.1:${vpcd.port}`, '--image', image], first.io);
    const link = await vpcd.nextConnection();
    link.send(Uint8Array.of(0x01));
    expect(toHex(await link.request(fromHex('9060000000')))).toBe('91af');
    first.stop.abort();
    expect(await run).toBe(0);
    await link.closed;
    expect(JSON.parse(await readFile(image, 'utf8'))).toEqual({ uid: '04a1b2c3d4e5f6', transceived: 1 });
    expect(first.out).toEqual([
      `desfire-pacs emulate: new card, UID 04a1b2c3d4e5f6, in the vpcd reader at 127.0.0.1:${vpcd.port} (Ctrl-C to stop)`,
      `card in the field of the vpcd reader at 127.0.0.1:${vpcd.port} (UID 04a1b2c3d4e5f6)`,
      'power on',
      '  > 9060000000',
      '  < 91af',
      'card out of the field: closed by the client',
      `card image saved to ${image}`,
      'stopped',
    ]);

    const second = harness();
    const again = runEmulate(['--vpcd', `127.0.0.1:${vpcd.port}`, '--image', image], second.io);
    await vpcd.nextConnection();
    second.stop.abort();
    expect(await again).toBe(0);
    expect(second.created[0].image).toEqual({ uid: '04a1b2c3d4e5f6', transceived: 1 });
    expect(second.out[0]).toContain(`card from ${image}`);
  });

  it('reports a power loss once, and the card back in the field', async () => {
    const vpcd = await fakeVpcd();
    const { io, out, stop } = harness(() => new StubCard({ tearOn: ['903d000000'] }));
    const run = runEmulate(['--vpcd', `127.0.0.1:${vpcd.port}`], io);
    const first = await vpcd.nextConnection();
    first.send(fromHex('903d000000'));
    await first.closed;
    const second = await vpcd.nextConnection();
    await second.request(Uint8Array.of(0x04)); // answered: the card is in the field again
    stop.abort();
    expect(await run).toBe(0);
    expect(out.slice(2, 6)).toEqual([
      '  > 903d000000',
      '  < (no answer: power lost (stub tear); the card leaves the field, back in 100 ms)',
      'card out of the field: power lost (stub tear)',
      `card in the field of the vpcd reader at 127.0.0.1:${vpcd.port} (UID 04a1b2c3d4e5f6)`,
    ]);
  });

  it('refuses new-card options when the image already holds a card', async () => {
    const image = join(await tempDir(), 'card.json');
    await writeFile(image, '{"uid":"04a1b2c3d4e5f6"}');
    const { io, err, created } = harness();
    expect(await runEmulate(['--image', image, '--uid', '04112233445566', '--capacity', '8k'], io)).toBe(2);
    expect(err[0]).toContain(`--uid, --capacity describe a new card, but ${image} already holds one`);
    expect(created).toEqual([]);
  });

  it('an unreadable image is an error (exit 1)', async () => {
    const image = join(await tempDir(), 'card.json');
    await writeFile(image, '{not json');
    const { io, err } = harness();
    expect(await runEmulate(['--image', image], io)).toBe(1);
    expect(err[0]).toContain(`cannot read the card image ${image}`);
  });

  it('a factory that refuses the options is an error (exit 1)', async () => {
    const { io, err } = harness(() => {
      throw new RangeError('capacity 2k cannot hold this image');
    });
    expect(await runEmulate([], io)).toBe(1);
    expect(err).toEqual(['desfire-pacs emulate: cannot create the card: capacity 2k cannot hold this image']);
  });

  it('a card that fails (a bug) ends the run with exit 1 and leaves the image alone', async () => {
    const vpcd = await fakeVpcd();
    const image = join(await tempDir(), 'card.json');
    const { io, err } = harness(() => new StubCard({ failWith: new TypeError('handler bug') }));
    const run = runEmulate(['--vpcd', `127.0.0.1:${vpcd.port}`, '--image', image], io);
    const link = await vpcd.nextConnection();
    link.send(Uint8Array.of(0x01));
    link.send(fromHex('9060000000'));
    expect(await run).toBe(1);
    expect(err).toEqual(['desfire-pacs emulate: the card failed: handler bug', `image not saved: ${image} is left as it was`]);
    await expect(readFile(image)).rejects.toThrow(/ENOENT/);
  });
});
