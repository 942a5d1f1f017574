import { expect } from 'vitest';
import { ConfigError, loadConfig, type ConfigSources } from '../../../src/server/config/index.js';

/** The ConfigError `sources` lead to (fails the test when there is none); cwd /srv, no environment unless given. */
export async function configError(sources: ConfigSources): Promise<ConfigError> {
  const error = await loadConfig({ env: {}, cwd: '/srv', ...sources }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}
