import type { Logger } from 'pino';
import { fromHex } from '../../desfire/bytes.js';
import type { Transport } from '../../desfire/transport.js';
import type { BatchRunner } from '../batches/batch-runner.js';
import { NoCardLeft } from '../batches/no-card-left.js';
import type { Journal } from '../journal/index.js';
import { waitForNews } from '../batches/wait-for-news.js';
import type { Station } from './station.js';
import type { StationRegistry } from './station-registry.js';

/** What an emulated station needs of the virtual card store. */
export interface VirtualCardPool {
  create(input: { stationId: string }): { readonly id: string; readonly uid: Uint8Array };
  findByUid(uid: Uint8Array): { readonly id: string; readonly uid: Uint8Array; readonly stationId: string | undefined } | undefined;
  transport(id: string): Transport;
}

export interface EmulatedStationOptions {
  readonly id: string;
  readonly runner: BatchRunner;
  readonly journal: Journal;
  readonly cards: VirtualCardPool;
  readonly registry: StationRegistry;
  readonly logger: Logger;
  /** Tries at one card while it loses power or fails the final door check, before it is left failed (default 3). */
  readonly maxAttempts?: number;
  /** How often an idle station looks for work another process added, and waits after an error (default 2000 ms). */
  readonly idlePollMs?: number;
}

interface VirtualCardRef {
  readonly id: string;
  readonly uid: Uint8Array;
}

/**
 * A pool of blank virtual cards inside the service, encoding open batches for testing and
 * demos. On start it first finishes its own unfinished cards (cards of open batches that one of
 * its virtual cards holds: claimed, interrupted or failed, e.g. by a killed service), so no card
 * number is lost or encoded twice; then, while any open batch has numbers left, it takes a new
 * virtual card and encodes it; idle, it waits for news of work.
 *
 * A card that loses power (a tearing fault) or fails the final door check (a proximity round
 * slowed by load) is tried again at once, up to `maxAttempts` tries; then it stays failed,
 * counted as such in its batch, and is tried again when the station next starts while the batch
 * is open. A batch completes when none of its cards is pending or encoding, so failed cards
 * never hold a batch open; a cancelled batch's unfinished cards are left as they are.
 */
export class EmulatedStation implements Station {
  readonly id: string;
  readonly #o: EmulatedStationOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  /** A blank card taken out for a number that was gone meanwhile: the next card to use. */
  #spare: VirtualCardRef | undefined;

  constructor(options: EmulatedStationOptions) {
    this.id = options.id;
    this.#o = options;
    this.#log = options.logger.child({ station: options.id });
  }

  start(): void {
    if (this.#running || this.#stop.signal.aborted) return;
    this.#seen('starting');
    this.#running = this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort(new Error(`station ${this.id} is stopping`));
    await this.#running;
  }

  get #stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  async #run(): Promise<void> {
    try {
      await this.#resumeOwn();
      while (!this.#stopping) {
        if (this.#o.journal.nextOpenBatch() === undefined) {
          this.#seen('idle');
          await waitForNews(this.#o.runner.events, this.#o.idlePollMs ?? 2000, this.#stop.signal);
          continue;
        }
        const card = this.#spare ?? this.#o.cards.create({ stationId: this.id });
        this.#spare = undefined;
        if (!(await this.#encode(card))) this.#spare = card;
      }
    } catch (e) {
      this.#log.error({ err: e }, 'emulated station failed');
      this.#seen(`stopped: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.#seen('stopped');
  }

  /** Its own cards of open batches left unfinished, presented again. */
  async #resumeOwn(): Promise<void> {
    for (const record of this.#o.journal.resumableCards()) {
      if (this.#stopping) return;
      const card = this.#o.cards.findByUid(fromHex(record.uid!));
      if (card?.stationId !== this.id) continue;
      this.#log.info({ card: record.id, state: record.state }, 'resuming an unfinished card');
      await this.#encode(card);
    }
  }

  /**
   * Encodes one virtual card, tried again at once while it may pass (see EncodeInput.attempts). False
   * when it got no card number (none left, or the batch finished meanwhile): the card is still blank.
   */
  async #encode(card: VirtualCardRef): Promise<boolean> {
    try {
      await this.#o.runner.encodeCard({
        transport: this.#o.cards.transport(card.id),
        uid: card.uid,
        stationId: this.id,
        signal: this.#stop.signal,
        attempts: this.#o.maxAttempts ?? 3,
      });
      return true;
    } catch (e) {
      if (this.#stopping || e instanceof NoCardLeft) return false;
      // Not the card's fault (a batch cancelled meanwhile, a missing profile or key set): wait before trying anew, so a lasting cause is no busy loop.
      this.#log.warn({ err: e }, 'no card number for the station\'s card');
      this.#seen(`waiting: ${e instanceof Error ? e.message : String(e)}`);
      await waitForNews(this.#o.runner.events, this.#o.idlePollMs ?? 2000, this.#stop.signal);
      return false;
    }
  }

  #seen(activity: string): void {
    this.#o.registry.seen(this.id, 'emulated', activity);
  }
}
