import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why TLS tests cannot run here, or undefined when the `openssl` CLI is there to make their certificates. */
export const NO_OPENSSL: string | undefined =
  spawnSync('openssl', ['version']).status === 0 || process.env.DESFIRE_PACS_REQUIRE_OPENSSL === '1'
    ? undefined // CI sets DESFIRE_PACS_REQUIRE_OPENSSL: there a missing openssl fails the TLS tests instead of skipping them
    : 'the openssl CLI is not installed (X.509 certificates cannot be made with node:crypto)';

/** PEM files of a throwaway PKI, by path. */
export interface TestPki {
  readonly caCert: string;
  /** Signed by the CA for 127.0.0.1 and localhost. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate signed by the CA. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** A second CA, trusted by nobody, and a client certificate it signed. */
  readonly otherCaCert: string;
  readonly otherClientCert: string;
  readonly otherClientKey: string;
  /** More client certificates signed by the CA, by their subject CN, as `makeTestPki` was asked. */
  readonly clients: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
}

const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = desfire-pacs test
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
`;

/** Makes the PKI in `dir` with the openssl CLI (P-256 keys, valid for a day), with a client certificate for each of `clientNames` (its CN). */
export async function makeTestPki(dir: string, clientNames: readonly string[] = []): Promise<TestPki> {
  const config = join(dir, 'openssl.cnf');
  await writeFile(config, CONFIG);
  const path = (name: string) => join(dir, name);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = async (name: string) => {
    await run('openssl', ['req', '-x509', '-new', ...newKey, '-keyout', path(`${name}.key`), '-out', path(`${name}.crt`), '-days', '1', '-subj', `/CN=${name}`, '-config', config, '-extensions', 'ca']);
  };
  const leaf = async (name: string, caName: string, extensions: 'server' | 'client', cn = name) => {
    await run('openssl', ['req', '-new', ...newKey, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', `/CN=${cn}`, '-config', config]);
    await run('openssl', ['x509', '-req', '-in', path(`${name}.csr`), '-CA', path(`${caName}.crt`), '-CAkey', path(`${caName}.key`), '-CAcreateserial', '-out', path(`${name}.crt`), '-days', '1', '-extfile', config, '-extensions', extensions]);
  };
  await ca('ca');
  await ca('other-ca');
  await leaf('server', 'ca', 'server');
  await leaf('client', 'ca', 'client');
  await leaf('other-client', 'other-ca', 'client');
  const clients: Record<string, { cert: string; key: string }> = {};
  for (const [n, cn] of clientNames.entries()) {
    await leaf(`named-client-${n}`, 'ca', 'client', cn);
    clients[cn] = { cert: path(`named-client-${n}.crt`), key: path(`named-client-${n}.key`) };
  }
  return {
    caCert: path('ca.crt'),
    serverCert: path('server.crt'),
    serverKey: path('server.key'),
    clientCert: path('client.crt'),
    clientKey: path('client.key'),
    otherCaCert: path('other-ca.crt'),
    otherClientCert: path('other-client.crt'),
    otherClientKey: path('other-client.key'),
    clients,
  };
}
