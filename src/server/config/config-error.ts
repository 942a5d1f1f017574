/**
 * A setting that cannot be used, named as it was given: a config file key with the file
 * (`relay.apdu_timeout_ms in service.yaml`), an environment variable, or a command-line flag.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** Where the setting came from, e.g. `DESFIRE_PACS_LISTEN`. */
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
  }
}
