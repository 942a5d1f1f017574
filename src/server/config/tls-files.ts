import { readFile } from 'node:fs/promises';
import { certificatesIn, PemError, privateKeyIn } from '../pem.js';
import { ConfigError } from './config-error.js';
import type { TlsConfig } from './service-config.js';
import type { TlsFiles } from './settings.js';

export type TlsSettingKey = 'tls.cert_file' | 'tls.key_file' | 'tls.client_ca_file';

/**
 * Reads and checks the TLS settings' PEM files: certificate and key both or neither, a client CA
 * only with them, each file readable and holding what it should, the key the certificate's.
 * Undefined when none is set (plaintext). Errors name the setting as `sourceOf` gives it.
 */
export async function readTlsFiles(files: TlsFiles, sourceOf: (key: TlsSettingKey) => string): Promise<TlsConfig | undefined> {
  if (files.cert === undefined && files.key === undefined) {
    if (files.clientCa !== undefined) throw new ConfigError(sourceOf('tls.client_ca_file'), 'client certificates need TLS: set tls.cert_file and tls.key_file too');
    return undefined;
  }
  if (files.cert === undefined) throw new ConfigError(sourceOf('tls.key_file'), 'tls.key_file and tls.cert_file go together: tls.cert_file is not set');
  if (files.key === undefined) throw new ConfigError(sourceOf('tls.cert_file'), 'tls.cert_file and tls.key_file go together: tls.key_file is not set');

  const certChain = await readPem(files.cert, sourceOf('tls.cert_file'));
  const [serverCert] = checked(() => certificatesIn(certChain), files.cert, sourceOf('tls.cert_file'));
  const key = await readPem(files.key, sourceOf('tls.key_file'));
  const keyObject = checked(() => privateKeyIn(key), files.key, sourceOf('tls.key_file'));
  if (!serverCert.checkPrivateKey(keyObject)) {
    throw new ConfigError(sourceOf('tls.key_file'), `the key in ${files.key} is not the one of the certificate in ${files.cert} (${sourceOf('tls.cert_file')})`);
  }
  if (files.clientCa === undefined) return { certChain, key, certFile: files.cert };
  const clientCa = await readPem(files.clientCa, sourceOf('tls.client_ca_file'));
  checked(() => certificatesIn(clientCa), files.clientCa, sourceOf('tls.client_ca_file'));
  return { certChain, key, clientCa, certFile: files.cert, clientCaFile: files.clientCa };
}

async function readPem(path: string, source: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError(source, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

function checked<T>(parse: () => T, path: string, source: string): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof PemError) throw new ConfigError(source, `${path} ${error.message}`);
    throw error;
  }
}
