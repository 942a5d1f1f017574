import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyService } from '../../src/gen/desfirepacs/v1/key_service_pb.js';
import { runServe, SERVE_USAGE, type ServeIo } from '../../src/cli/serve.js';
import { serviceClient } from '../../src/server/grpc/client.js';
import { transpileForChild } from '../support/child-node.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-serve-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Log lines as they come, with a wait for the first one matching. */
function logLines() {
  const lines: Record<string, unknown>[] = [];
  const waiting: { test: (msg: string) => boolean; resolve: (msg: string) => void }[] = [];
  let partial = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = partial + chunk.toString('utf8');
      const complete = text.split('\n');
      partial = complete.pop()!;
      for (const line of complete) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        for (const w of waiting.filter((candidate) => candidate.test(String(parsed.msg)))) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(String(parsed.msg));
        }
      }
      done();
    },
  });
  const messages = () => lines.map((l) => String(l.msg));
  const next = (test: (msg: string) => boolean) =>
    new Promise<string>((resolve) => {
      const seen = messages().find(test);
      if (seen !== undefined) resolve(seen);
      else waiting.push({ test, resolve });
    });
  return { destination, lines, messages, next };
}

function io(overrides: Partial<ServeIo> = {}): ServeIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, write: (line) => out.push(line), error: (line) => err.push(line), env: {}, ...overrides };
}

describe('desfire-pacs serve', () => {
  it('runs the service until stopped, logging the address it listens on', async () => {
    const dataDir = await tempDir();
    const logs = logLines();
    const stop = new AbortController();
    const running = runServe(['--listen', '127.0.0.1:0', '--data-dir', dataDir], io({ stop: stop.signal, logDestination: logs.destination }));
    const listening = await logs.next((m) => m.startsWith('listening on '));
    const address = listening.slice('listening on '.length);
    expect(address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);

    const keys = serviceClient(KeyService, address);
    expect((await keys.listKeySets({})).keySets.map((s) => s.name)).toEqual(['pacs']);
    keys.grpc.close();

    stop.abort('test over');
    expect(await running).toBe(0);
    expect(logs.messages()).toEqual(expect.arrayContaining(['shutting down: test over', 'stopped']));
    expect(logs.lines.every((l) => typeof l.level === 'number' && typeof l.time === 'number')).toBe(true);
  });

  it('prints its help', async () => {
    const out = io();
    expect(await runServe(['--help'], out)).toBe(0);
    expect(out.out.join('\n')).toBe(SERVE_USAGE.trimEnd());
  });

  const usage: [name: string, args: string[], message: RegExp][] = [
    ['an unknown option', ['--port', '1'], /Unknown option '--port'/],
    ['an argument', ['now'], /Unexpected argument 'now'/],
    ['an empty value', ['--data-dir', ''], /--data-dir needs a value/],
  ];
  it.each(usage)('refuses %s with the usage (exit 2)', async (_name, args, message) => {
    const out = io();
    expect(await runServe(args, out)).toBe(2);
    expect(out.err[0]).toMatch(message);
    expect(out.err.slice(1).join('\n')).toBe(SERVE_USAGE.trimEnd());
  });

  it('refuses a bad setting, naming it (exit 2)', async () => {
    const flag = io();
    expect(await runServe(['--listen', 'everywhere'], flag)).toBe(2);
    expect(flag.err).toEqual([expect.stringMatching(/^desfire-pacs serve: --listen: must be host:port/)]);
    const env = io({ env: { DESFIRE_PACS_EMULATED_STATIONS: 'two' } });
    expect(await runServe([], env)).toBe(2);
    expect(env.err).toEqual([expect.stringMatching(/^desfire-pacs serve: DESFIRE_PACS_EMULATED_STATIONS: must be an integer/)]);
    const file = join(await tempDir(), 'service.yaml');
    await writeFile(file, 'log_level: loud\n');
    const config = io();
    expect(await runServe(['--config', file], config)).toBe(2);
    expect(config.err).toEqual([`desfire-pacs serve: log_level in ${file}: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"`]);
  });

  it('exits 1 when the service cannot start, saying why in the log', async () => {
    const logs = logLines();
    const first = new AbortController();
    const running = runServe(['--listen', '127.0.0.1:0', '--data-dir', await tempDir()], io({ stop: first.signal, logDestination: logs.destination }));
    const address = (await logs.next((m) => m.startsWith('listening on '))).slice('listening on '.length);
    cleanups.push(async () => {
      first.abort('test over');
      await running;
    });
    const second = logLines();
    expect(await runServe(['--listen', address, '--data-dir', await tempDir()], io({ stop: new AbortController().signal, logDestination: second.destination }))).toBe(1);
    expect(second.lines.at(-1)).toMatchObject({ level: 60, msg: expect.stringMatching(new RegExp(`^cannot start: cannot listen on ${address}: .*EADDRINUSE`)) });
  });

  it('stops on SIGTERM and exits 0 after logging the shutdown (a child process)', async () => {
    const child = await transpileForChild('src/cli/serve.ts', 'serve');
    cleanups.push(() => child.remove());
    const main = join(child.dir, 'serve-main.mjs');
    await writeFile(
      main,
      `import { runServe } from './src/cli/serve.js';
runServe(process.argv.slice(2), { write: (l) => process.stdout.write(l + '\\n'), error: (l) => process.stderr.write(l + '\\n') }).then((code) => { process.exitCode = code; });
`,
    );
    const env = { PATH: process.env.PATH ?? '', DESFIRE_PACS_LOG_LEVEL: 'info', DESFIRE_PACS_EMULATED_STATIONS: '1' };
    const server = spawn(process.execPath, [main, '--listen', '127.0.0.1:0', '--data-dir', await tempDir()], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => server.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    server.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const listening = new Promise<void>((resolve) =>
      server.stdout.setEncoding('utf8').on('data', (text: string) => {
        stdout += text;
        if (stdout.includes('"msg":"listening on ')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    await Promise.race([listening, exited]);
    expect(stdout).toContain('"msg":"listening on 127.0.0.1:');

    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    const messages = stdout.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(expect.arrayContaining(['shutting down: SIGTERM', 'stopped']));
    expect(messages.at(-1)).toBe('stopped');
    expect(stderr).toBe('');
  });
});
