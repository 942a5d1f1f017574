import { KeyStoreError } from './errors.js';
import { KEK_LENGTH, type KeyFileSecret } from './key-file.js';

/** The key-encryption key itself, 64 hex digits (32 bytes), e.g. from a secrets manager. */
export const KEK_ENV = 'DESFIRE_PACS_KEK';
/** A passphrase, run through scrypt with the file's parameters. */
export const PASSPHRASE_ENV = 'DESFIRE_PACS_PASSPHRASE';

export interface ResolvedSecret {
  readonly secret: KeyFileSecret;
  /** Where it came from, for messages: the environment variable's name, never its value. */
  readonly source: string;
}

/**
 * Picks the secret that unlocks the key file from the environment. Which wins, first match:
 * 1. `passphraseEnv` (the CLI's `--passphrase-env NAME`): a passphrase in that variable; asked
 *    for explicitly, so it must be set and non-empty (no fallback);
 * 2. `DESFIRE_PACS_KEK`: the KEK itself, 64 hex digits;
 * 3. `DESFIRE_PACS_PASSPHRASE`: a passphrase.
 * The file must be of the matching kind (a file made with a passphrase opens only with that
 * passphrase), else BAD_SECRET. Values are never echoed in errors.
 */
export function secretFromEnvironment(env: Readonly<Record<string, string | undefined>>, options: { passphraseEnv?: string } = {}): ResolvedSecret {
  const named = options.passphraseEnv;
  if (named !== undefined) {
    const value = env[named];
    if (value === undefined || value === '') throw new KeyStoreError('BAD_SECRET', `the environment variable ${named} (--passphrase-env) is not set or empty`);
    return { secret: { kind: 'passphrase', passphrase: value }, source: named };
  }
  const kek = env[KEK_ENV];
  if (kek !== undefined && kek !== '') return { secret: { kind: 'kek', kek: parseKek(kek, KEK_ENV) }, source: KEK_ENV };
  const passphrase = env[PASSPHRASE_ENV];
  if (passphrase !== undefined && passphrase !== '') return { secret: { kind: 'passphrase', passphrase }, source: PASSPHRASE_ENV };
  throw new KeyStoreError('BAD_SECRET', `no secret for the key file: set ${KEK_ENV} (64 hex digits) or ${PASSPHRASE_ENV}, or name a variable with --passphrase-env`);
}

/** A KEK written as hex (surrounding whitespace ignored); `source` names it in the error. */
export function parseKek(text: string, source: string): Uint8Array {
  const hex = text.trim();
  if (!new RegExp(`^[0-9a-fA-F]{${2 * KEK_LENGTH}}$`).test(hex)) {
    throw new KeyStoreError('BAD_SECRET', `${source} must be ${2 * KEK_LENGTH} hex digits (a ${KEK_LENGTH}-byte key-encryption key)`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
