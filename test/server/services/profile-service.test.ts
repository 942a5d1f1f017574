import { create, equals } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProfileSchema, type Profile } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import { ProfileService } from '../../../src/gen/desfirepacs/v1/profile_service_pb.js';
import { addService } from '../../../src/server/grpc/add-service.js';
import { serviceClient, type ServiceClient } from '../../../src/server/grpc/client.js';
import { Journal } from '../../../src/server/journal/index.js';
import { ProfileStore } from '../../../src/server/profiles/profile-store.js';
import { profileService } from '../../../src/server/services/profile-service.js';
import { variant } from '../profiles/support.js';
import { startLoopbackServer, type LoopbackServer } from '../../../src/server/grpc/loopback-server.js';
import { callFailure } from '../support/grpc-error.js';

const same = (a: Profile | undefined, b: Profile) => a !== undefined && equals(ProfileSchema, a, b);

describe('ProfileService over gRPC', () => {
  let dir: string;
  let journal: Journal;
  let store: ProfileStore;
  let server: LoopbackServer;
  let client: ServiceClient<typeof ProfileService>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-profile-service-'));
    journal = Journal.open({ path: join(dir, 'journal.db') });
    store = ProfileStore.open(journal.path);
    server = await startLoopbackServer((s, hooks) => addService(s, ProfileService, profileService(store), hooks));
    client = serviceClient(ProfileService, server.address);
  });
  afterAll(async () => {
    client.grpc.close();
    await server.close();
    store.close();
    journal.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('puts, gets and lists profiles', async () => {
    const b = await variant('site-b');
    const a = await variant('site-a');
    const putB = await client.putProfile({ profile: b });
    expect([same(putB.profile, b), putB.replaced]).toEqual([true, false]);
    expect((await client.putProfile({ profile: a })).replaced).toBe(false);
    expect(same((await client.getProfile({ name: 'site-a' })).profile, a)).toBe(true);
    expect((await client.listProfiles({})).profiles.map((p) => p.name)).toEqual(['site-a', 'site-b']);
    const again = await variant('site-b', 'second edition');
    const putAgain = await client.putProfile({ profile: again });
    expect([same(putAgain.profile, again), putAgain.replaced]).toEqual([true, true]);
  });

  it('refuses to replace a profile a card uses', async () => {
    await client.putProfile({ profile: await variant('in-use') });
    journal.registerCard({ profile: 'in-use', cardNumber: 1n, uid: '04A1A2A3A4A5A6', keySet: 'pacs', keyVersion: 1 });
    const failure = await callFailure(client.putProfile({ profile: await variant('in-use', 'changed') }));
    expect(failure).toMatchObject({ code: status.FAILED_PRECONDITION, field: undefined });
    expect(failure.details).toMatch(/used by 1 card/);
  });

  it('validates without storing: every issue with its field', async () => {
    expect(await client.validateProfile({ profile: await variant('fine') })).toMatchObject({ valid: true, violations: [] });
    const bad = await variant('not-stored');
    bad.applications[0].files[0].size = 0;
    bad.doorPolicy!.minimumKeyVersion = 300;
    const answer = await client.validateProfile({ profile: bad });
    expect(answer.valid).toBe(false);
    expect(answer.violations.map((v) => v.field)).toEqual(expect.arrayContaining(['applications[0].files[0].size', 'door_policy.minimum_key_version']));
    expect(answer.violations.every((v) => v.message !== '')).toBe(true);
    expect(await callFailure(client.getProfile({ name: 'not-stored' }))).toMatchObject({ code: status.NOT_FOUND });
  });

  describe('refuses bad requests, naming the field', () => {
    const cases: [name: string, call: (c: ServiceClient<typeof ProfileService>) => Promise<unknown>, code: status, field: string | undefined][] = [
      ['PutProfile without a profile', (c) => c.putProfile({}), status.INVALID_ARGUMENT, 'profile'],
      ['PutProfile of a profile without a name', (c) => c.putProfile({ profile: create(ProfileSchema, {}) }), status.INVALID_ARGUMENT, 'profile.name'],
      ['ValidateProfile without a profile', (c) => c.validateProfile({}), status.INVALID_ARGUMENT, 'profile'],
      ['GetProfile without a name', (c) => c.getProfile({ name: '' }), status.INVALID_ARGUMENT, 'name'],
      ['GetProfile of a name profiles cannot have', (c) => c.getProfile({ name: 'Site A' }), status.INVALID_ARGUMENT, 'name'],
      ['GetProfile of an unknown profile', (c) => c.getProfile({ name: 'nowhere' }), status.NOT_FOUND, 'name'],
    ];
    it.each(cases)('%s', async (_name, call, code, field) => {
      expect(await callFailure(call(client))).toMatchObject({ code, field });
    });

    it('PutProfile of an invalid profile: the first field in the trailer, every problem in the message, nothing stored', async () => {
      const bad = await variant('broken');
      bad.applications[0].files[0].size = 0;
      bad.doorPolicy!.minimumKeyVersion = 300;
      const failure = await callFailure(client.putProfile({ profile: bad }));
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.field).toBe('profile.applications[0].files[0].size');
      expect(failure.details).toContain('profile.door_policy.minimum_key_version');
      expect(await callFailure(client.getProfile({ name: 'broken' }))).toMatchObject({ code: status.NOT_FOUND });
    });
  });
});
