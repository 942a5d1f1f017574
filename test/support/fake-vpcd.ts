import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { encodeVpcdMessage, VpcdMessageDecoder } from '../../src/emulator/vpcd/index.js';

/**
 * vpcd's side of the wire, for protocol tests: listens on 127.0.0.1 (port 0: any free port) and
 * lets a test send control codes and APDUs and read the card's answers.
 */
export class FakeVpcd {
  readonly #server: Server;
  readonly #waiting: ((connection: FakeVpcdConnection) => void)[] = [];
  readonly #accepted: FakeVpcdConnection[] = [];
  readonly connections: FakeVpcdConnection[] = [];

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket) => {
      const connection = new FakeVpcdConnection(socket);
      this.connections.push(connection);
      const waiter = this.#waiting.shift();
      if (waiter) waiter(connection);
      else this.#accepted.push(connection);
    });
  }

  static async listen(port = 0): Promise<FakeVpcd> {
    const server = createServer();
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return new FakeVpcd(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The next connection from a card (already accepted or still to come). */
  nextConnection(timeoutMs = 5000): Promise<FakeVpcdConnection> {
    const ready = this.#accepted.shift();
    if (ready) return Promise.resolve(ready);
    return withTimeout(new Promise((resolve) => this.#waiting.push(resolve)), timeoutMs, 'no card connected');
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A free TCP port on 127.0.0.1 with nothing listening on it (for the moment). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class FakeVpcdConnection {
  readonly #socket: Socket;
  readonly #decoder = new VpcdMessageDecoder();
  readonly #messages: Uint8Array[] = [];
  #waiter: (() => void) | undefined;
  /** Resolves when the card side closed the connection (or it was destroyed). */
  readonly closed: Promise<void>;
  #ended = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#messages.push(...this.#decoder.push(chunk));
      this.#wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#ended = true;
        this.#wake();
        resolve();
      }),
    );
  }

  get isClosed(): boolean {
    return this.#ended;
  }

  /** Sends one framed message. */
  send(payload: Uint8Array): void {
    this.#socket.write(encodeVpcdMessage(payload));
  }

  /** Sends raw bytes (to test framing across chunks). */
  sendRaw(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  /** The next message from the card; rejects if none comes in time or the connection closes first. */
  async next(timeoutMs = 2000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.#messages.shift();
      if (message) return message;
      if (this.#ended) throw new Error('connection closed before an answer');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer within ${timeoutMs} ms`);
      await withTimeout(new Promise<void>((resolve) => (this.#waiter = resolve)), left, '').catch(() => {});
    }
  }

  /** Sends a message and waits for the card's answer. */
  async request(payload: Uint8Array, timeoutMs = 2000): Promise<Uint8Array> {
    this.send(payload);
    return this.next(timeoutMs);
  }

  /** True when nothing arrives from the card within `ms`. */
  async quietFor(ms: number): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.#messages.length === 0;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(what)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
