/** Why a card was refused or left unfinished by personalization. */
export type PersonalizationFailure =
  | 'not-desfire'
  | 'random-uid'
  | 'unknown-picc-key'
  | 'foreign-applications'
  | 'unknown-application-keys'
  | 'foreign-file-layout'
  | 'verification-failed';

/**
 * A card the personalizer will not (or could not) encode. For every reason but
 * `verification-failed` the refusal comes before the card is changed.
 */
export class PersonalizationError extends Error {
  override readonly name = 'PersonalizationError';
  constructor(
    readonly reason: PersonalizationFailure,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}
