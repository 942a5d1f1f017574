import type { CallContext } from '../grpc/service-impl.js';
import type { AuditContext } from '../journal/records.js';

/**
 * Whom the audit trail names for a door authentication's key uses: the client certificate
 * (`cert:<CN>`, then the door id the call gave, if any), else the door id, else the address.
 */
export function doorAudit(context: CallContext, doorId: string): AuditContext {
  if (context.caller === undefined) return { actor: doorId || context.peer, purpose: 'authenticate' };
  const actor = `cert:${context.caller.commonName}`;
  return { actor: doorId === '' ? actor : `${actor} door:${doorId}`, purpose: 'authenticate' };
}
