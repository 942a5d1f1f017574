import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { KEK_ENV, KEK_LENGTH, KeyStoreError, PASSPHRASE_ENV, parseKek, secretFromEnvironment, type KeyFileSecret } from '../encoder/keys/index.js';
import type { Environment } from './config/load-config.js';

/**
 * The secret that unlocks the service's key file. From the environment when DESFIRE_PACS_KEK or
 * DESFIRE_PACS_PASSPHRASE is set (as for `desfire-pacs keys`); otherwise a development setup:
 * a random KEK kept in `kekFile` beside the key file (0600), made on first start. Anyone who can
 * read the data directory then has the keys, so every start says so in a warning.
 */
export async function keyFileSecret(options: { env: Environment; kekFile: string; keyFile: string; logger: Logger }): Promise<KeyFileSecret> {
  const { env, kekFile, keyFile, logger } = options;
  if (nonEmpty(env[KEK_ENV]) || nonEmpty(env[PASSPHRASE_ENV])) {
    const { secret, source } = secretFromEnvironment(env);
    logger.info({ source }, `key file ${keyFile} unlocked with the secret from ${source}`);
    return secret;
  }
  let kek: Uint8Array;
  if (existsSync(kekFile)) {
    kek = parseKek(await readFile(kekFile, 'utf8'), kekFile);
  } else {
    // A KEK made now cannot open a key file made with another one: say what is missing instead.
    if (existsSync(keyFile)) throw new KeyStoreError('BAD_SECRET', `no secret for the key file ${keyFile}: set ${KEK_ENV} or ${PASSPHRASE_ENV}, or restore ${kekFile}`);
    kek = new Uint8Array(randomBytes(KEK_LENGTH));
    await writeFile(kekFile, `${Buffer.from(kek).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  logger.warn(
    { kekFile },
    `development setup: the key file's key-encryption key is kept beside it in ${kekFile}; in production set ${KEK_ENV} (64 hex digits, from a secrets manager) or ${PASSPHRASE_ENV}`,
  );
  return { kind: 'kek', kek };
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
