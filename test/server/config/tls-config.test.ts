import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/server/config/index.js';
import { makeTestPki, NO_OPENSSL, type TestPki } from '../support/test-pki.js';
import { configError } from '../support/config-error.js';

describe('plaintext', () => {
  it.each(['127.0.0.1:50051', '127.8.9.10:1', '[::1]:50051', 'localhost:50051', 'LOCALHOST:0'])('is allowed on loopback: %s', async (listen) => {
    const config = await loadConfig({ env: { DESFIRE_PACS_LISTEN: listen }, cwd: '/srv' });
    expect(config.tls).toBeUndefined();
    expect(config.allowPlaintext).toBe(false);
  });

  it.each(['0.0.0.0:50051', '[::]:50051', '10.0.0.5:50051', 'pacs.example.com:50051', '[::ffff:10.0.0.5]:1'])('is refused beyond loopback, naming the listen setting and why: %s', async (listen) => {
    const error = await configError({ flags: { listen } });
    expect(error.setting).toBe('--listen');
    expect(error.message).toMatch(/is not a loopback address and no TLS is configured: set tls\.cert_file and tls\.key_file .* or set allow_plaintext/);
  });

  it('beyond loopback when allow_plaintext says so (a TLS-terminating proxy in front)', async () => {
    const env = { DESFIRE_PACS_LISTEN: '0.0.0.0:50051' };
    for (const yes of ['1', 'true', 'YES']) expect((await loadConfig({ env: { ...env, DESFIRE_PACS_ALLOW_PLAINTEXT: yes }, cwd: '/srv' })).allowPlaintext).toBe(true);
    expect((await configError({ env: { ...env, DESFIRE_PACS_ALLOW_PLAINTEXT: '0' } })).setting).toBe('DESFIRE_PACS_LISTEN');
    const bad = await configError({ env: { ...env, DESFIRE_PACS_ALLOW_PLAINTEXT: 'sure' } });
    expect(bad.setting).toBe('DESFIRE_PACS_ALLOW_PLAINTEXT');
    expect(bad.message).toMatch(/must be 1 or 0/);
  });
});

describe.skipIf(NO_OPENSSL !== undefined)('TLS settings', () => {
  let dir: string;
  let pki: TestPki;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-tls-config-'));
    pki = await makeTestPki(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  it('reads the certificate, key and client CA from a file, relative to the working directory, and then listens anywhere', async () => {
    const yaml = await file('service.yaml', `listen: 0.0.0.0:50051\ntls:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n`);
    const config = await loadConfig({ env: {}, cwd: dir, configFile: yaml });
    expect(config.tls).toEqual({
      certChain: await readFile(pki.serverCert),
      key: await readFile(pki.serverKey),
      clientCa: await readFile(pki.caCert),
      certFile: pki.serverCert,
      clientCaFile: pki.caCert,
    });
  });

  it('takes them from the environment; without a client CA, no client certificate is asked for', async () => {
    const config = await loadConfig({ env: { DESFIRE_PACS_TLS_CERT_FILE: pki.serverCert, DESFIRE_PACS_TLS_KEY_FILE: pki.serverKey }, cwd: '/srv' });
    expect(config.tls?.certFile).toBe(pki.serverCert);
    expect(config.tls?.clientCa).toBeUndefined();
  });

  it('refuses a certificate without its key, a key without its certificate, a client CA without either', async () => {
    const onlyCert = await configError({ env: { DESFIRE_PACS_TLS_CERT_FILE: pki.serverCert } });
    expect(onlyCert.message).toBe('DESFIRE_PACS_TLS_CERT_FILE: tls.cert_file and tls.key_file go together: tls.key_file is not set');
    const onlyKey = await configError({ env: { DESFIRE_PACS_TLS_KEY_FILE: pki.serverKey } });
    expect(onlyKey.setting).toBe('DESFIRE_PACS_TLS_KEY_FILE');
    const yaml = await file('ca-only.yaml', `tls:\n  client_ca_file: ${pki.caCert}\n`);
    const onlyCa = await configError({ configFile: yaml });
    expect(onlyCa.setting).toBe(`tls.client_ca_file in ${yaml}`);
    expect(onlyCa.message).toMatch(/client certificates need TLS: set tls\.cert_file and tls\.key_file too/);
  });

  it('refuses files that cannot be read, naming the setting and the file', async () => {
    const env = { DESFIRE_PACS_TLS_CERT_FILE: pki.serverCert, DESFIRE_PACS_TLS_KEY_FILE: pki.serverKey };
    const missing = join(dir, 'missing.pem');
    expect((await configError({ env: { ...env, DESFIRE_PACS_TLS_CERT_FILE: missing } })).message).toBe(`DESFIRE_PACS_TLS_CERT_FILE: cannot read ${missing} (ENOENT)`);
    expect((await configError({ env: { ...env, DESFIRE_PACS_TLS_KEY_FILE: dir } })).message).toBe(`DESFIRE_PACS_TLS_KEY_FILE: cannot read ${dir} (EISDIR)`);
    expect((await configError({ env: { ...env, DESFIRE_PACS_TLS_CLIENT_CA_FILE: missing } })).setting).toBe('DESFIRE_PACS_TLS_CLIENT_CA_FILE');
  });

  it('refuses files that are not what they should be, naming the setting', async () => {
    const garbage = await file('garbage.pem', 'not a certificate\n');
    const brokenCert = await file('broken.crt', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const env = { DESFIRE_PACS_TLS_CERT_FILE: pki.serverCert, DESFIRE_PACS_TLS_KEY_FILE: pki.serverKey };
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ DESFIRE_PACS_TLS_CERT_FILE: garbage }, 'DESFIRE_PACS_TLS_CERT_FILE', /garbage\.pem holds no PEM certificate/],
      [{ DESFIRE_PACS_TLS_CERT_FILE: brokenCert }, 'DESFIRE_PACS_TLS_CERT_FILE', /broken\.crt holds a certificate \(number 1\) that is not valid X\.509/],
      [{ DESFIRE_PACS_TLS_CERT_FILE: pki.serverKey }, 'DESFIRE_PACS_TLS_CERT_FILE', /holds no PEM certificate/],
      [{ DESFIRE_PACS_TLS_KEY_FILE: garbage }, 'DESFIRE_PACS_TLS_KEY_FILE', /garbage\.pem holds no PEM private key/],
      [{ DESFIRE_PACS_TLS_KEY_FILE: pki.serverCert }, 'DESFIRE_PACS_TLS_KEY_FILE', /holds no PEM private key/],
      [{ DESFIRE_PACS_TLS_KEY_FILE: pki.clientKey }, 'DESFIRE_PACS_TLS_KEY_FILE', /the key in .*client\.key is not the one of the certificate in .*server\.crt \(DESFIRE_PACS_TLS_CERT_FILE\)/],
      [{ DESFIRE_PACS_TLS_CLIENT_CA_FILE: garbage }, 'DESFIRE_PACS_TLS_CLIENT_CA_FILE', /garbage\.pem holds no PEM certificate/],
    ];
    for (const [override, setting, message] of cases) {
      const error = await configError({ env: { ...env, ...override } });
      expect(error.setting, setting).toBe(setting);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('PRIVATE KEY');
    }
  });
});
