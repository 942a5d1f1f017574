import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditContext } from './journal/records.js';

/**
 * Who is using card keys, and what for, carried through async calls: the key store has one
 * audit listener for every caller, and it reads the context of the call it runs in. Each flow
 * that fetches card keys (a door authentication, a card encoding) runs inside `runWithAudit`.
 */
const storage = new AsyncLocalStorage<AuditContext>();

export function runWithAudit<T>(context: AuditContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the running flow; "unknown" outside any (the audit row is written all the same). */
export function currentAudit(): AuditContext {
  return storage.getStore() ?? { actor: 'unknown', purpose: 'unknown' };
}
