import { createHash } from 'node:crypto';
import { invalidArgument } from './errors.js';

/**
 * Keyset pagination tokens over card ids: opaque base64url text carrying the last id of a page
 * and a fingerprint of the filter it was made for, so a token reused with another filter is
 * refused instead of returning a wrong page.
 */
export function encodePageToken(afterId: string, filterKey: string): string {
  return Buffer.from(JSON.stringify({ a: afterId, f: fingerprint(filterKey) })).toString('base64url');
}

/** The id to continue after; '' (before every id) for an empty token. */
export function decodePageToken(token: string, filterKey: string): string {
  if (token === '') return '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument('page_token', 'is malformed');
  }
  const { a, f } = (parsed ?? {}) as { a?: unknown; f?: unknown };
  if (typeof a !== 'string' || a === '' || typeof f !== 'string') throw invalidArgument('page_token', 'is malformed');
  if (f !== fingerprint(filterKey)) throw invalidArgument('page_token', 'was made for another filter');
  return a;
}

const fingerprint = (filterKey: string): string => createHash('sha256').update(filterKey).digest('base64url').slice(0, 16);
