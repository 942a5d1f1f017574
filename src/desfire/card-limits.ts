/** DESFire EV3 limits both ends respect: the card enforces them, profiles are checked against them. */

/** A card holds at most 28 applications. */
export const MAX_APPLICATIONS = 28;
/** An application has 1..14 keys, numbered 0..13 (key numbers 0x0..0xD in access-right nibbles). */
export const MAX_APPLICATION_KEYS = 14;
/** File numbers 0x00..0x1F. */
export const MAX_FILE_NO = 0x1f;
/** An application holds at most 32 files. */
export const MAX_FILES = MAX_FILE_NO + 1;
/** ISO/IEC 7816-4 reserves these file identifiers (MF, current DF, RFU); a DESFire file or application may not use them. */
export const RESERVED_ISO_FIDS: ReadonlySet<number> = new Set([0x0000, 0x3f00, 0x3fff, 0xffff]);
/** ISO DF names are 1..16 bytes. */
export const MAX_DF_NAME_LENGTH = 16;
