/**
 * The real PC/SC stack for end-to-end tests: pcscd with vsmartcard's vpcd driver, a virtual card
 * attached through our VpcdClient, and scriptor (pcsc-tools) as the PC/SC application.
 *
 * Usage, one stack per test file:
 *
 *   const skip = pcscSkipReason();            // synchronous: for describe.skipIf / it.skipIf
 *   beforeAll(async () => { stack = await PcscTestStack.start(); });
 *   afterAll(() => stack.stop());
 *   const card = await stack.attach(new StubCard());   // waits until pcscd shows this card
 *   const reader = await stack.connect();              // a Transport over scriptor
 *   await reader.transceive(fromHex('9060000000'));
 *
 * The stack holds a lock on the vpcd slot across processes (vitest runs test files in parallel),
 * reuses a pcscd already running (CI starts one with .ci/start-pcscd.sh), and otherwise starts
 * `pcscd --foreground` itself (root only) and stops it at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { unlink, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import type { CardPresence, Transport } from '../../src/desfire/transport.js';
import type { CardEndpoint } from '../../src/emulator/card-endpoint.js';
import { VpcdClient, type VpcdClientOptions, type VpcdEvent } from '../../src/emulator/vpcd/index.js';
import { loadNfcPcsc } from '../../src/encoder/transports/nfc-pcsc-module.js';

const READER_CONF_DIR = '/etc/reader.conf.d';
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
const SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** vpcd as pcscd loads it: the reader's friendly name and the port of its slot 0. */
export interface VpcdConfig {
  readonly friendlyName: string;
  readonly port: number;
}

/**
 * Why the real PC/SC stack cannot run here, in one line, or undefined when it can. Synchronous so
 * it can feed `describe.skipIf`; a missing package is a skip, never a failure.
 */
export function pcscSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `PC/SC end-to-end tests run on Linux only (here: ${process.platform})`;
  const missing = ['pcscd', 'scriptor', 'pcsc_scan'].filter((tool) => findExecutable(tool) === undefined);
  if (missing.length > 0) return `${missing.join(', ')} not installed (run .ci/install-pcsc.sh: pcscd vsmartcard-vpcd pcsc-tools)`;
  const config = readVpcdConfig();
  if (config === undefined) return `vpcd driver not configured in ${READER_CONF_DIR} (install vsmartcard-vpcd)`;
  if (isListening(config.port)) return undefined;
  if (pcscdPid() !== undefined) return `pcscd runs but vpcd does not listen on port ${config.port}: restart pcscd`;
  if (process.getuid?.() !== 0 && !existsSync(PCSCD_SOCKET)) {
    return 'pcscd is not running and only root can start it (run sudo .ci/start-pcscd.sh)';
  }
  return undefined;
}

/** Reads vpcd's reader.conf.d entry (`FRIENDLYNAME`, `DEVICENAME /dev/null:<port>`). */
export function readVpcdConfig(): VpcdConfig | undefined {
  if (!existsSync(READER_CONF_DIR)) return undefined;
  for (const name of readdirSync(READER_CONF_DIR)) {
    let text: string;
    try {
      text = readFileSync(join(READER_CONF_DIR, name), 'utf8');
    } catch {
      continue;
    }
    const field = (key: string) => new RegExp(`^\\s*${key}\\s+(.+?)\\s*$`, 'm').exec(text)?.[1];
    const library = field('LIBPATH');
    if (library === undefined || !library.includes('ifdvpcd') || !existsSync(library)) continue;
    const device = field('DEVICENAME') ?? '';
    // Only the default mode, where vpcd listens (`/dev/null:<port>`); "host:port" makes vpcd connect out.
    const listening = /^\/dev\/null:(\S+)$/.exec(device);
    if (!listening) continue;
    const port = Number(listening[1]); // 0x8C7B or decimal, as vpcd's strtoul(…, 0) reads it
    if (!Number.isInteger(port) || port <= 0 || port > 65535) continue;
    return { friendlyName: (field('FRIENDLYNAME') ?? 'Virtual PCD').replace(/^"|"$/g, ''), port };
  }
  return undefined;
}

/** True when something listens on the TCP port (any address), read from /proc: no connection made. */
export function isListening(port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local?.endsWith(`:${hexPort}`) && state === '0A') return true; // 0A = LISTEN
    }
  }
  return false;
}

function pcscdPid(): number | undefined {
  try {
    const pid = Number(readFileSync('/run/pcscd/pcscd.pid', 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SBIN].filter((dir) => dir !== '');
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return undefined;
}

/** A card attached to the vpcd slot through our client. */
export interface AttachedCard {
  readonly client: VpcdClient;
  readonly events: VpcdEvent[];
  detach(): Promise<void>;
}

export class PcscTestStack {
  readonly config: VpcdConfig;
  /** The PC/SC name of vpcd's slot 0, e.g. "Virtual PCD 00 00". */
  readonly reader: string;
  readonly #pcscd: ChildProcess | undefined;
  readonly #releaseLock: () => Promise<void>;
  readonly #attached: AttachedCard[] = [];

  private constructor(config: VpcdConfig, reader: string, pcscd: ChildProcess | undefined, releaseLock: () => Promise<void>) {
    this.config = config;
    this.reader = reader;
    this.#pcscd = pcscd;
    this.#releaseLock = releaseLock;
  }

  /** Locks the vpcd slot, makes sure pcscd runs with vpcd listening, and finds the reader. */
  static async start(timeoutMs = 20_000): Promise<PcscTestStack> {
    const reason = pcscSkipReason();
    if (reason !== undefined) throw new Error(`PC/SC stack unavailable: ${reason}`);
    const config = readVpcdConfig()!;
    const releaseLock = await lockFile(join(tmpdir(), `desfire-pacs-vpcd-${config.port}.lock`), 10 * timeoutMs);
    let pcscd: ChildProcess | undefined;
    try {
      pcscd = await ensurePcscd(config, timeoutMs);
      const reader = await waitFor(timeoutMs, 'vpcd reader slot 0 in pcsc_scan -r', async () => {
        const readers = listReaders();
        return readers.find((name) => name.startsWith(`${config.friendlyName} `) && name.endsWith(' 00'));
      });
      return new PcscTestStack(config, reader, pcscd, releaseLock);
    } catch (error) {
      if (pcscd) await stopProcess(pcscd);
      await releaseLock();
      throw error;
    }
  }

  /**
   * Attaches a card to vpcd slot 0 and waits until pcscd shows it: Get UID (FF CA) through
   * scriptor answers this card's UID (so it is our card in the slot, not another one).
   */
  async attach(card: CardEndpoint, options: Omit<VpcdClientOptions, 'address'> = {}, timeoutMs = 15_000): Promise<AttachedCard> {
    const events: VpcdEvent[] = [];
    const listener = options.onEvent;
    const client = new VpcdClient(card, {
      backoff: { initialMs: 50, maxMs: 500 },
      ...options,
      address: { host: '127.0.0.1', port: this.config.port },
      onEvent: (event) => {
        events.push(event);
        listener?.(event);
      },
    });
    client.start();
    const attached: AttachedCard = { client, events, detach: () => client.close() };
    this.#attached.push(attached);
    await this.waitForCard(card.uid, timeoutMs);
    return attached;
  }

  /** Waits until the card in the slot answers Get UID with `uid`. */
  async waitForCard(uid: Uint8Array, timeoutMs = 15_000): Promise<void> {
    const expected = `${toHex(uid)}9000`;
    let last = 'no answer yet';
    await waitFor(timeoutMs, () => `card ${toHex(uid)} in ${this.reader} (last: ${last})`, async () => {
      try {
        const session = await ScriptorTransport.open(this.reader);
        try {
          last = toHex(await session.transceive(fromHex('ffca000000')));
        } finally {
          await session.close();
        }
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      return last === expected ? true : undefined;
    });
  }

  /** Waits until pcscd reports no card in the slot. */
  async waitForNoCard(timeoutMs = 10_000): Promise<void> {
    await waitFor(timeoutMs, `no card in ${this.reader}`, async () => {
      try {
        const session = await ScriptorTransport.open(this.reader);
        await session.close();
        return undefined;
      } catch (error) {
        return String(error).includes('No smartcard inserted') ? true : undefined;
      }
    });
  }

  /** Opens a PC/SC connection to the card in the slot (SCardConnect through scriptor). */
  connect(): Promise<ScriptorTransport> {
    return ScriptorTransport.open(this.reader);
  }

  /** Detaches the cards, stops pcscd if this stack started it, releases the slot. */
  async stop(): Promise<void> {
    for (const attached of this.#attached.splice(0)) await attached.detach();
    if (this.#pcscd) await stopProcess(this.#pcscd);
    await this.#releaseLock();
  }
}

/**
 * A PC/SC connection driven through scriptor (pcsc-tools): one scriptor process per connection,
 * fed one APDU per line; it prints `< <hex bytes, 16 per line> : <status text>` per answer and dies
 * with "Can't get info: <PC/SC error>" when a transmit fails. A Transport, so reader-side code can
 * run over the real stack.
 */
export class ScriptorTransport implements Transport {
  readonly #child: ChildProcess;
  #stdout = '';
  #stderr = '';
  #exited = false;
  #wake: (() => void) | undefined;
  #card: CardPresence | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      this.#stdout += text;
      this.#notify();
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.#stderr += text;
      this.#notify();
    });
    // 'close', not 'exit': its last words on stdout/stderr are read by then.
    child.on('close', () => {
      this.#exited = true;
      this.#notify();
    });
    child.stdin!.on('error', () => {}); // EPIPE once scriptor died: reported through its stderr
  }

  /** Connects to the card in `reader`; rejects with scriptor's error (e.g. "No smartcard inserted"). */
  static async open(reader: string, timeoutMs = 10_000): Promise<ScriptorTransport> {
    const child = spawn(findExecutable('scriptor') ?? 'scriptor', ['-u', '-r', reader], { stdio: ['pipe', 'pipe', 'pipe'] });
    const session = new ScriptorTransport(child);
    await session.#until(timeoutMs, () => /^Using .*protocol/m.test(session.#stdout));
    session.#stdout = '';
    return session;
  }

  get card(): CardPresence | undefined {
    return this.#card;
  }

  /** Reads the UID with Get Data (FF CA) and records it as `card`. */
  async identify(): Promise<CardPresence> {
    const answer = await this.transceive(fromHex('ffca000000'));
    if (answer.length < 2 || answer[answer.length - 2] !== 0x90) throw new Error(`Get UID answered ${toHex(answer)}`);
    this.#card = { uid: answer.slice(0, -2) };
    return this.#card;
  }

  /** Sends one APDU; an empty answer is returned as it came (pcscd's answer to a torn command). */
  async transceive(apdu: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
    this.#child.stdin!.write(`${toHex(apdu)}\n`);
    let answer: Uint8Array | undefined;
    await this.#until(timeoutMs, () => {
      const match = /^< ([0-9A-Fa-f \n]*?) ?: [^\n]*\n/m.exec(this.#stdout);
      if (!match) return false;
      answer = fromHex(match[1].replace(/\s+/g, ''));
      this.#stdout = this.#stdout.slice(match.index + match[0].length);
      return true;
    });
    return answer!;
  }

  /** Ends scriptor (SCardDisconnect, leave card). */
  async close(): Promise<void> {
    if (this.#exited) return;
    const closed = new Promise<void>((resolve) => this.#child.once('close', () => resolve()));
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await closed;
    clearTimeout(timer);
  }

  async #until(timeoutMs: number, done: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (done()) return;
      if (this.#exited) {
        const error = this.#stderr.trim().split('\n').filter((line) => !/^(Using given card reader|Reading commands)/.test(line));
        if (done()) return;
        throw new Error(`scriptor: ${error.join('; ') || 'exited'}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#child.kill('SIGKILL');
        throw new Error(`scriptor: no answer within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** Reader names from `pcsc_scan -r` ("0: Virtual PCD 00 00"). */
export function listReaders(): string[] {
  const result = spawnSync(findExecutable('pcsc_scan') ?? 'pcsc_scan', ['-r'], { encoding: 'utf8', timeout: 5000 });
  return (result.stdout ?? '')
    .split('\n')
    .map((line) => /^\d+: (.+)$/.exec(line.trim())?.[1])
    .filter((name): name is string => name !== undefined);
}

/**
 * Makes sure pcscd runs with vpcd listening. Returns the pcscd this call started (to stop at the
 * end), or undefined when one was already there. A first PC/SC client call (pcsc_scan) starts a
 * socket-activated pcscd (systemd); otherwise root starts `pcscd --foreground`.
 */
async function ensurePcscd(config: VpcdConfig, timeoutMs: number): Promise<ChildProcess | undefined> {
  if (isListening(config.port)) return undefined;
  if (existsSync(PCSCD_SOCKET) && pcscdPid() === undefined) {
    listReaders();
    const activated = await waitFor(2000, '', async () => (isListening(config.port) ? true : undefined)).catch(() => false);
    if (activated) return undefined;
  }
  const child = spawn(findExecutable('pcscd')!, ['--foreground'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await waitFor(timeoutMs, () => `pcscd to listen on vpcd port ${config.port}; its output: ${output.trim() || '(none)'}`, async () => {
      if (exited) throw new Error(`pcscd exited: ${output.trim()}`);
      return isListening(config.port) ? true : undefined;
    });
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** An exclusive lock file across processes; a lock left by a dead process is taken over. */
async function lockFile(file: string, timeoutMs: number): Promise<() => Promise<void>> {
  const token = `${process.pid} ${Math.random().toString(36).slice(2)}`;
  await waitFor(timeoutMs, `the vpcd slot lock ${file}`, async () => {
    try {
      await writeFile(file, token, { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(file, 'utf8').catch(() => '')).split(' ')[0]);
    if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) await unlink(file).catch(() => {});
    return undefined;
  });
  return async () => {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current === token) await unlink(file).catch(() => {});
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls `check` (every 200 ms) until it returns a value; rejects after `timeoutMs` naming `what`. */
async function waitFor<T>(timeoutMs: number, what: string | (() => string), check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Why the PC/SC transport (nfc-pcsc over this stack) cannot run here, in one line, or undefined:
 * the stack's reasons first, then nfc-pcsc and its native addon (@pokusew/pcsclite, which needs
 * libpcsclite-dev when npm installs it). Loads nfc-pcsc; await it at the top of a test file.
 */
export async function nfcPcscSkipReason(): Promise<string | undefined> {
  const reason = pcscSkipReason();
  if (reason !== undefined) return reason;
  try {
    await loadNfcPcsc();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * What an end-to-end file does with its skip reason: in CI (DESFIRE_PACS_REQUIRE_PCSC=1) a missing
 * piece is a failure; elsewhere it says in one line why the file is skipped.
 */
export function reportPcscSkip(skip: string | undefined, what: string): void {
  if (skip === undefined) return;
  if (process.env.DESFIRE_PACS_REQUIRE_PCSC === '1') throw new Error(`${what} cannot run: ${skip}`);
  console.warn(`${what} skipped: ${skip}`);
}

/** Starts the PC/SC stack before the suite's tests and stops it after; the getter gives the running stack. */
export function usePcscStack(): () => PcscTestStack {
  let stack: PcscTestStack | undefined;
  beforeAll(async () => {
    stack = await PcscTestStack.start();
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);
  return () => {
    if (!stack) throw new Error('the PC/SC stack is not started');
    return stack;
  };
}
