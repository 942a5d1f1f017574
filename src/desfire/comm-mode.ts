/** How a message is protected inside an authenticated session. */
export type CommMode = 'plain' | 'mac' | 'full';

/**
 * The communication-settings byte of file settings (bits 1..0):
 * 0b00 plain, 0b01 MACed, 0b11 fully enciphered; 0b10 is plain on EV1 and later cards.
 */
export function commModeFromByte(byte: number): CommMode {
  switch (byte & 0x03) {
    case 0x01:
      return 'mac';
    case 0x03:
      return 'full';
    default:
      return 'plain';
  }
}

export function commModeToByte(mode: CommMode): number {
  return mode === 'plain' ? 0x00 : mode === 'mac' ? 0x01 : 0x03;
}

