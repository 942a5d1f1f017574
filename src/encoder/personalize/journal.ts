/** The steps of personalization, in order. */
export const PERSONALIZATION_STEPS = [
  'inspect',
  'picc-master-key',
  'create-application',
  'application-keys',
  'create-files',
  'write-content',
  'application-key-settings',
  'picc-key-settings',
  'verify',
] as const;
export type PersonalizationStep = (typeof PERSONALIZATION_STEPS)[number];

export type StepPhase = 'started' | 'completed' | 'skipped' | 'failed';

export interface StepEvent {
  readonly uid: Uint8Array;
  readonly step: PersonalizationStep;
  readonly phase: StepPhase;
  /** Why a step was skipped (already done) or failed; never key material. */
  readonly detail?: string;
}

/**
 * Where personalization reports each step before it changes the card (`started`, written ahead)
 * and after (`completed`; `skipped` when the card already had it; `failed`). The service persists
 * it (SQLite); tests record it.
 */
export interface PersonalizationJournal {
  record(event: StepEvent): void | Promise<void>;
}
