/**
 * The two checksums of DESFire secure messaging.
 * - CRC16 of ISO/IEC 14443-3 type A (CRC_A): polynomial x^16+x^12+x^5+1 reflected (0x8408),
 *   initial value 0x6363, no final XOR; used by d40 (legacy) enciphered messages.
 * - The DESFire CRC32: IEEE 802.3 polynomial reflected (0xEDB88320), initial value 0xFFFFFFFF,
 *   and, unlike Ethernet, no final XOR; used by EV1 enciphered messages.
 * Both are appended least significant byte first.
 */

function reflectedTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC16_TABLE = reflectedTable(0x8408);
const CRC32_TABLE = reflectedTable(0xedb88320);

export function crc16A(data: Uint8Array): Uint8Array {
  let crc = 0x6363;
  for (const byte of data) crc = (crc >>> 8) ^ CRC16_TABLE[(crc ^ byte) & 0xff];
  return Uint8Array.of(crc & 0xff, crc >>> 8);
}

export function crc32Desfire(data: Uint8Array): Uint8Array {
  let crc = 0xffffffff;
  for (const byte of data) crc = (crc >>> 8) ^ CRC32_TABLE[(crc ^ byte) & 0xff];
  return Uint8Array.of(crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24);
}
