import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/cli/batch.js';
import { runDoor } from '../../src/cli/door.js';
import { runStation } from '../../src/cli/station.js';
import { ProfileService } from '../../src/gen/desfirepacs/v1/profile_service_pb.js';
import { defaultServiceConfig, loadConfig, type Environment } from '../../src/server/config/index.js';
import { serviceClient, type ClientTls } from '../../src/server/grpc/client.js';
import { startService, type RunningService } from '../../src/server/service.js';
import { captureLogs, type CapturedLogs } from './support/capture-logs.js';
import { callFailure } from './support/grpc-error.js';
import { makeTestPki, NO_OPENSSL, type TestPki } from './support/test-pki.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-tls-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('plaintext', () => {
  it('startService refuses a non-loopback address without TLS, saying why, and opens nothing', async () => {
    const dataDir = join(await tempDir(), 'data');
    const config = { ...defaultServiceConfig(), listen: '0.0.0.0:0', dataDir, stations: { emulated: 0, pcscReaders: [] } };
    await expect(startService(config, { logger: captureLogs('silent').logger, env: {} })).rejects.toThrow(
      /cannot listen on 0\.0\.0\.0:0: 0\.0\.0\.0:0 is not a loopback address and no TLS is configured: .*allow_plaintext/,
    );
    await expect(stat(dataDir)).rejects.toThrow(/ENOENT/);
  });

  it('on loopback is logged as plaintext', async () => {
    const logs = captureLogs('info');
    const service = await startService({ ...defaultServiceConfig(), listen: '127.0.0.1:0', dataDir: await tempDir(), stations: { emulated: 0, pcscReaders: [] } }, { logger: logs.logger, env: {} });
    cleanups.push(() => service.stop('test over'));
    expect(logs.lines().find((l) => l.msg === `listening on ${service.address}`)?.transport).toBe('plaintext');
    expect(logs.messages()).toContain('TLS is off: plaintext on loopback only (development)');
  });
});

describe.skipIf(NO_OPENSSL !== undefined)('TLS', () => {
  let pkiDir: string;
  let pki: TestPki;
  let pem: (path: string) => Promise<Buffer>;
  beforeAll(async () => {
    pkiDir = await mkdtemp(join(tmpdir(), 'desfire-pacs-tls-pki-'));
    pki = await makeTestPki(pkiDir);
    pem = (path) => readFile(path);
  });
  afterAll(() => rm(pkiDir, { recursive: true, force: true }));

  /** The service started as `serve` would be, on `env`'s settings. */
  async function start(env: Environment): Promise<{ service: RunningService; logs: CapturedLogs }> {
    const config = await loadConfig({ env: { DESFIRE_PACS_LISTEN: '127.0.0.1:0', DESFIRE_PACS_DATA_DIR: await tempDir(), DESFIRE_PACS_EMULATED_STATIONS: '0', ...env } });
    const logs = captureLogs('info');
    const service = await startService(config, { logger: logs.logger, env: {} });
    cleanups.push(() => service.stop('test over'));
    return { service, logs };
  }

  function profiles(address: string, tls?: ClientTls) {
    const client = serviceClient(ProfileService, address, { tls });
    cleanups.push(() => client.grpc.close());
    return (deadlineMs = 10_000) => client.listProfiles({}, { deadline: Date.now() + deadlineMs });
  }

  const serverEnv = () => ({ DESFIRE_PACS_TLS_CERT_FILE: pki.serverCert, DESFIRE_PACS_TLS_KEY_FILE: pki.serverKey });

  it('serves a client that trusts its CA; a plaintext client gets nothing', async () => {
    const { service, logs } = await start(serverEnv());
    const listed = await profiles(service.address, { ca: await pem(pki.caCert) })();
    expect(listed.profiles.map((p) => p.name)).toContain('generic-pacs-v1');

    expect((await callFailure(profiles(service.address)())).code).toBe(status.UNAVAILABLE);
    expect(logs.lines().find((l) => l.msg === `listening on ${service.address}`)?.transport).toBe('TLS');
    expect(logs.messages()).toContain('TLS is on; clients are not asked for certificates (set tls.client_ca_file for mTLS)');
  });

  it('is refused by a client that does not trust the certificate', async () => {
    const { service } = await start(serverEnv());
    expect((await callFailure(profiles(service.address, { ca: await pem(pki.otherCaCert) })())).code).toBe(status.UNAVAILABLE);
  });

  describe('with a client CA (mTLS)', () => {
    it('serves a client whose certificate the CA signed; refuses one without a certificate and one another CA signed', async () => {
      const { service, logs } = await start({ ...serverEnv(), DESFIRE_PACS_TLS_CLIENT_CA_FILE: pki.caCert, DESFIRE_PACS_ACCESS_OPEN: '1' });
      const ca = await pem(pki.caCert);

      const signed = await profiles(service.address, { ca, cert: await pem(pki.clientCert), key: await pem(pki.clientKey) })();
      expect(signed.profiles.map((p) => p.name)).toContain('generic-pacs-v1');

      expect((await callFailure(profiles(service.address, { ca })())).code).toBe(status.UNAVAILABLE);
      const stranger = { ca, cert: await pem(pki.otherClientCert), key: await pem(pki.otherClientKey) };
      expect((await callFailure(profiles(service.address, stranger)())).code).toBe(status.UNAVAILABLE);
      expect((await callFailure(profiles(service.address)())).code).toBe(status.UNAVAILABLE);

      const started = logs.lines().find((l) => l.transport === 'mTLS' && l.msg !== `listening on ${service.address}`);
      expect(started).toMatchObject({ certFile: pki.serverCert, clientCaFile: pki.caCert, msg: 'mTLS is on: clients must present a certificate signed by the client CA' });
      expect(logs.text()).not.toContain('PRIVATE KEY');
      expect(logs.text()).not.toContain(pki.serverKey);
    });

    it('batch, station and door reach it with --tls-ca, --tls-cert and --tls-key (or DESFIRE_PACS_TLS_*), and not without a certificate', async () => {
      const { service } = await start({ ...serverEnv(), DESFIRE_PACS_TLS_CLIENT_CA_FILE: pki.caCert, DESFIRE_PACS_ACCESS_OPEN: '1' });
      const work = await tempDir();
      const tlsArgs = ['--tls-ca', pki.caCert, '--tls-cert', pki.clientCert, '--tls-key', pki.clientKey];
      const cli = (env: Record<string, string> = {}) => {
        const out: string[] = [];
        const err: string[] = [];
        return { out, err, io: { write: (l: string) => void out.push(l), error: (l: string) => void err.push(l), env: { DESFIRE_PACS_SERVER: service.address, ...env }, cwd: work, interrupt: new AbortController().signal, stop: new AbortController().signal } };
      };

      const create = cli();
      const createArgs = ['create', '--profile', 'generic-pacs-v1', '--count', '1', '--first-number', '42', '--valid-from', '2026-01-01T00:00:00Z', '--valid-to', '2099-01-01T00:00:00Z'];
      expect(await runBatch([...createArgs, ...tlsArgs], create.io), create.err.join('\n')).toBe(0);
      const list = cli();
      expect(await runBatch(['list', ...tlsArgs], list.io), list.err.join('\n')).toBe(0);
      expect(list.out.join('\n')).toContain(create.out[0]);

      const station = cli({ DESFIRE_PACS_TLS_CA: pki.caCert, DESFIRE_PACS_TLS_CERT: pki.clientCert, DESFIRE_PACS_TLS_KEY: pki.clientKey });
      expect(await runStation(['--virtual', '--out', 'cards', '--station-id', 'tls-line'], station.io), station.err.join('\n')).toBe(0);
      expect(station.out.join('\n')).toMatch(/encoded, card number 42 of batch/);
      const [image] = await readdir(join(work, 'cards'));

      const door = cli();
      expect(await runDoor(['--image', join('cards', image), ...tlsArgs], door.io), door.err.join('\n')).toBe(0);
      expect(door.out[0]).toMatch(/GRANTED/);

      const noCert = cli();
      expect(await runBatch(['list', '--tls-ca', pki.caCert], noCert.io)).toBe(1);
      expect(noCert.err.join('\n')).toContain(service.address);
      const plaintext = cli();
      expect(await runDoor(['--image', join('cards', image)], plaintext.io)).toBe(1);
    });
  });
});
