import { setImmediate } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database, Statement } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { CardPresence, TimedAnswer, Transport } from '../../desfire/transport.js';
import { CardPowerLost } from '../../emulator/card-endpoint.js';
import { importImage } from '../../emulator/image.js';
import type { PiccState } from '../../emulator/model.js';
import { VirtualCard } from '../../emulator/virtual-card.js';
import { TransportError } from '../../encoder/transport-error.js';
import { NO_FAULTS, stateColumns, toInfo, uidColumn, type CardFaults, type CardRow, type VirtualCardInfo } from './card-info.js';
import { checkApdu, checkFaults, checkStationId, checkUid, initialState, type CreateCardInput } from './card-input.js';
import { openDatabase } from './database.js';
import { invalidArgument, unknownCard, VirtualCardStoreError } from './errors.js';
import { KeyedQueue } from './keyed-queue.js';
import { LruCache } from './lru-cache.js';
import { decodePageToken, encodePageToken } from './page-token.js';

export { NO_FAULTS, type CardFaults, type VirtualCardInfo } from './card-info.js';
export { MAX_APDU_LENGTH, MAX_DELAY_MS, UID_LENGTH, type CreateCardInput } from './card-input.js';
export { isVirtualCardStoreError, VirtualCardStoreError, type VirtualCardStoreErrorCode } from './errors.js';

export interface VirtualCardStoreOptions {
  /** A file path, or ":memory:" for tests. */
  readonly path: string;
  readonly logger?: Logger;
  /** Cards kept live in memory (default 1000); beyond it the least recently used idle card is dropped. */
  readonly cacheSize?: number;
}

export interface CardPage {
  /** In id order. */
  readonly cards: VirtualCardInfo[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
const DEFAULT_CACHE_SIZE = 1000;
/** Fresh random UIDs drawn before giving up on meeting stored ones (odds about 1e-7 per draw with 10,000 cards). */
const RANDOM_UID_DRAWS = 3;

/** A card in memory: the emulator object, its faults as stored, and the ATR of its last power-up. */
interface LiveCard {
  readonly card: VirtualCard;
  faults: CardFaults;
  atr: Uint8Array;
}

/** The columns listings need: everything but the image. */
const INFO_COLUMNS = 'id, uid, capacity_bytes, random_uid, application_ids, tear_at_write, delay_ms, station_id, created_at';

/**
 * Software DESFire EV3 cards held by the service (EmulatorService, emulated stations), persisted
 * in SQLite. Every APDU that changes a card's persistent state has the card's image committed
 * before its answer is returned, so a reader never sees an answer the store could lose to a killed
 * process. Live cards sit in a bounded LRU cache; one evicted is as a card taken out of the field
 * (its session is lost, its persistent state is already stored). APDUs to one card are served one
 * at a time, in order; cards are independent. One store serves a file at a time; other connections
 * may read it.
 */
export class VirtualCardStore {
  readonly #db: Database;
  readonly #logger: Logger | undefined;
  readonly #live: LruCache<LiveCard>;
  readonly #queue = new KeyedQueue();
  /** Aborted by close(): ends answer delays in progress. */
  readonly #closing = new AbortController();
  readonly #sql: ReturnType<typeof statements>;

  private constructor(db: Database, options: VirtualCardStoreOptions) {
    this.#db = db;
    this.#sql = statements(db);
    this.#logger = options.logger?.child({ component: 'virtual-card-store' });
    this.#live = new LruCache<LiveCard>(
      options.cacheSize ?? DEFAULT_CACHE_SIZE,
      (id) => !this.#queue.busy(id),
      (_, live) => live.card.powerOff(),
    );
  }

  /** Opens or creates the store and brings its schema up to date (SCHEMA_TOO_NEW if newer). */
  static open(options: VirtualCardStoreOptions): VirtualCardStore {
    return new VirtualCardStore(openDatabase(options.path), options);
  }

  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /** A new card, factory fresh or from an image; UID_TAKEN if another stored card has its UID. */
  create(input: CreateCardInput = {}): VirtualCardInfo {
    this.#open();
    const stationId = checkStationId(input.stationId);
    const randomUidDrawn = input.uid === undefined && input.image === undefined;
    for (let draw = 1; ; draw++) {
      const picc = initialState(input);
      const row: CardRow = {
        id: randomUUID(),
        uid: uidColumn(picc.uid),
        ...stateColumns(picc),
        tear_at_write: NO_FAULTS.tearAtWrite,
        delay_ms: NO_FAULTS.delayMs,
        station_id: stationId ?? null,
        created_at: new Date().toISOString(),
      };
      try {
        this.#sql.insert.run(row);
      } catch (e) {
        if (!isUidTaken(e)) throw e;
        if (randomUidDrawn && draw < RANDOM_UID_DRAWS) continue;
        throw new VirtualCardStoreError('UID_TAKEN', `UID ${row.uid} already belongs to a virtual card`, { field: input.image === undefined ? 'uid' : 'image.uid', cause: e });
      }
      this.#logger?.info({ cardId: row.id, uid: row.uid, stationId }, 'virtual card created');
      return toInfo(row);
    }
  }

  get(id: string): VirtualCardInfo {
    this.#open();
    const row = this.#sql.info.get(id) as CardRow | undefined;
    if (row === undefined) throw unknownCard(id);
    return toInfo(row);
  }

  findByUid(uid: Uint8Array): VirtualCardInfo | undefined {
    this.#open();
    const row = this.#sql.infoByUid.get(uidColumn(checkUid(uid))) as CardRow | undefined;
    return row === undefined ? undefined : toInfo(row);
  }

  /** Cards in id order, a page at a time (keyset pagination: cards added meanwhile never shift a page). */
  list(page: { pageSize?: number; pageToken?: string } = {}, filter: { stationId?: string } = {}): CardPage {
    this.#open();
    const pageSize = page.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) throw invalidArgument('page_size', `must be 1..${MAX_PAGE_SIZE}, got ${pageSize}`);
    const filterKey = JSON.stringify({ s: filter.stationId ?? null });
    const after = decodePageToken(page.pageToken ?? '', filterKey);
    const rows = (
      filter.stationId === undefined ? this.#sql.page.all(after, pageSize + 1) : this.#sql.stationPage.all(filter.stationId, after, pageSize + 1)
    ) as CardRow[];
    const cards = rows.slice(0, pageSize).map(toInfo);
    return { cards, nextPageToken: rows.length > pageSize ? encodePageToken(cards[cards.length - 1].id, filterKey) : '' };
  }

  /** Removes a card; APDUs still queued for it fail with UNKNOWN_CARD. */
  delete(id: string): void {
    this.#open();
    if (this.#sql.delete.run(id).changes === 0) throw unknownCard(id);
    this.#live.delete(id)?.card.powerOff();
    this.#logger?.info({ cardId: id }, 'virtual card deleted');
  }

  /**
   * Sends one APDU to the card, as a reader in whose field it lies, and returns its answer. Waits
   * the card's answer delay first (a timer: other cards go on meanwhile). A card that loses power
   * at a write (tearing fault) rejects with TransportError, as a reader sees a card leave the
   * field; it powers up again on the next APDU. `signal` abandons the APDU while it is delayed.
   */
  async transceive(id: string, apdu: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    this.#open();
    checkApdu(apdu);
    return this.#queue.run(id, () => this.#exchange(id, apdu, signal));
  }

  /** The card as a reader slot: what personalization and door flows drive. */
  transport(id: string): Transport {
    this.get(id);
    const presence = () => this.#presence(id);
    return {
      transceive: (apdu) => this.transceive(id, apdu),
      timedExchange: (commands) => this.#timedExchange(id, commands),
      get card() {
        return presence();
      },
    };
  }

  /** Sets (or with zeros clears) the card's faults; a tear is counted from the next write. */
  setFaults(id: string, faults: CardFaults): VirtualCardInfo {
    this.#open();
    const checked = checkFaults(faults);
    if (this.#sql.setFaults.run({ id, tear_at_write: checked.tearAtWrite, delay_ms: checked.delayMs }).changes === 0) throw unknownCard(id);
    const live = this.#live.peek(id);
    if (live !== undefined) arm(live, checked);
    return this.get(id);
  }

  /** The card's image, JSON text (`importImage` and `desfire-pacs emulate --image` read it). */
  exportImage(id: string): string {
    this.#open();
    const image = this.#sql.image.get(id) as string | undefined;
    if (image === undefined) throw unknownCard(id);
    return image;
  }

  /** Closes the database; delayed APDUs and later calls fail with CLOSED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.#closing.abort();
    for (const live of this.#live.clear()) live.card.powerOff();
    this.#db.close();
  }

  async #exchange(id: string, apdu: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    // Queued behind an APDU that ended with close().
    this.#open();
    const { delayMs } = this.#liveCard(id).faults;
    // A virtual card answers at once; without a turn of the event loop per APDU, a station's
    // whole card (and the next) would run as one chain of microtasks, and no gRPC call would be
    // served meanwhile. A real card's answer comes from I/O, so this is also the faithful timing.
    if (delayMs > 0) await this.#delay(delayMs, signal);
    else await setImmediate();
    // The card may have been deleted, or the store closed, during the delay.
    this.#open();
    return this.#answer(id, this.#liveCard(id), apdu);
  }

  /**
   * Proximity-check rounds timed at the card, as a reader host times them at its reader: back to
   * back in the card's queue, each measured around the card's answer and its delay fault (which
   * stands for a relay between reader and card), so a busy service process does not slow the
   * rounds of its own virtual cards.
   */
  async #timedExchange(id: string, commands: readonly Uint8Array[]): Promise<TimedAnswer[]> {
    this.#open();
    commands.forEach(checkApdu);
    return this.#queue.run(id, async () => {
      const answers: TimedAnswer[] = [];
      for (const apdu of commands) {
        const start = process.hrtime.bigint();
        const { delayMs } = this.#liveCard(id).faults;
        if (delayMs > 0) await this.#delay(delayMs, undefined);
        const response = this.#answer(id, this.#liveCard(id), apdu);
        answers.push({ response, elapsedNs: process.hrtime.bigint() - start });
      }
      return answers;
    });
  }

  async #delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const abort = signal === undefined ? this.#closing.signal : AbortSignal.any([this.#closing.signal, signal]);
    try {
      await sleep(ms, undefined, { signal: abort });
    } catch (e) {
      this.#open();
      throw signal?.aborted ? signal.reason : e;
    }
  }

  /**
   * The card's answer, its state committed first when the APDU changed it. Synchronous from the
   * lookup to the commit, so nothing else touches the card in between.
   */
  #answer(id: string, live: LiveCard, apdu: Uint8Array): Uint8Array {
    const card = live.card;
    if (!card.powered) live.atr = card.powerOn();
    const before = card.completedWrites;
    let answer: Uint8Array | undefined;
    let failure: unknown;
    try {
      answer = card.transceive(apdu);
    } catch (e) {
      failure = e;
    }
    const torn = failure instanceof CardPowerLost;
    const written = card.completedWrites - before;
    if (written > 0 || torn) {
      // The tear countdown, like the card's, counts the writes done; a tear disarms it.
      const faults = { ...live.faults, tearAtWrite: torn || live.faults.tearAtWrite === 0 ? 0 : live.faults.tearAtWrite - written };
      try {
        this.#save(id, card.state, faults);
      } catch (e) {
        // The stored state is the truth: the next APDU reloads it, as if power was lost before this one.
        this.#live.delete(id);
        throw e;
      }
      live.faults = faults;
    }
    if (torn) {
      this.#logger?.info({ cardId: id }, 'virtual card lost power (tearing fault)');
      throw new TransportError('the virtual card lost power (tearing fault); it powers up again on the next APDU', { cause: failure });
    }
    if (failure !== undefined) throw failure;
    return answer!;
  }

  #save(id: string, picc: PiccState, faults: CardFaults): void {
    const changes = this.#sql.saveState.run({ id, ...stateColumns(picc), tear_at_write: faults.tearAtWrite }).changes;
    if (changes === 0) throw unknownCard(id);
  }

  /** The card in memory, loaded (and powered up, as put in a reader's field) if need be. */
  #liveCard(id: string): LiveCard {
    const cached = this.#live.get(id);
    if (cached !== undefined) return cached;
    const row = this.#sql.row.get(id) as CardRow | undefined;
    if (row === undefined) throw unknownCard(id);
    const card = new VirtualCard(importImage(JSON.parse(row.image)));
    const live: LiveCard = { card, faults: NO_FAULTS, atr: card.powerOn() };
    arm(live, { tearAtWrite: row.tear_at_write, delayMs: row.delay_ms });
    this.#live.add(id, live);
    return live;
  }

  #presence(id: string): CardPresence | undefined {
    if (this.closed) return undefined;
    let live: LiveCard;
    try {
      live = this.#liveCard(id);
    } catch {
      return undefined;
    }
    if (!live.card.powered) live.atr = live.card.powerOn();
    return { uid: live.card.uid, atr: live.atr };
  }

  #open(): void {
    if (this.closed) throw new VirtualCardStoreError('CLOSED', 'the virtual card store is closed');
  }
}

function arm(live: LiveCard, faults: CardFaults): void {
  live.faults = faults;
  live.card.tearAtWrite(faults.tearAtWrite === 0 ? undefined : faults.tearAtWrite);
}

function isUidTaken(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' && e.message.includes('virtual_cards.uid');
}

type StatementName = 'insert' | 'info' | 'infoByUid' | 'page' | 'stationPage' | 'row' | 'image' | 'delete' | 'setFaults' | 'saveState';

function statements(db: Database): Record<StatementName, Statement> {
  return {
    insert: db.prepare(`INSERT INTO virtual_cards (id, uid, capacity_bytes, random_uid, application_ids, tear_at_write, delay_ms, station_id, created_at, image)
      VALUES (@id, @uid, @capacity_bytes, @random_uid, @application_ids, @tear_at_write, @delay_ms, @station_id, @created_at, @image)`),
    info: db.prepare(`SELECT ${INFO_COLUMNS} FROM virtual_cards WHERE id = ?`),
    infoByUid: db.prepare(`SELECT ${INFO_COLUMNS} FROM virtual_cards WHERE uid = ?`),
    page: db.prepare(`SELECT ${INFO_COLUMNS} FROM virtual_cards WHERE id > ? ORDER BY id LIMIT ?`),
    stationPage: db.prepare(`SELECT ${INFO_COLUMNS} FROM virtual_cards WHERE station_id = ? AND id > ? ORDER BY id LIMIT ?`),
    row: db.prepare('SELECT * FROM virtual_cards WHERE id = ?'),
    image: db.prepare('SELECT image FROM virtual_cards WHERE id = ?').pluck(),
    delete: db.prepare('DELETE FROM virtual_cards WHERE id = ?'),
    setFaults: db.prepare('UPDATE virtual_cards SET tear_at_write = @tear_at_write, delay_ms = @delay_ms WHERE id = @id'),
    saveState: db.prepare(`UPDATE virtual_cards SET capacity_bytes = @capacity_bytes, random_uid = @random_uid, application_ids = @application_ids,
      image = @image, tear_at_write = @tear_at_write WHERE id = @id`),
  };
}
