import type { AccessRights } from '../desfire/access-rights.js';
import type { CommMode } from '../desfire/comm-mode.js';
import type { KeyType } from '../desfire/crypto/key-type.js';

/**
 * The persistent state of a virtual DESFire EV3 card: what survives power-off. Plain data
 * (no methods) so that an image is this structure written as JSON, and a command's change to it
 * is one mutation committed through `NvMemory.write`.
 */

export interface KeySlot {
  /** Key bytes as DESFire keeps them: DES 8, 2K3DES 16, 3K3DES 24, AES 16. */
  key: Uint8Array;
  /** Key version (for DES keys also mirrored in the parity bits, as the card does). */
  version: number;
}

/** Card memory sizes of the EV3 family. */
export type Capacity = '2k' | '4k' | '8k';

export { CAPACITY_BYTES } from '../desfire/capacity-model.js';

/** File types with the codes GetFileSettings reports. */
export const FileType = {
  STANDARD: 0x00,
  BACKUP: 0x01,
  VALUE: 0x02,
  LINEAR_RECORD: 0x03,
  CYCLIC_RECORD: 0x04,
  TRANSACTION_MAC: 0x05,
} as const;
export type FileTypeCode = (typeof FileType)[keyof typeof FileType];

export { FREE_ACCESS, NO_ACCESS, type AccessRights } from '../desfire/access-rights.js';

interface FileBase {
  fileNo: number;
  isoFid?: number;
  commMode: CommMode;
  access: AccessRights;
}

/** Standard and backup data files: a byte array of fixed size. Backup files change only on commit. */
export interface DataFile extends FileBase {
  type: typeof FileType.STANDARD | typeof FileType.BACKUP;
  data: Uint8Array;
}

export interface ValueFile extends FileBase {
  type: typeof FileType.VALUE;
  lowerLimit: number;
  upperLimit: number;
  value: number;
  limitedCreditEnabled: boolean;
  freeGetValue: boolean;
  /** What LimitedCredit may still add: the sum of debits of the last committed transaction. */
  limitedCreditValue: number;
}

/** Linear and cyclic record files: records oldest first. */
export interface RecordFile extends FileBase {
  type: typeof FileType.LINEAR_RECORD | typeof FileType.CYCLIC_RECORD;
  recordSize: number;
  maxRecords: number;
  records: Uint8Array[];
}

/** Transaction MAC file: the TM key and the running counter and value of committed transactions. */
export interface TransactionMacFile extends FileBase {
  type: typeof FileType.TRANSACTION_MAC;
  tmKey: Uint8Array;
  tmKeyVersion: number;
  tmKeyOption: number;
  tmc: number;
  tmv: Uint8Array;
  /** The reader ID of the last committed transaction (CommitReaderID), 16 bytes. */
  tmri: Uint8Array;
}

export type CardFile = DataFile | ValueFile | RecordFile | TransactionMacFile;

export interface Application {
  aid: number;
  isoFid?: number;
  dfName?: Uint8Array;
  /** Key settings 1: change-key access (bits 7..4) and the four flags of bits 3..0. */
  keySettings: number;
  /** The type and keys of the active key set (the only key set when `keySets` is absent). */
  keyType: KeyType;
  keys: KeySlot[];
  files: Map<number, CardFile>;
  /** Application key sets (EV2: created with KeySett2 bit 4 and KeySett3 bit 0); absent: one key set. */
  keySets?: ApplicationKeySets;
}

/**
 * A key set other than the active one: made by InitializeKeySet, its keys changed with ChangeKeyEV2,
 * closed by FinalizeKeySet (which gives it its version), made active by RollKeySet.
 */
export interface KeySet {
  /** '2k3des' (KeySetType 00), '3k3des' (01) or 'aes' (02). */
  keyType: KeyType;
  /** As many keys as the application has (KeySett2 bits 3..0). */
  keys: KeySlot[];
  /** The key set version FinalizeKeySet gave it; 0 until then. */
  version: number;
  finalized: boolean;
}

/**
 * The key-set parameters of CreateApplication (AKSVersion, NoKeySets, MaxKeySize, AppKeySetSett) and
 * the key sets themselves. Key set 0 is always the active key set (AKS): its keys are the application's
 * `keys` and `keyType`; RollKeySet renumbers the key sets so that the one rolled to becomes number 0
 * (key-sets.ts has the sources).
 */
export interface ApplicationKeySets {
  /** NoKeySets: 2..16, the active one included. */
  count: number;
  /** MaxKeySize: 16 (DES/2K3DES and AES keys only) or 24 (3K3DES keys too). */
  maxKeySize: 16 | 24;
  /** AppKeySetSett: the number of the key (of the active key set) that authorises RollKeySet. */
  rollKey: number;
  /** The version of the active key set (AKSVersion at creation). */
  activeVersion: number;
  /** Key sets 1..count-1 that have been initialized, by number. */
  others: Map<number, KeySet>;
}

export interface PiccState {
  /** The real 7-byte UID (GetCardUID, key diversification). */
  uid: Uint8Array;
  capacity: Capacity;
  masterKeyType: KeyType;
  masterKey: KeySlot;
  /** PICC key settings (factory 0x0F: everything allowed, master key changeable). */
  keySettings: number;
  /** SetConfiguration option 00: FormatPICC disabled (bit 0), random UID (bit 1). */
  formatDisabled: boolean;
  randomUid: boolean;
  /** SetConfiguration option 01: the key new applications get (and its version). */
  defaultKey: KeySlot;
  /** SetConfiguration option 02: user-defined ATS, when set. */
  ats?: Uint8Array;
  applications: Map<number, Application>;
  /** Batch number (5 bytes), production week and year (BCD) reported by GetVersion. */
  production: { batch: Uint8Array; week: number; year: number };
  /** The originality-signature private key (secp224r1 scalar d, 28 bytes); Read_Sig signs the UID with it. */
  originalityKey: Uint8Array;
  /**
   * Virtual-card keys at PICC level (AES, EV2+): 0x20 VCConfigurationKey, 0x21 VCProximityKey,
   * 0x22 VCSelectMACKey, 0x23 VCSelectENCKey; changed with ChangeKey at PICC level.
   */
  vcKeys: Map<number, KeySlot>;
}

/** Key-settings flags (bits 3..0 of key settings 1, PICC and application alike). */
export const KeySettingsFlag = {
  MASTER_KEY_CHANGEABLE: 0x01,
  FREE_LISTING: 0x02,
  FREE_CREATE_DELETE: 0x04,
  CONFIGURATION_CHANGEABLE: 0x08,
} as const;
