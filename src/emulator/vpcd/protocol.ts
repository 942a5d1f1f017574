/**
 * The vpcd wire protocol (vsmartcard's virtual PC/SC reader driver, `ifd-vpcd`), as read in
 * frankmorgner/vsmartcard `virtualsmartcard/src/vpcd/vpcd.{h,c}` and the Python card side
 * `virtualsmartcard/src/vpicc/virtualsmartcard/VirtualSmartcard.py`:
 *
 * - one TCP connection per reader slot; by default vpcd listens (pcscd loads it from
 *   `/etc/reader.conf.d/vpcd`, `DEVICENAME /dev/null:0x8C7B`: port 35963 for slot 0, 35964 for
 *   slot 1) and the card connects to it;
 * - every message, both ways, is a 2-byte big-endian length followed by that many bytes;
 * - a 1-byte message from vpcd is a control code (`VpcdControl`); only `GetAtr` is answered (with
 *   the ATR), power off / on / reset get no answer;
 * - any other message from vpcd is a command APDU, answered with one response APDU (vpcd forwards
 *   what the application gave SCardTransmit, so a 1-byte command looks like a control code: see
 *   `CardSlot.handle`);
 * - vpcd treats an empty or missing answer as a removed card: it closes the connection, and
 *   pcscd's next presence poll (an ATR request about every 400 ms) finds the slot empty until a
 *   card connects again.
 */

/** vpcd's default port (`VPCDPORT`, 0x8C7B): reader slot 0; slot n listens on port + n. */
export const VPCD_DEFAULT_PORT = 35963;

/** The length prefix is 16 bits: no message can be longer. */
export const VPCD_MAX_MESSAGE_LENGTH = 0xffff;

/** Control codes, each sent alone as a 1-byte message (`VPCD_CTRL_*` in vpcd.h). */
export const VpcdControl = {
  /** Power the card down (no answer). */
  PowerOff: 0x00,
  /** Power the card up (no answer; vpcd asks for the ATR right after). */
  PowerOn: 0x01,
  /** Warm reset (no answer; vpcd asks for the ATR right after). */
  Reset: 0x02,
  /** Send the ATR. Also pcscd's presence check: an empty answer means "no card". */
  GetAtr: 0x04,
} as const;

export type VpcdControlCode = (typeof VpcdControl)[keyof typeof VpcdControl];

const CONTROL_CODES: ReadonlySet<number> = new Set(Object.values(VpcdControl));

/** True for the four control codes vpcd sends (as a 1-byte message). */
export function isControlCode(byte: number): byte is VpcdControlCode {
  return CONTROL_CODES.has(byte);
}

/** Frames one message: 2-byte big-endian length, then the payload. */
export function encodeVpcdMessage(payload: Uint8Array): Uint8Array {
  if (payload.length > VPCD_MAX_MESSAGE_LENGTH) {
    throw new RangeError(`a vpcd message holds at most ${VPCD_MAX_MESSAGE_LENGTH} bytes, got ${payload.length}`);
  }
  const out = new Uint8Array(2 + payload.length);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}
