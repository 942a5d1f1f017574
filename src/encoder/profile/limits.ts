/**
 * DESFire EV3 limits a profile must respect, and the naming rules of the key store.
 *
 * These are protocol facts the emulator enforces too (src/emulator/handlers/picc.ts MAX_KEYS and
 * MAX_APPLICATIONS, src/emulator/file-settings.ts MAX_FILE_NO and the reserved ISO FIDs), and the
 * key set name rule of src/encoder/keys/key-ring.ts. The encoder may not import the emulator, so
 * they are stated here; they belong in src/desfire (and the key store's exports) for both to use.
 */

/** A card holds at most 28 applications. */
export const MAX_APPLICATIONS = 28;
/** An application has 1..14 keys, numbered 0..13; key numbers 0x0..0xD in access-right nibbles. */
export const MAX_APPLICATION_KEYS = 14;
/** File numbers 0x00..0x1F. */
export const MAX_FILE_NO = 0x1f;
/** An application holds at most 32 files. */
export const MAX_FILES = MAX_FILE_NO + 1;
/** AIDs are 3 bytes; 000000 is the PICC level. */
export const MAX_AID = 0xffffff;
/** ISO/IEC 7816-4 reserves these file identifiers (MF, current DF, RFU); DESFire refuses them. */
export const RESERVED_ISO_FIDS: ReadonlySet<number> = new Set([0x0000, 0x3f00, 0x3fff, 0xffff]);
/** ISO DF names are 1..16 bytes. */
export const MAX_DF_NAME_LENGTH = 16;
/** File sizes are sent in 3 bytes. */
export const MAX_FILE_SIZE = 0xffffff;
/** Key versions are one byte; 0 is the factory's, so encoded keys have 1..255. */
export const MAX_KEY_VERSION = 255;
/** The UID length of MIFARE DESFire EV3 (double-size UID). */
export const UID_LENGTH = 7;
/** AN10922 AES-128: the diversification input M is 1..31 bytes. */
export const AN10922_AES_MAX_INPUT = 31;
/** M = UID (7) || AID (3) || system identifier, so at most 21 bytes of system identifier. */
export const MAX_SYSTEM_IDENTIFIER_LENGTH = AN10922_AES_MAX_INPUT - UID_LENGTH - 3;
/** Key set names, as the key store accepts them. */
export const KEY_SET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Profile names. */
export const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
