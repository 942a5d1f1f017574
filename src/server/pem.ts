import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

/** PEM text that is not what it should be; the caller names the file or setting. */
export class PemError extends Error {
  override readonly name = 'PemError';
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * The X.509 certificates of a PEM file, in order (a chain or a CA bundle). Checked here so a
 * wrong file fails at start with its name, not at the first TLS handshake with OpenSSL's words.
 */
export function certificatesIn(pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('utf8').match(CERTIFICATE_BLOCK);
  if (blocks === null) throw new PemError('holds no PEM certificate ("-----BEGIN CERTIFICATE-----")');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new PemError(`holds a certificate (number ${i + 1}) that is not valid X.509 (${error instanceof Error ? error.message : String(error)})`);
    }
  });
}

/** The private key of a PEM file (unencrypted: the service has no passphrase to give it). */
export function privateKeyIn(pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MISSING_PASSPHRASE') throw new PemError('holds an encrypted private key; give it unencrypted (readable by the service only)');
    throw new PemError('holds no PEM private key');
  }
}
