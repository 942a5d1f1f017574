import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
      const { service, logs } = await start({ ...serverEnv(), DESFIRE_PACS_TLS_CLIENT_CA_FILE: pki.caCert });
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
  });
});
