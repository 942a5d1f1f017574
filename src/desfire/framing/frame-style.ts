/**
 * The two ways a native DESFire command travels, and the bytes that mark them.
 *
 * - `native`:  command `CMD DATA`, answer `STATUS DATA`.
 * - `wrapped`: ISO/IEC 7816-4 wrapping, command `90 CMD 00 00 [Lc DATA] 00`, answer `DATA 91 STATUS`
 *   (Proxmark3 `doc/desfire.md`: "native iso - wraps raw commands into the ISO APDU. CLA = 0x90,
 *   INS = command code"; `MFDES_NATIVE_ISO7816_WRAP_CLA 0x90` in `include/protocols.h`;
 *   libfreefare `desfire_transceive`).
 *
 * ISO/IEC 7816-4 commands proper (CLA 0x00, e.g. ISOSelectFile `00 A4`) are a third kind of
 * incoming frame, see `incoming-frame.ts`.
 */
export type FrameStyle = 'native' | 'wrapped';

/** CLA of a wrapped native command. */
export const WRAPPED_CLA = 0x90;

/** SW1 of the answer to a wrapped native command; SW2 is the DESFire status. */
export const WRAPPED_SW1 = 0x91;

/** CLA of the interindustry ISO/IEC 7816-4 commands a DESFire EV3 supports (ISOSelectFile, ISOReadBinary, ...). */
export const ISO_CLA = 0x00;

/**
 * ADDITIONAL_FRAME: as a status, "more frames follow" (card to reader) or "send the next
 * frame" (card asking for more command data); as a command code, the next frame of a chain.
 */
export const ADDITIONAL_FRAME = 0xaf;

/** ISO/IEC 7816-4 "normal processing" status word, accepted as OPERATION_OK on wrapped answers (Proxmark3 does too). */
export const ISO_SW_OK = 0x9000;

/** ISO/IEC 7816-4 "wrong length". */
export const ISO_SW_WRONG_LENGTH = 0x6700;
