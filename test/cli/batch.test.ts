import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runBatch, type BatchIo } from '../../src/cli/batch.js';
import { fromHex } from '../../src/desfire/bytes.js';
import { BatchState, CardState, type Batch } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { ApiError, failedPrecondition, invalidArgument, notFound } from '../../src/server/grpc/api-error.js';
import type { ServiceImpl } from '../../src/server/grpc/service-impl.js';
import type { EncoderService } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { batchOf, startFakeEncoder } from './batch/fake-encoder.js';

const VALID_FROM = '2026-01-01T00:00:00Z';
const VALID_TO = '2030-01-01T00:00:00Z';
const FROM_SECONDS = 1767225600n;
const TO_SECONDS = 1893456000n;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function fake(handlers: Partial<ServiceImpl<typeof EncoderService>>) {
  const encoder = await startFakeEncoder(handlers);
  cleanup.push(() => encoder.close());
  return encoder;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-batch-cli-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * runBatch with its output collected; the clock moves one second per reading (so speeds and
 * ETAs are exact), and the interrupt is the test's, so no SIGINT handler is installed.
 */
function harness(extra: Partial<BatchIo> & { clockStepMs?: number } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let raw = '';
  let clock = 0;
  const { clockStepMs = 1000, ...overrides } = extra;
  const io: BatchIo = {
    write: (line) => out.push(line),
    error: (line) => err.push(line),
    raw: (text) => {
      raw += text;
    },
    env: {},
    now: () => (clock += clockStepMs),
    interrupt: new AbortController().signal,
    ...overrides,
  };
  return { out, err, raw: () => raw, run: (...args: string[]) => runBatch(args, io) };
}

/** A WatchBatch that sends these batch states, then ends the stream. */
function watching(events: readonly Batch[]): ServiceImpl<typeof EncoderService>['watchBatch'] {
  return async (_request, send) => {
    for (const batch of events) await send({ batch });
  };
}

/** An address nothing listens on. */
async function closedAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

describe('desfire-pacs batch: usage', () => {
  it('--help prints the usage and exits 0', async () => {
    const { run, out } = harness();
    expect(await run('--help')).toBe(0);
    expect(out.join('\n')).toMatch(/^usage: desfire-pacs batch <command>/);
    expect(out.join('\n')).toContain('--server <host:port>        the service (default: $DESFIRE_PACS_SERVER, else 127.0.0.1:50051)');
  });

  it.each([
    [[], /a command is needed: create, watch, list, cancel, cards/],
    [['start'], /unknown command "start"/],
    [['create', '--count', '1', '--first-number', '1'], /create needs --profile/],
    [['create', '--profile', 'p'], /create needs --count and --first-number, or --cards/],
    [['create', '--profile', 'p', '--count', '2'], /create needs --count and --first-number, or --cards/],
    [['create', '--profile', 'p', '--cards', 'c.csv', '--count', '2'], /give --cards, or --count with --first-number, not both/],
    [['create', '--profile', 'p', '--count', '2', '--first-number', '1', '--valid-to', VALID_TO], /numbered cards need --valid-from and --valid-to/],
    [['create', '--profile', 'p', '--count', '0', '--first-number', '1', '--valid-from', VALID_FROM, '--valid-to', VALID_TO], /--count must be an integer from 1 to 50000, got "0"/],
    [['create', '--profile', 'p', '--count', '50001', '--first-number', '1', '--valid-from', VALID_FROM, '--valid-to', VALID_TO], /--count must be an integer from 1 to 50000/],
    [['create', '--profile', 'p', '--count', '2', '--first-number', '18446744073709551615', '--valid-from', VALID_FROM, '--valid-to', VALID_TO], /leaves no room for 2 card numbers/],
    [['create', '--profile', 'p', '--count', '2', '--first-number', '1', '--valid-from', '2026-01-01', '--valid-to', VALID_TO], /--valid-from must be an RFC 3339 time such as 2026-01-01T00:00:00Z, got "2026-01-01"/],
    [['create', '--profile', 'p', '--cards', 'c.csv', '--site-code', '-1'], /Option '--site-code' argument is ambiguous|--site-code must be an integer/],
    [['create', '--profile', 'p', '--cards', 'c.csv', 'extra'], /"create" takes options only, got "extra"/],
    [['watch'], /"watch" takes one batch id/],
    [['cancel', 'a', 'b'], /"cancel" takes one batch id/],
    [['watch', 'b1', '--state', 'running'], /--state does not apply to "watch"/],
    [['list', '--profile', 'p'], /--profile does not apply to "list"/],
    [['list', '--state', 'done'], /--state must be one of created, running, completed, cancelled, got "done"/],
    [['cards', 'b1', '--state', 'running'], /--state must be one of pending, encoding, encoded, failed, refused, got "running"/],
    [['list', '--bogus'], /Unknown option '--bogus'/],
    [['list', '--server', ''], /--server needs an address/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const { run, err, out } = harness();
    expect(await run(...(args as string[]))).toBe(2);
    expect(err[0]).toMatch(message);
    expect(err.join('\n')).toContain('usage: desfire-pacs batch');
    expect(out).toEqual([]);
  });
});

describe('desfire-pacs batch create', () => {
  const created: ServiceImpl<typeof EncoderService>['createBatch'] = async (request) => ({
    batch: batchOf(request.batchId || '5b0c8a8e-1f0e-4c56-9a43-0d5f6c1c2a11', BatchState.CREATED, { total: request.cards.length }),
  });

  it('numbered cards: one validity and site code for each, the server from DESFIRE_PACS_SERVER; prints the id', async () => {
    const encoder = await fake({ createBatch: created });
    const { run, out, err } = harness({ env: { DESFIRE_PACS_SERVER: encoder.address } });
    const args = ['create', '--profile', 'generic-pacs-v1', '--key-set', 'pacs', '--id', 'lobby-2026', '--count', '3', '--first-number', '1001'];
    expect(await run(...args, '--valid-from', VALID_FROM, '--valid-to', VALID_TO, '--site-code', '42')).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual(['lobby-2026']);
    const [request, ...more] = encoder.requests('createBatch');
    expect(more).toEqual([]);
    expect(request.profile).toBe('generic-pacs-v1');
    expect(request.keySet).toBe('pacs');
    expect(request.batchId).toBe('lobby-2026');
    expect(request.cards.map((c) => [c.cardNumber, c.validFrom?.seconds, c.validFrom?.nanos, c.validTo?.seconds, c.siteCode, c.extensions.length])).toEqual([
      [1001n, FROM_SECONDS, 0, TO_SECONDS, 42, 0],
      [1002n, FROM_SECONDS, 0, TO_SECONDS, 42, 0],
      [1003n, FROM_SECONDS, 0, TO_SECONDS, 42, 0],
    ]);
  });

  it('leaves key set, id and site code to the service when not given, and prints the id it chose', async () => {
    const encoder = await fake({ createBatch: created });
    const { run, out } = harness();
    expect(await run('create', '--server', encoder.address, '--profile', 'p', '--count', '1', '--first-number', '18446744073709551615', '--valid-from', VALID_FROM, '--valid-to', VALID_TO)).toBe(0);
    expect(out).toEqual(['5b0c8a8e-1f0e-4c56-9a43-0d5f6c1c2a11']);
    const [request] = encoder.requests('createBatch');
    expect([request.keySet, request.batchId]).toEqual(['', '']);
    expect(request.cards).toHaveLength(1);
    expect(request.cards[0].cardNumber).toBe(18446744073709551615n);
    expect(request.cards[0].siteCode).toBeUndefined();
  });

  it('cards from a CSV file (header in any order, comments, blank lines, quoted cells, CRLF); empty cells take the options', async () => {
    const encoder = await fake({ createBatch: created });
    const cwd = await tempDir();
    const csv = [
      '\uFEFF# cards for the lobby',
      'valid_from, card_number, valid_to, site_code',
      '"2026-02-01T00:00:00Z","2001","2027-02-01T00:00:00Z",7',
      '',
      ',2002,,   ',
      '2026-03-01T00:00:00Z,2003,,9',
    ].join('\r\n');
    await writeFile(join(cwd, 'cards.csv'), csv);
    const { run, out, err } = harness({ cwd });
    expect(await run('create', '--server', encoder.address, '--profile', 'p', '--cards', 'cards.csv', '--valid-from', VALID_FROM, '--valid-to', VALID_TO, '--site-code', '42')).toBe(0);
    expect(err).toEqual([]);
    expect(out).toHaveLength(1);
    const [request] = encoder.requests('createBatch');
    expect(request.cards.map((c) => [c.cardNumber, c.validFrom?.seconds, c.validTo?.seconds, c.siteCode])).toEqual([
      [2001n, 1769904000n, 1801440000n, 7],
      [2002n, FROM_SECONDS, TO_SECONDS, 42],
      [2003n, 1772323200n, TO_SECONDS, 9],
    ]);
  });

  it('cards from YAML and JSON files: the protobuf JSON mapping of CardData under "cards"', async () => {
    const encoder = await fake({ createBatch: created });
    const cwd = await tempDir();
    await writeFile(
      join(cwd, 'cards.yaml'),
      `cards:\n  - card_number: 3001\n    valid_from: ${VALID_FROM}\n    valid_to: ${VALID_TO}\n  - cardNumber: 18446744073709551615\n    siteCode: 5\n    extensions: [{ tag: 0x40, value: AQI= }]\n`,
    );
    await writeFile(join(cwd, 'cards.json'), JSON.stringify({ cards: [{ card_number: '4001', valid_from: VALID_FROM, valid_to: VALID_TO, site_code: 3 }] }));
    const { run } = harness({ cwd });
    expect(await run('create', '--server', encoder.address, '--profile', 'p', '--cards', 'cards.yaml', '--valid-from', '2027-01-01T00:00:00Z', '--valid-to', VALID_TO)).toBe(0);
    expect(await run('create', '--server', encoder.address, '--profile', 'p', '--cards', join(cwd, 'cards.json'))).toBe(0);
    const [yaml, json] = encoder.requests('createBatch');
    expect(yaml.cards.map((c) => [c.cardNumber, c.validFrom?.seconds, c.validTo?.seconds, c.siteCode])).toEqual([
      [3001n, FROM_SECONDS, TO_SECONDS, undefined],
      [18446744073709551615n, 1798761600n, TO_SECONDS, 5],
    ]);
    expect(yaml.cards[1].extensions.map((e) => [e.tag, [...e.value]])).toEqual([[0x40, [1, 2]]]);
    expect(json.cards.map((c) => [c.cardNumber, c.validFrom?.seconds, c.validTo?.seconds, c.siteCode])).toEqual([[4001n, FROM_SECONDS, TO_SECONDS, 3]]);
  });

  it.each([
    ['unknown.csv', 'card_number,valid_until\n1,2\n', /line 1: unknown column "valid_until": the columns are card_number, valid_from, valid_to, site_code/],
    ['twice.csv', 'card_number,card_number\n1,2\n', /line 1: column "card_number" twice/],
    ['nonumber.csv', 'valid_from,valid_to\n', /line 1: the header line must name the card_number column/],
    ['value.csv', 'card_number,site_code\n1,3\n2,x\n', /value\.csv, line 3: 1 problem\n\s+site_code: expected number \(uint32\), got "x"/],
    ['short.csv', 'card_number,site_code\n1\n', /line 2: 1 values for 2 columns \(card_number,site_code\)/],
    ['empty.csv', '# nothing yet\n', /empty\.csv: 1 problem\n\s+no cards/],
    ['headeronly.csv', 'card_number\n', /no cards/],
    ['time.yaml', 'cards:\n  - card_number: 1\n  - card_number: 2\n    valid_to: tomorrow\n', /cards\[1\]\.valid_to: .*RFC 3339/],
    ['extra.json', '{"profile": "p", "cards": []}', /profile: unknown field; a cards file has one field, "cards"/],
    ['nocards.yaml', 'card_number: 1\n', /card_number: unknown field/],
    ['list.json', '[{"card_number": 1}]', /the document must be a mapping/],
    ['syntax.json', '{"cards": [', /not JSON/],
    ['cards.txt', '1\n', /unknown extension "\.txt": use \.csv, \.json, \.yaml or \.yml/],
  ])('%s: the file is refused (exit 2), naming the line or field; nothing is sent', async (name, content, message) => {
    const encoder = await fake({ createBatch: created });
    const cwd = await tempDir();
    await writeFile(join(cwd, name), content);
    const { run, err, out } = harness({ cwd });
    expect(await run('create', '--server', encoder.address, '--profile', 'p', '--cards', name)).toBe(2);
    expect(err.join('\n')).toMatch(/^desfire-pacs batch create: invalid cards file /);
    expect(err.join('\n')).toMatch(message);
    expect(out).toEqual([]);
    expect(encoder.requests('createBatch')).toEqual([]);
  });

  it('a missing cards file is exit 2', async () => {
    const encoder = await fake({ createBatch: created });
    const { run, err } = harness({ cwd: await tempDir() });
    expect(await run('create', '--server', encoder.address, '--profile', 'p', '--cards', 'nowhere.csv')).toBe(2);
    expect(err).toEqual([expect.stringMatching(/^desfire-pacs batch create: cannot read the cards file: ENOENT/)]);
  });

  it('a card the service finds invalid: status, field and details in one line, then which card of the file it is (exit 2)', async () => {
    const encoder = await fake({
      createBatch: async () => {
        throw invalidArgument('cards[1].valid_to', 'is before valid_from');
      },
    });
    const cwd = await tempDir();
    await writeFile(join(cwd, 'cards.csv'), `card_number,valid_from,valid_to\n1,${VALID_FROM},${VALID_TO}\n# the next one is wrong\n2,${VALID_TO},${VALID_FROM}\n`);
    const { run, err, out } = harness({ cwd });
    expect(await run('create', '--server', encoder.address, '--profile', 'p', '--cards', 'cards.csv')).toBe(2);
    expect(err).toEqual(['desfire-pacs batch create: INVALID_ARGUMENT, field cards[1].valid_to: is before valid_from', '  cards[1] is card number 2 (line 4 of cards.csv)']);
    expect(out).toEqual([]);

    const numbered = harness();
    expect(await numbered.run('create', '--server', encoder.address, '--profile', 'p', '--count', '5', '--first-number', '70', '--valid-from', VALID_FROM, '--valid-to', VALID_TO)).toBe(2);
    expect(numbered.err[1]).toBe('  cards[1] is card number 71');
  });

  it('an unknown profile (NOT_FOUND) is exit 2', async () => {
    const encoder = await fake({
      createBatch: async () => {
        throw notFound('no profile "nope"', 'profile');
      },
    });
    const { run, err } = harness();
    expect(await run('create', '--server', encoder.address, '--profile', 'nope', '--count', '1', '--first-number', '1', '--valid-from', VALID_FROM, '--valid-to', VALID_TO)).toBe(2);
    expect(err).toEqual(['desfire-pacs batch create: NOT_FOUND, field profile: no profile "nope"']);
  });

  it('--watch goes on watching the new batch', async () => {
    const encoder = await fake({
      createBatch: created,
      watchBatch: watching([batchOf('b9', BatchState.CREATED, { total: 2 }), batchOf('b9', BatchState.COMPLETED, { total: 2, encoded: 2 })]),
    });
    const { run, out } = harness();
    expect(await run('create', '--server', encoder.address, '--profile', 'p', '--id', 'b9', '--count', '2', '--first-number', '1', '--valid-from', VALID_FROM, '--valid-to', VALID_TO, '--watch')).toBe(0);
    expect(encoder.requests('watchBatch').map((r) => r.batchId)).toEqual(['b9']);
    expect(out).toEqual([
      'b9',
      'batch b9: 0% (0/2 encoded, 0 failed, 0 refused, -- cards/s, ETA --)',
      'batch b9: 100% (2/2 encoded, 0 failed, 0 refused, 2.0 cards/s, ETA 0:00)',
      'batch b9 completed in 1:23: 2/2 encoded, 0 failed, 0 refused',
    ]);
  });
});

describe('desfire-pacs batch watch', () => {
  const running = (encoded: number, extra: { failed?: number; refused?: number; encoding?: number } = {}) => batchOf('b1', BatchState.RUNNING, { total: 10, encoded, ...extra });

  it('not a terminal: a line for each tenth reached, then the summary; exit 0 when every card is encoded', async () => {
    const events = [
      batchOf('b1', BatchState.CREATED, { total: 10 }),
      running(1, { encoding: 1 }),
      running(1, { encoding: 2, refused: 1 }),
      running(2, { refused: 1 }),
      running(6, { refused: 1 }),
      running(9, { refused: 1 }),
      batchOf('b1', BatchState.COMPLETED, { total: 10, encoded: 10, refused: 1 }),
    ];
    const encoder = await fake({ watchBatch: watching(events) });
    const { run, out, raw } = harness();
    expect(await run('watch', 'b1', '--server', encoder.address)).toBe(0);
    // One reading a second: the speed counts from the first message.
    expect(out).toEqual([
      'batch b1: 0% (0/10 encoded, 0 failed, 0 refused, -- cards/s, ETA --)',
      'batch b1: 10% (1/10 encoded, 0 failed, 0 refused, 1.0 cards/s, ETA 0:09)',
      'batch b1: 20% (2/10 encoded, 0 failed, 1 refused, 0.7 cards/s, ETA 0:12)',
      'batch b1: 60% (6/10 encoded, 0 failed, 1 refused, 1.5 cards/s, ETA 0:03)',
      'batch b1: 90% (9/10 encoded, 0 failed, 1 refused, 1.8 cards/s, ETA 0:01)',
      'batch b1: 100% (10/10 encoded, 0 failed, 1 refused, 1.7 cards/s, ETA 0:00)',
      'batch b1 completed in 1:23: 10/10 encoded, 0 failed, 1 refused',
    ]);
    expect(raw()).toBe('');
  });

  it('a batch that completed with failed cards is exit 1, and says how to list them', async () => {
    const encoder = await fake({ watchBatch: watching([running(7, { failed: 2, encoding: 1 }), batchOf('b1', BatchState.COMPLETED, { total: 10, encoded: 7, failed: 3 })]) });
    const { run, out } = harness();
    expect(await run('watch', 'b1', '--server', encoder.address)).toBe(1);
    expect(out.slice(-2)).toEqual(['batch b1 completed in 1:23: 7/10 encoded, 3 failed, 0 refused', 'the failed cards: desfire-pacs batch cards b1 --state failed']);
  });

  it('a cancelled batch is exit 4', async () => {
    const encoder = await fake({ watchBatch: watching([running(2), batchOf('b1', BatchState.CANCELLED, { total: 10, encoded: 3, failed: 1 })]) });
    const { run, out } = harness();
    expect(await run('watch', 'b1', '--server', encoder.address)).toBe(4);
    expect(out.at(-1)).toBe('batch b1 cancelled: 3/10 encoded, 1 failed, 0 refused; 6 card numbers not encoded');
  });

  it('a stream that ends while the batch runs is exit 1', async () => {
    const encoder = await fake({ watchBatch: watching([running(2)]) });
    const { run, out } = harness();
    expect(await run('watch', 'b1', '--server', encoder.address)).toBe(1);
    expect(out.at(-1)).toBe('the service ended the watch before batch b1 finished (2/10 encoded, 0 failed, 0 refused)');
  });

  it('a terminal: one progress line redrawn in place, ended before the summary', async () => {
    const encoder = await fake({ watchBatch: watching([running(0), running(4, { failed: 2 }), batchOf('b1', BatchState.COMPLETED, { total: 10, encoded: 8, failed: 2 })]) });
    const { run, out, raw } = harness({ isTTY: true });
    expect(await run('watch', 'b1', '--server', encoder.address)).toBe(1);
    const last = '[########################xxxxxx] 8/10 encoded, 2 failed, 0 refused, 4.0 cards/s, ETA 0:00';
    expect(raw().split('\x1b[K')).toEqual([
      '\r[..............................] 0/10 encoded, 0 failed, 0 refused, -- cards/s, ETA --',
      '\r[############xxxxxx............] 4/10 encoded, 2 failed, 0 refused, 4.0 cards/s, ETA 0:01',
      `\r${last}`,
      `\r${last}`, // the final state is drawn again as the line ends
      '\n',
    ]);
    expect(out).toEqual([
      'watching batch b1; Ctrl-C stops watching, not the batch',
      'batch b1 completed in 1:23: 8/10 encoded, 2 failed, 0 refused',
      'the failed cards: desfire-pacs batch cards b1 --state failed',
    ]);
  });

  it('a terminal is redrawn at most every 100 ms of the clock, and always with the last state', async () => {
    const events = Array.from({ length: 11 }, (_, i) => (i < 10 ? running(i) : batchOf('b1', BatchState.COMPLETED, { total: 10, encoded: 10 })));
    const encoder = await fake({ watchBatch: watching(events) });
    const { run, raw } = harness({ isTTY: true, clockStepMs: 30 });
    expect(await run('watch', 'b1', '--server', encoder.address)).toBe(0);
    const draws = raw().split('\x1b[K').filter((d) => d.startsWith('\r'));
    // Readings at 30, 60, ..., 330 ms: drawn at 30, 150, 270, then the end.
    expect(draws.map((d) => d.match(/\] (\d+)\/10/)?.[1])).toEqual(['0', '4', '8', '10']);
  });

  it('Ctrl-C stops watching, not the batch: the stream is cancelled, CancelBatch is not called; exit 130', async () => {
    let serverSawCancel = false;
    const encoder = await fake({
      watchBatch: async (_request, send, context) => {
        await send({ batch: running(3) });
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
        serverSawCancel = true;
      },
    });
    const ctrlC = new AbortController();
    const out: string[] = [];
    const { run } = harness({
      interrupt: ctrlC.signal,
      write: (line) => {
        out.push(line);
        if (line.startsWith('batch b1: 30%')) ctrlC.abort();
      },
    });
    expect(await run('watch', 'b1', '--server', encoder.address)).toBe(130);
    expect(out.at(-1)).toBe('stopped watching; batch b1 goes on (follow it again with: desfire-pacs batch watch b1)');
    await vi.waitFor(() => expect(serverSawCancel).toBe(true));
    expect(encoder.requests('cancelBatch')).toEqual([]);
  });

  it('without an interrupt of the caller, SIGINT stops watching; its handler is there only while watching', async () => {
    const encoder = await fake({
      watchBatch: async (_request, send, context) => {
        await send({ batch: running(3) });
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      },
    });
    const listeners = process.listenerCount('SIGINT');
    let during = -1;
    const { run } = harness({
      interrupt: undefined,
      write: (line) => {
        if (!line.startsWith('batch b1: 30%')) return;
        during = process.listenerCount('SIGINT');
        // Only the listeners hear this; no signal reaches the test process.
        process.emit('SIGINT');
      },
    });
    expect(await run('watch', 'b1', '--server', encoder.address)).toBe(130);
    expect(during).toBe(listeners + 1);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  it('an unknown batch is NOT_FOUND, exit 2', async () => {
    const encoder = await fake({
      watchBatch: async (request) => {
        throw notFound(`no batch "${request.batchId}"`, 'batch_id');
      },
    });
    const { run, err } = harness({ isTTY: true });
    expect(await run('watch', 'nope', '--server', encoder.address)).toBe(2);
    expect(err).toEqual(['desfire-pacs batch watch: NOT_FOUND, field batch_id: no batch "nope"']);
  });

  it('a stream that fails mid-way ends the progress line before the error', async () => {
    const encoder = await fake({
      watchBatch: async (_request, send) => {
        await send({ batch: running(5) });
        throw new ApiError(GrpcStatus.UNAVAILABLE, 'the service is shutting down');
      },
    });
    const { run, err, raw } = harness({ isTTY: true });
    expect(await run('watch', 'b1', '--server', encoder.address)).toBe(1);
    expect(raw().endsWith('\x1b[K\n')).toBe(true);
    expect(err).toEqual([`desfire-pacs batch watch: the service is not reachable at ${encoder.address} (UNAVAILABLE: the service is shutting down); start it with "npm start", or give its address with --server or DESFIRE_PACS_SERVER`]);
  });
});

describe('desfire-pacs batch list, cancel, cards', () => {
  it('list: every page, newest first, as a table; --state filters', async () => {
    const pages: Record<string, { batches: Batch[]; nextPageToken: string }> = {
      '': {
        batches: [
          batchOf('lobby-2026', BatchState.RUNNING, { total: 120, encoded: 4 }, { createdAt: new Date('2026-11-25T12:30:00Z') }),
          batchOf('b2', BatchState.COMPLETED, { total: 2, encoded: 2 }, { profile: 'staff-v2', createdAt: new Date('2026-11-25T11:00:00Z') }),
        ],
        nextPageToken: 'page-2',
      },
      'page-2': { batches: [batchOf('b1', BatchState.CANCELLED, { total: 5, encoded: 1 })], nextPageToken: '' },
    };
    const encoder = await fake({ listBatches: async (request) => pages[request.pageToken] });
    const { run, out } = harness();
    expect(await run('list', '--server', encoder.address, '--state', 'Running')).toBe(0);
    expect(out).toEqual([
      'ID          PROFILE          STATE      ENCODED  CREATED',
      'lobby-2026  generic-pacs-v1  running      4/120  2026-11-25T12:30:00Z',
      'b2          staff-v2         completed      2/2  2026-11-25T11:00:00Z',
      'b1          generic-pacs-v1  cancelled      1/5  2026-11-25T10:00:00Z',
    ]);
    expect(encoder.requests('listBatches').map((r) => [r.state, r.pageToken, r.pageSize])).toEqual([
      [BatchState.RUNNING, '', 1000],
      [BatchState.RUNNING, 'page-2', 1000],
    ]);
  });

  it('list: none', async () => {
    const encoder = await fake({ listBatches: async () => ({ batches: [], nextPageToken: '' }) });
    const { run, out } = harness();
    expect(await run('list', '--server', encoder.address)).toBe(0);
    expect(await run('list', '--server', encoder.address, '--state', 'cancelled')).toBe(0);
    expect(out).toEqual(['no batches', 'no cancelled batches']);
    expect(encoder.requests('listBatches').map((r) => r.state)).toEqual([BatchState.UNSPECIFIED, BatchState.CANCELLED]);
  });

  it('cancel: the batch as it stands; a completed batch cannot be (FAILED_PRECONDITION, exit 1)', async () => {
    const encoder = await fake({
      cancelBatch: async (request) => {
        if (request.batchId === 'done') throw failedPrecondition('batch done has completed');
        return { batch: batchOf(request.batchId, BatchState.CANCELLED, { total: 10, encoded: 4, failed: 1, refused: 2 }) };
      },
    });
    const { run, out, err } = harness();
    expect(await run('cancel', 'b1', '--server', encoder.address)).toBe(0);
    expect(out).toEqual(['batch b1 cancelled: 4/10 encoded, 1 failed, 2 refused; stations finish the cards they are on']);
    expect(await run('cancel', 'done', '--server', encoder.address)).toBe(1);
    expect(err).toEqual(['desfire-pacs batch cancel: FAILED_PRECONDITION: batch done has completed']);
    expect(encoder.requests('cancelBatch').map((r) => r.batchId)).toEqual(['b1', 'done']);
  });

  it('cards: follows the page tokens through every page; number, UID in hex, state, detail', async () => {
    const card = (cardNumber: bigint, state: CardState, uid = '', detail = '') => ({ cardNumber, state, uid: fromHex(uid), detail, batchId: 'b1' });
    const pages: Record<string, { cards: ReturnType<typeof card>[]; nextPageToken: string }> = {
      '': { cards: [card(1001n, CardState.ENCODED, '04112233445566'), card(1002n, CardState.FAILED, '04aabbccddeeff', 'card removed at step credential')], nextPageToken: 't1' },
      t1: { cards: [card(1003n, CardState.ENCODING, '08a1b2c3')], nextPageToken: 't2' },
      t2: { cards: [card(18446744073709551615n, CardState.PENDING)], nextPageToken: '' },
    };
    const encoder = await fake({ listCards: async (request) => pages[request.pageToken] });
    const { run, out } = harness();
    expect(await run('cards', 'b1', '--server', encoder.address)).toBe(0);
    expect(out).toEqual([
      '         CARD NUMBER  UID             STATE     DETAIL',
      '                1001  04112233445566  encoded',
      '                1002  04AABBCCDDEEFF  failed    card removed at step credential',
      '                1003  08A1B2C3        encoding',
      '18446744073709551615  -               pending',
    ]);
    expect(encoder.requests('listCards').map((r) => [r.batchId, r.state, r.pageToken, r.pageSize])).toEqual([
      ['b1', CardState.UNSPECIFIED, '', 1000],
      ['b1', CardState.UNSPECIFIED, 't1', 1000],
      ['b1', CardState.UNSPECIFIED, 't2', 1000],
    ]);
  });

  it('cards --state: the filter is sent; none found', async () => {
    const encoder = await fake({ listCards: async () => ({ cards: [], nextPageToken: '' }) });
    const { run, out } = harness();
    expect(await run('cards', 'b1', '--state', 'failed', '--server', encoder.address)).toBe(0);
    expect(out).toEqual(['no failed cards in batch b1']);
    expect(encoder.requests('listCards')[0].state).toBe(CardState.FAILED);
  });
});

describe('desfire-pacs batch: failures of the service', () => {
  it('an unreachable service: one line with the address and how to start it; exit 1', async () => {
    const address = await closedAddress();
    const { run, err } = harness({ env: { DESFIRE_PACS_SERVER: address } });
    expect(await run('list')).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(new RegExp(`^desfire-pacs batch list: the service is not reachable at ${address} \\(UNAVAILABLE: .+\\); start it with "npm start"`));
  });

  it('an unexpected failure of the service is INTERNAL, exit 1', async () => {
    const encoder = await fake({
      listBatches: async () => {
        throw new Error('disk on fire');
      },
    });
    const { run, err } = harness();
    expect(await run('list', '--server', encoder.address)).toBe(1);
    expect(err).toEqual(['desfire-pacs batch list: INTERNAL: internal error']);
  });
});
