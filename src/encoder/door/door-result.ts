/** Why a door refuses a card, machine-readable; the UID alone never grants. */
export type DenialReason =
  | 'random-uid'
  | 'not-genuine'
  | 'not-encoded'
  | 'key-version-too-old'
  | 'unknown-key-version'
  | 'key-set-not-accepted'
  | 'authentication-failed'
  | 'relay-suspected'
  | 'proximity-check-failed'
  | 'credential-unreadable'
  | 'credential-invalid'
  | 'not-yet-valid'
  | 'expired'
  | 'transport-failed';

export type DoorResult<Fields> =
  | { readonly granted: true; readonly uid: Uint8Array; readonly keySet: string; readonly keyVersion: number; readonly credential: Fields }
  | { readonly granted: false; readonly uid?: Uint8Array; readonly reason: DenialReason; readonly detail: string };
