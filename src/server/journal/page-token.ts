import { createHash } from 'node:crypto';
import { JournalError } from './errors.js';

/**
 * Keyset pagination tokens: opaque base64url text carrying the last id of the page and a
 * fingerprint of the filter it was made for, so a token reused with another filter is refused
 * (INVALID_PAGE_TOKEN) instead of returning a wrong page.
 */
export function encodePageToken(afterId: number, filterKey: string): string {
  return Buffer.from(JSON.stringify({ a: afterId, f: fingerprint(filterKey) })).toString('base64url');
}

/** The id to continue after; 0 for an empty token (the first page). */
export function decodePageToken(token: string | undefined, filterKey: string): number {
  if (token === undefined || token === '') return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new JournalError('INVALID_PAGE_TOKEN', 'page token is malformed');
  }
  const { a, f } = (parsed ?? {}) as { a?: unknown; f?: unknown };
  if (!Number.isSafeInteger(a) || (a as number) < 0 || typeof f !== 'string') {
    throw new JournalError('INVALID_PAGE_TOKEN', 'page token is malformed');
  }
  if (f !== fingerprint(filterKey)) throw new JournalError('INVALID_PAGE_TOKEN', 'page token was made for another filter');
  return a as number;
}

const fingerprint = (filterKey: string): string => createHash('sha256').update(filterKey).digest('base64url').slice(0, 16);
