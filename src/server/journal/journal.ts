import type { KeyUseEvent, KeyUseListener } from '../../encoder/keys/key-store.js';
import type { PersonalizationJournal, StepEvent } from '../../encoder/personalize/journal.js';
import { auditEvents, auditKeyUse, recordKeyUse } from './audit.js';
import { completeIfDone, nextOpenBatch, resumableCards } from './batch-work.js';
import { claimCard, createBatch, getBatch, setBatchState, type ClaimInput, type CreateBatchInput } from './batches.js';
import { getCard, getCardByUid, registerCard, setCardState, type RegisterCardInput } from './cards.js';
import type { JournalContext } from './context.js';
import { openDatabase } from './database.js';
import { JournalError } from './errors.js';
import { listBatches, type BatchFilter, type BatchPage } from './list-batches.js';
import { listCards, type CardFilter, type CardPage, type PageRequest } from './list-cards.js';
import { schemaVersion } from './migrations.js';
import type { AuditContext, AuditRecord, BatchRecord, BatchState, CardCounts, CardRecord, CardState, StepRecord } from './records.js';
import { unfinishedWork, type UnfinishedWork } from './recovery.js';
import { cardSteps, recordStep } from './steps.js';

export interface JournalOptions {
  /** A file path (created with its directory's permissions), or ":memory:" for tests. */
  readonly path: string;
  /** The clock for every timestamp (tests pin it). Default: the system clock. */
  readonly now?: () => Date;
}

/**
 * The service's journal (ARCHITECTURE.md §3, issue 5) on SQLite: batches, cards, write-ahead
 * personalization steps and key-use audit events. Every method is synchronous (better-sqlite3)
 * and each write is one transaction committed to disk before the method returns, so what the
 * journal says survives a crash. It is the personalizer's `PersonalizationJournal`, and
 * `keyUseListener()` gives the key store's audit hook. Several processes may share one file
 * (WAL, IMMEDIATE transactions, a busy timeout); a PostgreSQL journal would implement the same
 * methods for replicas on several machines.
 */
export class Journal implements PersonalizationJournal {
  readonly path: string;
  #ctx: JournalContext | undefined;

  private constructor(path: string, ctx: JournalContext) {
    this.path = path;
    this.#ctx = ctx;
  }

  /** Opens or creates the journal and brings its schema up to date (SCHEMA_TOO_NEW if newer). */
  static open(options: JournalOptions): Journal {
    const now = options.now ?? (() => new Date());
    return new Journal(options.path, { db: openDatabase(options.path, now), now });
  }

  get closed(): boolean {
    return this.#ctx === undefined;
  }

  /** Closes the database; later calls fail with CLOSED. Idempotent. */
  close(): void {
    this.#ctx?.db.close();
    this.#ctx = undefined;
  }

  /** The highest migration applied. */
  schemaVersion(): number {
    return schemaVersion(this.#open().db);
  }

  // --- batches ---

  /** A batch and its pending cards, all or nothing; CARD_NUMBER_TAKEN if a number is held. */
  createBatch(input: CreateBatchInput): BatchRecord {
    return createBatch(this.#open(), input);
  }

  /** UNKNOWN_BATCH when absent. */
  getBatch(id: string): BatchRecord {
    return getBatch(this.#open(), id);
  }

  /** Progress of a batch: cards per state. */
  batchProgress(id: string): CardCounts {
    return getBatch(this.#open(), id).counts;
  }

  setBatchState(id: string, state: BatchState): BatchRecord {
    return setBatchState(this.#open(), id, state);
  }

  /** The batch card for a presented UID (its own, or the next free number); undefined when none is left. */
  claimCard(batchId: string, input: ClaimInput): CardRecord | undefined {
    return claimCard(this.#open(), batchId, input);
  }

  /** Batches, newest first, in pages. */
  listBatches(filter?: BatchFilter, page?: PageRequest): BatchPage {
    return listBatches(this.#open(), filter, page);
  }

  /** The oldest open batch with a card number not yet on a card; undefined when none. */
  nextOpenBatch(): string | undefined {
    return nextOpenBatch(this.#open());
  }

  /** Unfinished cards of open batches that a physical card holds: present them again to finish them. */
  resumableCards(): CardRecord[] {
    return resumableCards(this.#open());
  }

  /** Completes the batch when none of its cards is pending or encoding; the batch when this call completed it. */
  completeIfDone(id: string): BatchRecord | undefined {
    return completeIfDone(this.#open(), id);
  }

  // --- cards ---

  /** A card encoded outside a batch; CARD_NUMBER_TAKEN / UID_TAKEN. */
  registerCard(input: RegisterCardInput): CardRecord {
    return registerCard(this.#open(), input);
  }

  getCard(id: number): CardRecord {
    return getCard(this.#open(), id);
  }

  getCardByUid(uid: Uint8Array | string): CardRecord {
    return getCardByUid(this.#open(), uid);
  }

  setCardState(id: number, state: CardState, detail?: string): CardRecord {
    return setCardState(this.#open(), id, state, detail);
  }

  listCards(filter?: CardFilter, page?: PageRequest): CardPage {
    return listCards(this.#open(), filter, page);
  }

  // --- steps ---

  /** `PersonalizationJournal`: one write-ahead step row, on disk when this returns. */
  record(event: StepEvent): void {
    recordStep(this.#open(), event);
  }

  steps(cardId: number): StepRecord[] {
    return cardSteps(this.#open(), cardId);
  }

  /** Interrupted cards and unfinished batches, for a restart. */
  unfinishedWork(): UnfinishedWork {
    return unfinishedWork(this.#open());
  }

  // --- audit ---

  recordKeyUse(event: KeyUseEvent, who: AuditContext): AuditRecord {
    return recordKeyUse(this.#open(), event, who);
  }

  /**
   * The key store's `onKeyUse` hook: an audit row per card key handed out, with who and what
   * for from `context`. If the row cannot be written the listener throws, and so does the key
   * store's `cardKey`: no key use goes unaudited.
   */
  keyUseListener(context?: () => AuditContext): KeyUseListener {
    return auditKeyUse(() => this.#open(), context);
  }

  auditEvents(filter?: { uid?: Uint8Array | string }): AuditRecord[] {
    return auditEvents(this.#open(), filter);
  }

  #open(): JournalContext {
    if (!this.#ctx) throw new JournalError('CLOSED', 'the journal is closed');
    return this.#ctx;
  }
}
