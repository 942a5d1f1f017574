import { describe, expect, it } from 'vitest';
import { KEK_ENV, PASSPHRASE_ENV, isKeyStoreError, parseKek, secretFromEnvironment } from '../../../src/encoder/keys/index.js';

const KEK_HEX = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

function failure(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (!isKeyStoreError(error)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error('expected a KeyStoreError');
}

describe('secretFromEnvironment: which secret wins', () => {
  it('--passphrase-env NAME first, then DESFIRE_PACS_KEK, then DESFIRE_PACS_PASSPHRASE', () => {
    const env = { MY_PASS: 'from my variable', [KEK_ENV]: KEK_HEX, [PASSPHRASE_ENV]: 'from the default variable' };
    expect(secretFromEnvironment(env, { passphraseEnv: 'MY_PASS' })).toEqual({ secret: { kind: 'passphrase', passphrase: 'from my variable' }, source: 'MY_PASS' });
    const kek = secretFromEnvironment(env);
    expect(kek.source).toBe(KEK_ENV);
    expect(kek.secret).toEqual({ kind: 'kek', kek: Uint8Array.from(Buffer.from(KEK_HEX, 'hex')) });
    expect(secretFromEnvironment({ [PASSPHRASE_ENV]: 'from the default variable', [KEK_ENV]: '' })).toEqual({
      secret: { kind: 'passphrase', passphrase: 'from the default variable' },
      source: PASSPHRASE_ENV,
    });
  });

  it('a variable named with --passphrase-env must be set: no silent fallback', () => {
    expect(failure(() => secretFromEnvironment({ [KEK_ENV]: KEK_HEX }, { passphraseEnv: 'UNSET' }))).toMatchObject({ code: 'BAD_SECRET', message: expect.stringContaining('UNSET') });
  });

  it('no secret at all: BAD_SECRET naming the variables', () => {
    const { code, message } = failure(() => secretFromEnvironment({}));
    expect(code).toBe('BAD_SECRET');
    expect(message).toContain(KEK_ENV);
    expect(message).toContain(PASSPHRASE_ENV);
  });

  it.each([['too short', KEK_HEX.slice(2)], ['not hex', `${KEK_HEX.slice(2)}zz`], ['too long', `${KEK_HEX}00`]])('a KEK %s: BAD_SECRET, value not echoed', (_, value) => {
    const { code, message } = failure(() => secretFromEnvironment({ [KEK_ENV]: value }));
    expect(code).toBe('BAD_SECRET');
    expect(message).not.toContain(value);
  });

  it('parseKek tolerates surrounding whitespace and upper case', () => {
    expect(parseKek(` ${KEK_HEX.toUpperCase()}\n`, 'x')).toEqual(Uint8Array.from(Buffer.from(KEK_HEX, 'hex')));
  });
});
