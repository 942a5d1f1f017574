import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CardEndpoint } from '../card-endpoint.js';
import { DEFAULT_VPCD_ADDRESS, formatVpcdAddress, type VpcdAddress } from './address.js';
import { backoffDelay, DEFAULT_BACKOFF, type Backoff } from './backoff.js';
import { CardSlot } from './card-slot.js';
import type { VpcdEvent, VpcdEventListener } from './events.js';
import { VpcdMessageDecoder } from './message-decoder.js';
import { encodeVpcdMessage } from './protocol.js';

export interface VpcdClientOptions {
  /** Where vpcd listens; default 127.0.0.1:35963 (reader slot 0 of the default configuration). */
  readonly address?: VpcdAddress;
  /** Reconnection delays while vpcd is not there, or after it closed the connection. */
  readonly backoff?: Backoff;
  /**
   * How long a card that stopped answering (power loss) stays out of the field before it is
   * presented again, in ms. Default 1000: longer than pcscd's presence poll (about 400 ms), so
   * pcscd and its applications see the card removed, then a new card inserted.
   */
  readonly removalMs?: number;
  /** Give up a connection attempt after this long, in ms (default 5000), then retry. */
  readonly connectTimeoutMs?: number;
  readonly onEvent?: VpcdEventListener;
}

type State = 'idle' | 'running' | 'closing' | 'closed' | 'failed';

/**
 * Presents a card in a vpcd virtual reader slot: connects to vpcd (which listens, as pcscd's
 * driver), answers its power control codes, ATR requests and APDUs (see `CardSlot`), and keeps
 * doing so across vpcd restarts. While connected the card is in the field; a dropped connection is
 * a card taken out. When the card loses power mid-command (CardPowerLost) the client closes the
 * connection without answering and presents the card again after `removalMs`; pcscd then reports
 * the torn command with an empty answer, the card removed, then a card inserted.
 *
 * Any other error from the card is a bug: the connection is dropped and `closed` rejects with it.
 */
export class VpcdClient {
  readonly #slot: CardSlot;
  readonly #address: VpcdAddress;
  readonly #backoff: Backoff;
  readonly #removalMs: number;
  readonly #connectTimeoutMs: number;
  readonly #emit: VpcdEventListener;
  #state: State = 'idle';
  #socket: Socket | undefined;
  /** The current connection's message chain: answers go out in order. */
  #work: Promise<void> = Promise.resolve();
  #retryTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  readonly #closed: Promise<void>;
  #settle!: (error?: unknown) => void;

  constructor(card: CardEndpoint, options: VpcdClientOptions = {}) {
    this.#address = options.address ?? DEFAULT_VPCD_ADDRESS;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#removalMs = options.removalMs ?? 1000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    const listener = options.onEvent ?? (() => {});
    this.#emit = (event: VpcdEvent) => listener(event);
    this.#slot = new CardSlot(card, this.#emit);
    this.#closed = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.#closed.catch(() => {}); // whoever awaits `closed` still sees the rejection
  }

  /** Resolves once `close()` has finished; rejects when the card failed with an error that is a bug. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** True while connected to vpcd (the card is in the field). */
  get connected(): boolean {
    return this.#socket !== undefined && !this.#socket.connecting && !this.#socket.destroyed;
  }

  /** Starts connecting; retries until `close()`. */
  start(): void {
    if (this.#state !== 'idle') throw new Error(`VpcdClient.start: already ${this.#state}`);
    this.#state = 'running';
    this.#connect();
  }

  /**
   * Takes the card out of the field: an answer being delayed is still sent, then the connection
   * is closed (vpcd sees the card removed) and the card powered off. Never rejects.
   */
  async close(): Promise<void> {
    if (this.#state === 'idle') {
      this.#state = 'closed';
      this.#settle();
    }
    if (this.#state !== 'running') return this.#closed.catch(() => {});
    this.#state = 'closing';
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    if (socket === undefined) {
      this.#finish();
    } else if (socket.connecting) {
      socket.destroy();
    } else {
      await this.#work;
      if (!socket.destroyed) {
        socket.end();
        const force = setTimeout(() => socket.destroy(), 1000);
        socket.once('close', () => clearTimeout(force));
      }
    }
    return this.#closed.catch(() => {});
  }

  #connect(): void {
    const address = formatVpcdAddress(this.#address);
    this.#emit({ type: 'connecting', address });
    const socket = connect({ host: this.#address.host, port: this.#address.port });
    this.#socket = socket;
    this.#work = Promise.resolve();
    socket.setNoDelay(true);
    socket.setTimeout(this.#connectTimeoutMs, () => socket.destroy(new Error(`no connection after ${this.#connectTimeoutMs} ms`)));
    const decoder = new VpcdMessageDecoder();
    let inField = false;
    let spoke = false;
    let lost: string | undefined;
    let failure: Error | undefined;

    socket.once('connect', () => {
      socket.setTimeout(0);
      try {
        this.#slot.insert();
      } catch (error) {
        this.#fail(error);
        return;
      }
      inField = true;
      this.#emit({ type: 'connected', address, uid: this.#slot.uid });
    });
    socket.on('data', (chunk: Buffer) => {
      spoke = true;
      for (const message of decoder.push(chunk)) {
        this.#work = this.#work.then(async () => {
          if (this.#socket !== socket || socket.destroyed || this.#state === 'failed') return;
          const reply = this.#slot.handle(message);
          if (reply.kind === 'answer') {
            if (reply.delayMs > 0) await sleep(reply.delayMs);
            if (!socket.destroyed) socket.write(encodeVpcdMessage(reply.bytes));
          } else if (reply.kind === 'card-lost') {
            lost = reply.reason;
            const backInMs = this.#state === 'running' ? this.#removalMs : 0;
            this.#emit({ type: 'card-lost', reason: reply.reason, command: message, backInMs });
            socket.destroy();
          }
        }).catch((error: unknown) => this.#fail(error));
      }
    });
    socket.on('error', (error) => {
      failure = error;
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (inField) {
        try {
          this.#slot.remove();
        } catch (error) {
          this.#fail(error);
        }
        const reason = lost ?? (this.#state === 'closing' ? 'closed by the client' : failure ? failure.message : 'closed by vpcd');
        this.#emit({ type: 'disconnected', reason });
      }
      if (this.#state === 'closing') this.#finish();
      if (this.#state !== 'running') return;
      if (spoke) this.#attempt = 0;
      const inMs = lost !== undefined ? this.#removalMs : backoffDelay(this.#attempt++, this.#backoff);
      const reason = lost ?? (failure ? failure.message : inField ? 'closed by vpcd' : 'no connection');
      this.#emit({ type: 'retrying', inMs, reason });
      this.#retryTimer = setTimeout(() => this.#connect(), inMs);
    });
  }

  #finish(): void {
    this.#state = 'closed';
    this.#settle();
  }

  #fail(error: unknown): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#state = 'failed';
    clearTimeout(this.#retryTimer);
    this.#socket?.destroy();
    this.#settle(error instanceof Error ? error : new Error(String(error)));
  }
}
