import type { KeyUseEvent, KeyUseListener } from '../../encoder/keys/key-store.js';
import { isoNow, type JournalContext } from './context.js';
import type { AuditContext, AuditRecord } from './records.js';
import { uidText } from './values.js';

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  purpose: string;
  key_set: string;
  key_version: number;
  key_ref: string;
  aid: number;
  uid: string;
}

/**
 * One audit row for a card key handed out. Only the fields named here are written: a key use
 * event carries no key, and even if a caller passed an object with more fields, they would not
 * reach the table.
 */
export function recordKeyUse(ctx: JournalContext, event: KeyUseEvent, who: AuditContext): AuditRecord {
  const row = ctx.db
    .prepare(
      `INSERT INTO audit_events (at, actor, purpose, key_set, key_version, key_ref, aid, uid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .get(isoNow(ctx), who.actor, who.purpose, event.keySet, event.version, String(event.keyRef), event.aid, uidText(event.uid)) as AuditRow;
  return toAuditRecord(row);
}

const UNKNOWN: AuditContext = Object.freeze({ actor: 'unknown', purpose: 'unknown' });

/**
 * A `KeyUseListener` for a key store's `onKeyUse` that writes audit rows. A key store has one
 * listener for all its callers, so who and what for come from `context`, called at each key use
 * (e.g. backed by an AsyncLocalStorage the service sets per RPC; the listener runs inside the
 * caller's `cardKey` call, so the store sees the caller's async context).
 */
export function auditKeyUse(ctx: () => JournalContext, context: () => AuditContext = () => UNKNOWN): KeyUseListener {
  return (event) => {
    recordKeyUse(ctx(), event, context());
  };
}

/** Audit rows, oldest first, optionally for one card UID. */
export function auditEvents(ctx: JournalContext, filter: { uid?: Uint8Array | string } = {}): AuditRecord[] {
  const rows =
    filter.uid === undefined
      ? ctx.db.prepare('SELECT * FROM audit_events ORDER BY id').all()
      : ctx.db.prepare('SELECT * FROM audit_events WHERE uid = ? ORDER BY id').all(uidText(filter.uid));
  return (rows as AuditRow[]).map(toAuditRecord);
}

const toAuditRecord = (row: AuditRow): AuditRecord => ({
  id: row.id,
  at: row.at,
  actor: row.actor,
  purpose: row.purpose,
  keySet: row.key_set,
  keyVersion: row.key_version,
  keyRef: row.key_ref,
  aid: row.aid,
  uid: row.uid,
});
