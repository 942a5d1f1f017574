/**
 * The service's journal (issue 5): SQLite via better-sqlite3. The query modules are internal;
 * this is the public face.
 */
export { Journal, type JournalOptions } from './journal.js';
export { JournalError, isJournalError, type JournalErrorCode } from './errors.js';
export {
  BATCH_STATES,
  CARD_STATES,
  type AuditContext,
  type AuditRecord,
  type BatchRecord,
  type BatchState,
  type CardCounts,
  type CardRecord,
  type CardState,
  type StepRecord,
} from './records.js';
export type { BatchCardInput, ClaimInput, CreateBatchInput } from './batches.js';
export type { RegisterCardInput } from './cards.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type CardFilter, type CardPage, type PageRequest } from './list-cards.js';
export type { BatchFilter, BatchPage } from './list-batches.js';
export type { InterruptedCard, UnfinishedWork } from './recovery.js';
export { MIGRATIONS, type Migration } from './migrations.js';
