import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientTls } from '../../src/cli/client-tls.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { makeTestPki, NO_OPENSSL, type TestPki } from '../server/support/test-pki.js';

describe('client TLS options', () => {
  it('none given, by option or variable: plaintext', () => {
    expect(clientTls({}, { DESFIRE_PACS_TLS_CA: '' }, '/')).toBeUndefined();
  });

  it('a certificate without its key, or a key without its certificate, is a usage error', () => {
    expect(() => clientTls({ 'tls-cert': 'client.crt' }, {}, '/')).toThrow(new UsageError('--tls-cert and --tls-key go together: --tls-cert is given alone'));
    expect(() => clientTls({}, { DESFIRE_PACS_TLS_KEY: 'client.key' }, '/')).toThrow(new UsageError('--tls-cert and --tls-key go together: DESFIRE_PACS_TLS_KEY is given alone'));
    expect(() => clientTls({ 'tls-ca': '' }, {}, '/')).toThrow(new UsageError('--tls-ca needs a file'));
  });

  describe.skipIf(NO_OPENSSL !== undefined)('with certificates', () => {
    let dir: string;
    let pki: TestPki;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-client-tls-'));
      pki = await makeTestPki(dir);
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('reads the files (relative ones from the working directory); an option wins over its variable', async () => {
      const env = { DESFIRE_PACS_TLS_CA: pki.otherCaCert, DESFIRE_PACS_TLS_CERT: pki.clientCert, DESFIRE_PACS_TLS_KEY: pki.clientKey };
      expect(clientTls({ 'tls-ca': 'ca.crt' }, env, dir)).toEqual({ ca: await readFile(pki.caCert), cert: await readFile(pki.clientCert), key: await readFile(pki.clientKey) });
      expect(clientTls({ 'tls-ca': pki.caCert }, {}, '/')).toEqual({ ca: await readFile(pki.caCert) });
      expect(clientTls({ 'tls-cert': 'client.crt', 'tls-key': 'client.key' }, {}, dir)).toEqual({ cert: await readFile(pki.clientCert), key: await readFile(pki.clientKey) });
    });

    it('a file that cannot be read, holds the wrong thing, or a key not the certificate\'s, is a usage error naming the option', async () => {
      const garbage = join(dir, 'garbage.pem');
      await writeFile(garbage, 'hello\n');
      const pair = { 'tls-cert': pki.clientCert, 'tls-key': pki.clientKey };
      const cases: [Parameters<typeof clientTls>[0], Record<string, string>, RegExp][] = [
        [{ 'tls-ca': join(dir, 'missing.crt') }, {}, /^--tls-ca: cannot read .*missing\.crt \(ENOENT\)$/],
        [{ 'tls-ca': garbage }, {}, /^--tls-ca: .*garbage\.pem holds no PEM certificate/],
        [{}, { DESFIRE_PACS_TLS_CA: pki.caCert, DESFIRE_PACS_TLS_CERT: pki.clientKey, DESFIRE_PACS_TLS_KEY: pki.clientKey }, /^DESFIRE_PACS_TLS_CERT: .*client\.key holds no PEM certificate/],
        [{ ...pair, 'tls-key': garbage }, {}, /^--tls-key: .*garbage\.pem holds no PEM private key/],
        [{ ...pair, 'tls-key': pki.otherClientKey }, {}, /^--tls-key: the key is not the one of the certificate in --tls-cert$/],
      ];
      for (const [values, env, message] of cases) {
        expect(() => clientTls(values, env, '/')).toThrow(UsageError);
        expect(() => clientTls(values, env, '/')).toThrow(message);
      }
    });
  });
});
