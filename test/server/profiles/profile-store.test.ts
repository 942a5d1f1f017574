import { clone } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProfileError } from '../../../src/encoder/profile/profile-error.js';
import { ProfileSchema } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import { ApiError } from '../../../src/server/grpc/api-error.js';
import { Journal, isJournalError } from '../../../src/server/journal/index.js';
import { ProfileStore } from '../../../src/server/profiles/profile-store.js';
import { variant } from './support.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('profile store (journal table)', () => {
  let dir: string;
  let journal: Journal;
  let store: ProfileStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-profiles-'));
    journal = Journal.open({ path: join(dir, 'journal.db') });
    store = ProfileStore.open(journal.path);
  });
  afterEach(async () => {
    store.close();
    journal.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores, gets and lists profiles in name order', async () => {
    const b = await variant('site-b');
    const a = await variant('site-a');
    expect(store.put(b)).toEqual({ profile: b, replaced: false });
    expect(store.put(a)).toEqual({ profile: a, replaced: false });
    expect(store.has('site-a')).toBe(true);
    expect(store.has('site-c')).toBe(false);
    expect(store.get('site-a')).toEqual(a);
    expect(store.list().map((p) => p.name)).toEqual(['site-a', 'site-b']);
  });

  it('keeps profiles across a reopen', async () => {
    const a = await variant('site-a');
    store.put(a);
    store.close();
    store = ProfileStore.open(journal.path);
    expect(store.get('site-a')).toEqual(a);
  });

  it('answers NOT_FOUND naming the field', () => {
    const byName = thrown(() => store.get('nowhere'));
    expect(byName).toBeInstanceOf(ApiError);
    expect(byName).toMatchObject({ code: status.NOT_FOUND, field: 'name' });
    expect(thrown(() => store.get('nowhere', 'profile'))).toMatchObject({ code: status.NOT_FOUND, field: 'profile', message: 'profile: no profile "nowhere"' });
  });

  it('refuses an invalid profile with every issue, and stores nothing', async () => {
    const bad = await variant('Bad Name');
    bad.applications[0].files[0].size = 0;
    const error = thrown(() => store.put(bad));
    expect(error).toBeInstanceOf(ProfileError);
    expect((error as ProfileError).issues.map((i) => i.path)).toEqual(expect.arrayContaining(['name', 'applications[0].files[0].size']));
    expect(store.list()).toEqual([]);
  });

  it('replaces a profile no card uses', async () => {
    store.put(await variant('site-a', 'first'));
    const second = await variant('site-a', 'second');
    expect(store.put(second)).toEqual({ profile: second, replaced: true });
    expect(store.get('site-a').description).toBe('second');
  });

  it('does not replace a profile a card uses, but takes the same profile again', async () => {
    const first = await variant('site-a', 'first');
    store.put(first);
    journal.registerCard({ profile: 'site-a', cardNumber: 1n, uid: '04010203040506', keySet: 'pacs', keyVersion: 1 });
    const error = thrown(() => store.put(clone(ProfileSchema, { ...first, description: 'second' })));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect((error as Error).message).toMatch(/used by 1 card and cannot be replaced/);
    expect(store.get('site-a').description).toBe('first');
    expect(store.put(clone(ProfileSchema, first))).toEqual({ profile: first, replaced: false });
  });

  it('counts pending batch cards as users', async () => {
    store.put(await variant('site-a', 'first'));
    journal.createBatch({ profile: 'site-a', keySet: 'pacs', cards: [{ cardNumber: 7n }] });
    expect(thrown(() => store.put(clone(ProfileSchema, { ...store.get('site-a'), description: 'second' })))).toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it('does not count refused cards (nothing was written to them)', async () => {
    store.put(await variant('site-a', 'first'));
    const card = journal.registerCard({ profile: 'site-a', cardNumber: 1n, uid: '04010203040506', keySet: 'pacs', keyVersion: 1 });
    journal.setCardState(card.id, 'refused', 'foreign application');
    expect(store.put(await variant('site-a', 'second')).replaced).toBe(true);
  });

  it('fails with CLOSED once closed', () => {
    store.close();
    expect(isJournalError(thrown(() => store.list()), 'CLOSED')).toBe(true);
  });
});
