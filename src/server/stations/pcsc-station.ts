import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CardPresence, Transport } from '../../desfire/transport.js';
import type { WaitOptions } from '../../encoder/transports/index.js';
import type { BatchRunner } from '../batches/batch-runner.js';
import type { Station } from './station.js';
import type { StationRegistry } from './station-registry.js';

/** A reader with a card slot, as PcscTransport is. */
export interface CardReader extends Transport {
  /** Resolves with the card in the slot (at once when one is there). */
  waitForCard(options?: WaitOptions): Promise<CardPresence>;
  /** Resolves once the slot is empty. */
  waitForRemoval(options?: WaitOptions): Promise<void>;
}

export interface PcscStationOptions {
  readonly id: string;
  /** The station's reader (a PcscTransport, opened by the caller, who closes it after stop()). */
  readonly reader: CardReader;
  readonly runner: BatchRunner;
  readonly registry: StationRegistry;
  readonly logger: Logger;
  /** The batch to encode; absent: the card's own batch, else the oldest open batch with numbers left. */
  readonly batchId?: string;
  /** Wait after a reader failure before trying again (default 1000 ms). */
  readonly retryMs?: number;
}

/**
 * A PC/SC reader on the service's machine, beside a card printer or an operator: waits for a
 * card, encodes it, waits until it is taken away, and again. A card pulled out mid-way is left
 * failed and finished when it is presented again (any station); a card refused is left untouched.
 * The station says what the operator should do in its activity.
 */
export class PcscStation implements Station {
  readonly id: string;
  readonly #o: PcscStationOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(options: PcscStationOptions) {
    this.id = options.id;
    this.#o = options;
    this.#log = options.logger.child({ station: options.id });
  }

  start(): void {
    if (this.#running || this.#stop.signal.aborted) return;
    this.#running = this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort(new Error(`station ${this.id} is stopping`));
    await this.#running;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        this.#seen('waiting for a card');
        const presence = await this.#o.reader.waitForCard({ signal });
        this.#seen(await this.#encode(presence));
        await this.#o.reader.waitForRemoval({ signal });
      } catch (e) {
        if (signal.aborted) break;
        this.#log.warn({ err: e }, 'reader failure');
        this.#seen(`reader failure: ${e instanceof Error ? e.message : String(e)}`);
        await sleep(this.#o.retryMs ?? 1000, undefined, { signal }).catch(() => undefined);
      }
    }
    this.#seen('stopped');
  }

  /** Encodes the card in the slot; what the operator should do next. */
  async #encode(presence: CardPresence): Promise<string> {
    try {
      const outcome = await this.#o.runner.encodeCard({
        transport: this.#o.reader,
        uid: presence.uid,
        stationId: this.id,
        signal: this.#stop.signal,
        ...(this.#o.batchId !== undefined ? { batchId: this.#o.batchId } : {}),
      });
      const what = `card ${outcome.card.cardNumber} ${outcome.card.state}`;
      return outcome.failure === undefined ? `${what}: take the card away` : `${what} (${outcome.failure}): take the card away`;
    } catch (e) {
      if (this.#stop.signal.aborted) throw e;
      this.#log.info({ err: e }, 'card not taken');
      return `card not taken (${e instanceof Error ? e.message : String(e)}): take the card away`;
    }
  }

  #seen(activity: string): void {
    this.#o.registry.seen(this.id, 'pcsc', activity);
  }
}
