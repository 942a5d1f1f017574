import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClientTls } from '../server/grpc/client.js';
import { certificatesIn, PemError, privateKeyIn } from '../server/pem.js';
import { UsageError } from './usage-error.js';

/** TLS towards the service for the commands that call it (batch, station, door): their parseArgs options. */
export const TLS_OPTIONS = {
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

type TlsOption = keyof typeof TLS_OPTIONS;
export type TlsValues = { readonly [K in TlsOption]?: string };

/** Each option's environment variable, read when the option is not given (as DESFIRE_PACS_SERVER for --server). */
export const TLS_ENV: Readonly<Record<TlsOption, string>> = { 'tls-ca': 'DESFIRE_PACS_TLS_CA', 'tls-cert': 'DESFIRE_PACS_TLS_CERT', 'tls-key': 'DESFIRE_PACS_TLS_KEY' };

/** The options' lines of a usage text, their descriptions from `column`. */
export function tlsUsage(column: number): string {
  const line = (option: string, ...text: string[]) => text.map((t, i) => `  ${(i === 0 ? option : '').padEnd(column - 2)}${t}`);
  return [
    ...line('--tls-ca <file>', "CA certificates (PEM) to trust for the service's certificate", `(default: $${TLS_ENV['tls-ca']}, else the system's)`),
    ...line('--tls-cert <file>', 'a client certificate (PEM), for a service that asks for one', `(default: $${TLS_ENV['tls-cert']}); goes with --tls-key`),
    ...line('--tls-key <file>', `its private key (PEM) (default: $${TLS_ENV['tls-key']})`, 'with any of the three the service is called over TLS, else in plaintext'),
  ].join('\n');
}

/**
 * The TLS the options (else their variables) ask for, read from their PEM files and checked, or
 * undefined for plaintext. A file that cannot be read or holds the wrong thing is a UsageError
 * naming the option or variable.
 */
export function clientTls(values: TlsValues, env: Readonly<Record<string, string | undefined>>, cwd: string): ClientTls | undefined {
  const given = (option: TlsOption) => {
    if (values[option] !== undefined) return { source: `--${option}`, path: values[option] };
    const fromEnv = env[TLS_ENV[option]];
    return fromEnv ? { source: TLS_ENV[option], path: fromEnv } : undefined;
  };
  const [ca, cert, key] = (['tls-ca', 'tls-cert', 'tls-key'] as const).map(given);
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  if ((cert === undefined) !== (key === undefined)) throw new UsageError(`--tls-cert and --tls-key go together: ${(cert ?? key)!.source} is given alone`);

  const read = <T>(file: { source: string; path: string }, check: (pem: Buffer) => T): { pem: Buffer; parsed: T } => {
    if (file.path === '') throw new UsageError(`${file.source} needs a file`);
    const path = resolve(cwd, file.path);
    let pem: Buffer;
    try {
      pem = readFileSync(path);
    } catch (error) {
      throw new UsageError(`${file.source}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    try {
      return { pem, parsed: check(pem) };
    } catch (error) {
      if (error instanceof PemError) throw new UsageError(`${file.source}: ${path} ${error.message}`);
      throw error;
    }
  };
  const trusted = ca === undefined ? undefined : read(ca, certificatesIn).pem;
  if (cert === undefined || key === undefined) return { ca: trusted };
  const certificate = read(cert, certificatesIn);
  const privateKey = read(key, privateKeyIn);
  if (!certificate.parsed[0].checkPrivateKey(privateKey.parsed)) throw new UsageError(`${key.source}: the key is not the one of the certificate in ${cert.source}`);
  return { ...(trusted === undefined ? {} : { ca: trusted }), cert: certificate.pem, key: privateKey.pem };
}
