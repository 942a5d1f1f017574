/**
 * PC/SC cannot be used on this machine: nfc-pcsc or its native addon (@pokusew/pcsclite, built
 * against libpcsclite-dev) is missing, or pcscd does not answer. Thrown when a PC/SC reader is
 * asked for, never on import: the rest of the project runs without PC/SC. The message says what
 * to install or start.
 */
export class PcscUnavailableError extends Error {
  override readonly name = 'PcscUnavailableError';
  /** What is missing: the npm package, its native addon, or the pcscd service. */
  readonly missing: 'nfc-pcsc' | 'native-addon' | 'pcscd';

  constructor(missing: PcscUnavailableError['missing'], message: string, options?: ErrorOptions) {
    super(`PC/SC is unavailable: ${message}`, options);
    this.missing = missing;
  }
}
