import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, makeClientConstructor, status, type Client } from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/cli/batch.js';
import { runDoor } from '../../src/cli/door.js';
import { runStation } from '../../src/cli/station.js';
import { AuthService } from '../../src/gen/desfirepacs/v1/auth_pb.js';
import { EmulatorService } from '../../src/gen/desfirepacs/v1/emulator_pb.js';
import { EncoderService } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { KeyService } from '../../src/gen/desfirepacs/v1/key_service_pb.js';
import { ProfileService } from '../../src/gen/desfirepacs/v1/profile_service_pb.js';
import { loadConfig, type Environment } from '../../src/server/config/index.js';
import { serviceClient, type ClientTls } from '../../src/server/grpc/client.js';
import { Journal } from '../../src/server/journal/index.js';
import { startService, type RunningService } from '../../src/server/service.js';
import { captureLogs, type CapturedLogs } from './support/capture-logs.js';
import { callFailure, drain } from './support/grpc-error.js';
import { makeTestPki, NO_OPENSSL, type TestPki } from './support/test-pki.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-access-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const ROLES = 'door-lobby=door;station-7=station;ops-alice=operator;root=admin';

describe.skipIf(NO_OPENSSL !== undefined)('access by client certificate', () => {
  let pkiDir: string;
  let pki: TestPki;
  beforeAll(async () => {
    pkiDir = await mkdtemp(join(tmpdir(), 'desfire-pacs-access-pki-'));
    pki = await makeTestPki(pkiDir, ['door-lobby', 'station-7', 'ops-alice', 'root', 'stranger']);
  });
  afterAll(() => rm(pkiDir, { recursive: true, force: true }));

  const mtlsEnv = (): Environment => ({ DESFIRE_PACS_TLS_CERT_FILE: pki.serverCert, DESFIRE_PACS_TLS_KEY_FILE: pki.serverKey, DESFIRE_PACS_TLS_CLIENT_CA_FILE: pki.caCert });

  /** The service started as `serve` would be, on `env`'s settings, in `dataDir`; the caller stops it. */
  async function launch(env: Environment, dataDir: string): Promise<{ service: RunningService; logs: CapturedLogs }> {
    const config = await loadConfig({ env: { DESFIRE_PACS_LISTEN: '127.0.0.1:0', DESFIRE_PACS_DATA_DIR: dataDir, DESFIRE_PACS_EMULATED_STATIONS: '0', ...env } });
    const logs = captureLogs('info');
    return { service: await startService(config, { logger: logs.logger, env: {} }), logs };
  }

  /** One test's service, stopped after it. */
  async function start(env: Environment): Promise<{ service: RunningService; logs: CapturedLogs; dataDir: string }> {
    const dataDir = await tempDir();
    const started = await launch(env, dataDir);
    cleanups.push(() => started.service.stop('test over'));
    return { ...started, dataDir };
  }

  async function tlsOf(cn: string): Promise<ClientTls> {
    return { ca: await readFile(pki.caCert), cert: await readFile(pki.clients[cn].cert), key: await readFile(pki.clients[cn].key) };
  }

  /** Typed clients of every service, as the client certificate `cn`. */
  async function as(address: string, cn: string) {
    const tls = await tlsOf(cn);
    const open = <C extends { grpc: Client }>(client: C): C => {
      cleanups.push(() => client.grpc.close());
      return client;
    };
    return {
      auth: open(serviceClient(AuthService, address, { tls })),
      encoder: open(serviceClient(EncoderService, address, { tls })),
      emulator: open(serviceClient(EmulatorService, address, { tls })),
      profiles: open(serviceClient(ProfileService, address, { tls })),
      keys: open(serviceClient(KeyService, address, { tls })),
    };
  }

  /** An Authenticate stream that ends without its start message: INVALID_ARGUMENT once past the access check. */
  async function authenticateWithoutStart(clients: Awaited<ReturnType<typeof as>>) {
    const stream = clients.auth.authenticate();
    stream.end();
    return callFailure(drain(stream));
  }

  describe('with roles', () => {
    let service: RunningService;
    let logs: CapturedLogs;
    let dataDir: string;
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'desfire-pacs-access-'));
      ({ service, logs } = await launch({ ...mtlsEnv(), DESFIRE_PACS_ACCESS_ROLES: ROLES }, dataDir));
    });
    afterAll(async () => {
      await service.stop('tests over');
      await rm(dataDir, { recursive: true, force: true });
    });

    it('logs that access is by role', () => {
      expect(logs.lines().find((l) => l.access !== undefined)).toMatchObject({ access: 'roles', clients: 4 });
    });

    it('a door certificate may authenticate, and nothing else', async () => {
      const door = await as(service.address, 'door-lobby');
      expect(await authenticateWithoutStart(door)).toMatchObject({ code: status.INVALID_ARGUMENT, field: 'start' });
      const batch = await callFailure(door.encoder.createBatch({}));
      expect(batch).toMatchObject({ code: status.PERMISSION_DENIED });
      expect(batch.details).toBe('/desfirepacs.v1.EncoderService/CreateBatch refused: client certificate "door-lobby" has role door; the method needs admin or operator');
      expect(await callFailure(door.keys.listKeySets({}))).toMatchObject({ code: status.PERMISSION_DENIED });
      expect(await callFailure(drain(door.encoder.watchBatch({ batchId: 'x' })))).toMatchObject({ code: status.PERMISSION_DENIED });
    });

    it('an operator may list batches and read profiles, not change profiles nor export card images', async () => {
      const ops = await as(service.address, 'ops-alice');
      expect((await ops.encoder.listBatches({})).batches).toEqual([]);
      expect((await ops.profiles.listProfiles({})).profiles.map((p) => p.name)).toContain('generic-pacs-v1');
      expect(await callFailure(ops.profiles.putProfile({}))).toMatchObject({ code: status.PERMISSION_DENIED });
      expect(await callFailure(ops.emulator.exportImage({}))).toMatchObject({ code: status.PERMISSION_DENIED });
      expect(await authenticateWithoutStart(ops)).toMatchObject({ code: status.PERMISSION_DENIED });
    });

    it('admin may call everything', async () => {
      const root = await as(service.address, 'root');
      expect((await root.keys.listKeySets({})).keySets.length).toBeGreaterThan(0);
      expect((await root.encoder.listBatches({})).batches).toEqual([]);
      // Refused by the handler, not by the access check: the request is what is wrong.
      expect((await callFailure(root.profiles.putProfile({}))).code).toBe(status.INVALID_ARGUMENT);
      expect((await callFailure(root.emulator.exportImage({}))).code).toBe(status.INVALID_ARGUMENT);
      expect((await authenticateWithoutStart(root)).code).toBe(status.INVALID_ARGUMENT);
    });

    it('a certificate whose CN has no role is refused, naming it; the log says which client was refused, never the certificate', async () => {
      const stranger = await as(service.address, 'stranger');
      const refused = await callFailure(stranger.profiles.listProfiles({}));
      expect(refused).toMatchObject({ code: status.PERMISSION_DENIED, details: '/desfirepacs.v1.ProfileService/ListProfiles refused: client certificate "stranger" has no role in access.roles' });
      expect(logs.lines().find((l) => l.client === 'stranger')).toMatchObject({ method: 'ListProfiles', code: 'PERMISSION_DENIED' });
      expect(logs.text()).not.toContain('BEGIN CERTIFICATE');
    });

    it('health answers any certificate the CA signed', async () => {
      type HealthClient = Client & { check(request: { service: string }, callback: (error: Error | null, answer?: { status: string }) => void): void };
      const tls = await tlsOf('stranger');
      const health = new (makeClientConstructor(healthDefinition, 'grpc.health.v1.Health'))(service.address, credentials.createSsl(tls.ca!, tls.key!, tls.cert!)) as unknown as HealthClient;
      cleanups.push(() => health.close());
      const answer = await new Promise<string>((resolve, reject) => health.check({ service: '' }, (error, a) => (error ? reject(error) : resolve(a!.status))));
      expect(answer).toBe('SERVING');
    });
  });

  it('the audit trail names the door by its certificate and door id', async () => {
    const { service, dataDir } = await start({ ...mtlsEnv(), DESFIRE_PACS_ACCESS_ROLES: ROLES });
    const work = await tempDir();
    const tlsArgs = (cn: string) => ['--tls-ca', pki.caCert, '--tls-cert', pki.clients[cn].cert, '--tls-key', pki.clients[cn].key];
    const cli = () => {
      const out: string[] = [];
      const err: string[] = [];
      return { out, err, io: { write: (l: string) => void out.push(l), error: (l: string) => void err.push(l), env: { DESFIRE_PACS_SERVER: service.address }, cwd: work, interrupt: new AbortController().signal, stop: new AbortController().signal } };
    };
    const create = cli();
    const createArgs = ['create', '--profile', 'generic-pacs-v1', '--count', '1', '--first-number', '7', '--valid-from', '2026-01-01T00:00:00Z', '--valid-to', '2099-01-01T00:00:00Z'];
    expect(await runBatch([...createArgs, ...tlsArgs('ops-alice')], create.io), create.err.join('\n')).toBe(0);
    const station = cli();
    expect(await runStation(['--virtual', '--out', 'cards', '--station-id', 'line-1', ...tlsArgs('station-7')], station.io), station.err.join('\n')).toBe(0);
    const [image] = await readdir(join(work, 'cards'));
    const door = cli();
    expect(await runDoor(['--image', join('cards', image), '--door-id', 'front-1', ...tlsArgs('door-lobby')], door.io), door.err.join('\n')).toBe(0);
    expect(door.out[0]).toMatch(/GRANTED/);

    const journal = Journal.open({ path: join(dataDir, 'journal.db') });
    cleanups.push(() => journal.close());
    const actors = new Set(journal.auditEvents().map((e) => `${e.purpose} ${e.actor}`));
    expect([...actors].sort()).toEqual(['authenticate cert:door-lobby door:front-1', 'encode line-1']);
  });

  it('with access.open every certificate the CA signed may call everything, and the start log warns', async () => {
    const { service, logs } = await start({ ...mtlsEnv(), DESFIRE_PACS_ACCESS_OPEN: '1' });
    const stranger = await as(service.address, 'stranger');
    expect((await stranger.keys.listKeySets({})).keySets.length).toBeGreaterThan(0);
    expect(logs.lines().find((l) => l.access !== undefined)).toMatchObject({ access: 'open-mtls', level: 40 });
  });

  it('a start with mTLS and neither access.roles nor access.open is refused, before anything is opened', async () => {
    const dataDir = join(await tempDir(), 'data');
    const config = await loadConfig({ env: { DESFIRE_PACS_LISTEN: '127.0.0.1:0', DESFIRE_PACS_DATA_DIR: dataDir, ...mtlsEnv() } });
    await expect(startService(config, { logger: captureLogs('silent').logger, env: {} })).rejects.toThrow(
      /^cannot start: access\.roles: mTLS is on and no roles are given, so every certificate the client CA signs could call everything .*access\.open/,
    );
    await expect(stat(dataDir)).rejects.toThrow(/ENOENT/);
  });
});

describe('without client certificates', () => {
  it('every call is let in, and the start log says so', async () => {
    const logs = captureLogs('info');
    const config = await loadConfig({ env: { DESFIRE_PACS_LISTEN: '127.0.0.1:0', DESFIRE_PACS_DATA_DIR: await tempDir(), DESFIRE_PACS_EMULATED_STATIONS: '0' } });
    const service = await startService(config, { logger: logs.logger, env: {} });
    cleanups.push(() => service.stop('test over'));
    const keys = serviceClient(KeyService, service.address);
    cleanups.push(() => keys.grpc.close());
    expect((await keys.listKeySets({})).keySets.length).toBeGreaterThan(0);
    expect(logs.lines().find((l) => l.access !== undefined)).toMatchObject({ access: 'open', msg: 'no client certificates: every call is let in' });
  });
});
