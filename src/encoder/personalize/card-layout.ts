import type { AccessRights } from '../../desfire/access-rights.js';
import type { CommMode } from '../../desfire/comm-mode.js';

/**
 * What one card must end up holding, worked out from a profile and the card's own data: the
 * personalizer turns the card into this, step by step. Keys are not in it: they are diversified
 * per card (`CardKeys`) once the UID is known.
 */
export interface CardLayout {
  /** Version of the PICC master key (AES, diversified); at least 1, so a factory card (0) differs. */
  readonly piccKeyVersion: number;
  /** PICC key settings once encoded. */
  readonly piccKeySettings: number;
  readonly application: ApplicationLayout;
  readonly files: readonly FileLayout[];
}

export interface ApplicationLayout {
  readonly aid: number;
  readonly isoFid?: number;
  readonly dfName?: Uint8Array;
  /** Key settings once encoded (typically frozen); during encoding the application is created with 0x0F. */
  readonly keySettings: number;
  /** Target version of each application key (index = key number), each at least 1. */
  readonly keyVersions: readonly number[];
}

export interface FileLayout {
  readonly fileNo: number;
  readonly kind: 'standard' | 'backup';
  readonly commMode: CommMode;
  readonly access: AccessRights;
  readonly size: number;
  /** What the file must contain (written from offset 0), e.g. the credential. */
  readonly content?: Uint8Array;
}

/** The card's own AES keys, diversified for its UID: the PICC master key and the application keys by number. */
export interface CardKeys {
  readonly picc: Uint8Array;
  readonly application: readonly Uint8Array[];
}
