/** Limits a profile must respect: the card's (src/desfire/card-limits.ts) and the encoder's own. */

export { MAX_APPLICATIONS, MAX_APPLICATION_KEYS, MAX_DF_NAME_LENGTH, MAX_FILE_NO, MAX_FILES, RESERVED_ISO_FIDS } from '../../desfire/card-limits.js';
/** AIDs are 3 bytes; 000000 is the PICC level. */
export const MAX_AID = 0xffffff;
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
