/**
 * Frame-size limits of a MIFARE DESFire EV3 as delivered, and the numbers the public
 * reader implementations use. Every constant names its source.
 *
 * The chain of reasoning: the card's ISO/IEC 14443-4 frame (FSC) is 64 bytes; a block spends
 * 4 of them on PCB, CID and CRC_A, leaving 60 bytes for one command message. A native frame is
 * CMD (or 0xAF) + 59 bytes; an ISO-wrapped one is 90 CMD 00 00 Lc DATA 00, so DATA <= 54.
 */

/**
 * FSC of a physical DESFire (EV1, EV2, EV3) in its default configuration: ATS
 * `06 75 77 81 02 80`, T0 = 0x75, FSCI = 5, which ISO/IEC 14443-4 maps to 64 bytes.
 * Sources: Proxmark3 `client/src/cmdhfmfdes.c` recognises "Standalone DESFire" by ATS bytes
 * `75 77 81 02` (JCOP-hosted DESFire applets send `78 ..`, FSCI 8, instead); a genuine
 * DESFire EV3 (hardware version 33.0) decoded by `hf 14a info` as "FSCI is 5 (FSC = 64)" in
 * flipperdevices/flipperzero-firmware PR #4439; EV1 in Proxmark/proxmark3 issue #670.
 * The FSCI is configurable (EV2 short data sheet MF3D(H)x2: "Configurable FSCI to support up to
 * 128 bytes frame size"; Proxmark's `doc/unofficial_desfire_bible.md` claims 256 for EV3,
 * unverified), so every limit below is a default that callers may raise.
 */
export const DEFAULT_FSC = 64;

/** ISO/IEC 14443-4 block overhead counted against the FSC: PCB (1) + CID (1) + CRC_A (2). */
export const BLOCK_OVERHEAD = 4;

/**
 * The largest command message (native frame or whole command APDU) the card takes in one
 * frame: 64 - 4 = 60. NXP (mifare.net forum, "Mifare desfire EV1 and ISO IEC 7816-4 Commands",
 * 17 Aug 2016): "the frame size for one APDU is limited to maximum 64 bytes ... only 60 bytes can
 * be used for one native DESFire EV1 command".
 */
export const MAX_COMMAND_FRAME_LENGTH = DEFAULT_FSC - BLOCK_OVERHEAD;

/**
 * Data bytes after the command (or 0xAF) byte in one native frame: 59. A genuine EV3 takes
 * `AF` + 59 bytes per WriteData frame in the replayed PC/SC trace of paultag/desox-rs
 * (`src/replay/file_io.replay`, recorded from a physical card).
 */
export const MAX_NATIVE_COMMAND_DATA = MAX_COMMAND_FRAME_LENGTH - 1;

/** CLA, INS, P1, P2, Lc and Le around the data of an ISO-wrapped native command. */
export const WRAPPED_COMMAND_OVERHEAD = 6;

/**
 * Lc limit of an ISO-wrapped native command: 60 - 6 = 54. Proxmark3 uses exactly this,
 * `DESFIRE_TX_FRAME_MAX_LEN 54` (`client/src/mifare/desfirecore.h`); libfreefare's
 * `MAX_CAPDU_SIZE 55` is INS + 54 data bytes, quoting the DESFire functional specification:
 * "The length of the total wrapped DESFire command is not longer than 55 byte long"
 * (`libfreefare/mifare_desfire.c`).
 */
export const MAX_WRAPPED_COMMAND_DATA = MAX_COMMAND_FRAME_LENGTH - WRAPPED_COMMAND_OVERHEAD;

/**
 * Data bytes the card puts in one answer frame: 59, after the status byte (native) or before
 * SW1 SW2 (wrapped). libfreefare: `MAX_RAPDU_SIZE 60` = "1 status byte + 59 bytes"; issue
 * nfc-tools/libfreefare#8: "Desfire max Le is 59". Readers must not rely on it: the desox-rs
 * trace above shows an EV3 answering ReadData in 48-byte frames.
 */
export const MAX_ANSWER_FRAME_DATA = 59;

/**
 * Upper bound on a whole chained answer a reader accepts before giving up on a card that keeps
 * answering 0xAF. Proxmark3 sizes its exchange buffer `DESFIRE_BUFFER_SIZE 65538`
 * (`client/src/mifare/desfirecore.h`); 64 KiB is far above any EV3 file (16 KB memory at most).
 */
export const MAX_CHAINED_ANSWER_LENGTH = 65536;

/**
 * Upper bound on a whole chained command the card collects. The largest legitimate one is a
 * WriteData/WriteRecord of a whole file; 64 KiB again exceeds any EV3 memory.
 */
export const MAX_CHAINED_COMMAND_LENGTH = 65536;
