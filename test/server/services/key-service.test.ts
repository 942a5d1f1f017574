import { timestampDate } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileKeyStore } from '../../../src/encoder/keys/index.js';
import { KeyService } from '../../../src/gen/desfirepacs/v1/key_service_pb.js';
import { addService } from '../../../src/server/grpc/add-service.js';
import { serviceClient, type ServiceClient } from '../../../src/server/grpc/client.js';
import { keyService } from '../../../src/server/services/key-service.js';
import { startLoopbackServer, type LoopbackServer } from '../../../src/server/grpc/loopback-server.js';
import { callFailure } from '../support/grpc-error.js';

describe('KeyService over gRPC', () => {
  const kek = randomBytes(32);
  const at = new Date('2026-11-25T12:00:00.000Z');
  let dir: string;
  let keys: FileKeyStore;
  let server: LoopbackServer;
  let client: ServiceClient<typeof KeyService>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-key-service-'));
    keys = await FileKeyStore.create(join(dir, 'keys.json'), { kind: 'kek', kek }, { now: () => at });
    server = await startLoopbackServer((s, hooks) => addService(s, KeyService, keyService(keys), hooks));
    client = serviceClient(KeyService, server.address);
  });
  afterAll(async () => {
    client.grpc.close();
    await server.close();
    await keys.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key set: version 1, current, the generic-pacs-v1 key refs by default', async () => {
    const { keySet } = await client.createKeySet({ name: 'site-a' });
    expect(keySet).toMatchObject({ name: 'site-a', currentVersion: 1, versions: [{ version: 1, keyRefs: ['picc', '0', '1', '2'] }] });
    expect(timestampDate(keySet!.versions[0].createdAt!)).toEqual(at);
    const five = await client.createKeySet({ name: 'site-b', applicationKeys: 5 });
    expect(five.keySet!.versions[0].keyRefs).toEqual(['picc', '0', '1', '2', '3', '4']);
  });

  it('adds versions, current at once or later, and lists key sets in name order', async () => {
    await client.createKeySet({ name: 'rotating' });
    expect(await client.addKeyVersion({ keySet: 'rotating' })).toMatchObject({ version: 2, keySet: { currentVersion: 1 } });
    expect(await client.addKeyVersion({ keySet: 'rotating', makeCurrent: true })).toMatchObject({ version: 3, keySet: { currentVersion: 3 } });
    const { keySet } = await client.setCurrentKeyVersion({ keySet: 'rotating', version: 2 });
    expect(keySet).toMatchObject({ currentVersion: 2 });
    expect(keySet!.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    const { keySets } = await client.listKeySets({});
    expect(keySets.map((s) => s.name)).toEqual(['rotating', 'site-a', 'site-b']);
  });

  it('keeps its changes in the key file', async () => {
    await client.createKeySet({ name: 'persisted' });
    const reopened = await FileKeyStore.open(keys.path, { kind: 'kek', kek });
    expect((await reopened.listKeySets()).map((s) => s.name)).toContain('persisted');
    await reopened.close();
  });

  describe('refuses bad requests, naming the field', () => {
    type Call = (c: ServiceClient<typeof KeyService>) => Promise<unknown>;
    const cases: [name: string, call: Call, code: status, field: string | undefined][] = [
      ['a key set without a name', (c) => c.createKeySet({ name: '' }), status.INVALID_ARGUMENT, 'name'],
      ['a key set name with a space', (c) => c.createKeySet({ name: 'site a' }), status.INVALID_ARGUMENT, 'name'],
      ['a key set name in capitals', (c) => c.createKeySet({ name: 'SiteA' }), status.INVALID_ARGUMENT, 'name'],
      ['a key set name of 65 characters', (c) => c.createKeySet({ name: 'a'.repeat(65) }), status.INVALID_ARGUMENT, 'name'],
      ['15 application keys', (c) => c.createKeySet({ name: 'big', applicationKeys: 15 }), status.INVALID_ARGUMENT, 'application_keys'],
      ['a key set twice', (c) => c.createKeySet({ name: 'site-a' }), status.ALREADY_EXISTS, undefined],
      ['a version of no key set', (c) => c.addKeyVersion({ keySet: '' }), status.INVALID_ARGUMENT, 'key_set'],
      ['a version of an unknown key set', (c) => c.addKeyVersion({ keySet: 'nowhere' }), status.NOT_FOUND, undefined],
      ['current version 0', (c) => c.setCurrentKeyVersion({ keySet: 'site-a', version: 0 }), status.INVALID_ARGUMENT, 'version'],
      ['current version 256', (c) => c.setCurrentKeyVersion({ keySet: 'site-a', version: 256 }), status.INVALID_ARGUMENT, 'version'],
      ['current version of no key set', (c) => c.setCurrentKeyVersion({ keySet: '', version: 1 }), status.INVALID_ARGUMENT, 'key_set'],
      ['a current version that does not exist', (c) => c.setCurrentKeyVersion({ keySet: 'site-a', version: 9 }), status.NOT_FOUND, undefined],
    ];
    it.each(cases)('%s', async (_name, call, code, field) => {
      expect(await callFailure(call(client))).toMatchObject({ code, field });
    });

    it('changes nothing when it refuses', async () => {
      const before = await client.listKeySets({});
      for (const [, call] of cases) await call(client).catch(() => undefined);
      expect(await client.listKeySets({})).toEqual(before);
    });
  });
});
