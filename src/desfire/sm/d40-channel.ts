import { concat, constantTimeEqual } from '../bytes.js';
import type { CommMode } from '../comm-mode.js';
import type { BlockCipher } from '../crypto/block-cipher.js';
import { crc16A } from '../crypto/crc.js';
import { integrityError, lengthError } from '../errors.js';
import { padZeros, stripCrcAndZeros } from './padding.js';
import type { SecureChannel, UnwrappedCommand } from './secure-channel.js';
import { sendModeDecipher, sendModeEncipher } from './send-mode.js';

const MAC_LENGTH = 4;
const BLOCK = 8;
const CRC_LENGTH = 2;

/**
 * d40 (legacy DESFire, after Authenticate 0x0A) secure messaging with a DES or 2K3DES session key.
 * Every message starts from a zero IV. Only the data after the clear header is protected; the
 * command byte and header are neither MACed nor enciphered.
 * - MAC: the first 4 bytes of the last block of DES-CBC encryption of the zero-padded data.
 * - Full: data || CRC16-A(data), zero-padded; commands go through the send mode (send-mode.ts),
 *   answers are plain CBC encryption, undone by CBC decryption.
 * A message with no data after its header carries no MAC and no CRC.
 */
export class D40Channel implements SecureChannel {
  readonly generation = 'd40' as const;
  readonly proximityMac = undefined;
  readonly #cipher: BlockCipher;
  readonly #zeroIv = new Uint8Array(BLOCK);

  /** `cipher` holds the session key; the channel owns it from now on. */
  constructor(cipher: BlockCipher) {
    this.#cipher = cipher;
  }

  wrapCommand(_cmd: number, header: Uint8Array, data: Uint8Array, mode: CommMode): Uint8Array {
    if (mode === 'plain' || data.length === 0) return concat(header, data);
    if (mode === 'mac') return concat(header, data, this.#mac(data));
    return concat(header, sendModeDecipher(this.#cipher, padZeros(concat(data, crc16A(data)), BLOCK)));
  }

  unwrapResponse(_status: number, body: Uint8Array, mode: CommMode, expectedLength?: number): Uint8Array {
    if (mode === 'plain' || body.length === 0) return body.slice();
    if (mode === 'mac') return this.#checkMac(body);
    this.#checkBlocks(body);
    const plain = this.#cipher.decryptCbc(body, this.#zeroIv);
    return stripCrcAndZeros(plain, BLOCK, CRC_LENGTH, crc16A, expectedLength);
  }

  unwrapCommand(_cmd: number, body: Uint8Array, headerLength: number, mode: CommMode, expectedLength?: number): UnwrappedCommand {
    if (body.length < headerLength) throw lengthError(`command of ${body.length} bytes is shorter than its ${headerLength}-byte header`);
    const header = body.slice(0, headerLength);
    const rest = body.subarray(headerLength);
    if (mode === 'plain' || rest.length === 0) return { header, data: rest.slice() };
    if (mode === 'mac') return { header, data: this.#checkMac(rest) };
    this.#checkBlocks(rest);
    const plain = sendModeEncipher(this.#cipher, rest);
    return { header, data: stripCrcAndZeros(plain, BLOCK, CRC_LENGTH, crc16A, expectedLength) };
  }

  wrapResponse(_status: number, data: Uint8Array, mode: CommMode): Uint8Array {
    if (mode === 'plain' || data.length === 0) return data.slice();
    if (mode === 'mac') return concat(data, this.#mac(data));
    return this.#cipher.encryptCbc(padZeros(concat(data, crc16A(data)), BLOCK), this.#zeroIv);
  }

  wrapCryptogram(_cmd: number, header: Uint8Array, cryptogram: Uint8Array): Uint8Array {
    return concat(header, sendModeDecipher(this.#cipher, padZeros(cryptogram, BLOCK)));
  }

  unwrapCryptogram(_cmd: number, body: Uint8Array, headerLength: number): UnwrappedCommand {
    if (body.length < headerLength) throw lengthError(`command of ${body.length} bytes is shorter than its ${headerLength}-byte header`);
    const rest = body.subarray(headerLength);
    this.#checkBlocks(rest);
    return { header: body.slice(0, headerLength), data: sendModeEncipher(this.#cipher, rest) };
  }

  commandLength(dataLength: number, mode: CommMode): number {
    if (mode === 'plain' || dataLength === 0) return dataLength;
    return mode === 'mac' ? dataLength + MAC_LENGTH : Math.ceil((dataLength + CRC_LENGTH) / BLOCK) * BLOCK;
  }

  destroy(): void {
    this.#cipher.destroy();
  }

  #mac(data: Uint8Array): Uint8Array {
    const out = this.#cipher.encryptCbc(padZeros(data, BLOCK), this.#zeroIv);
    return out.slice(out.length - BLOCK, out.length - BLOCK + MAC_LENGTH);
  }

  #checkMac(message: Uint8Array): Uint8Array {
    if (message.length < MAC_LENGTH) throw lengthError(`MACed message of ${message.length} bytes has no room for its MAC`);
    const data = message.slice(0, message.length - MAC_LENGTH);
    // d40 MACs only data; a MAC over nothing is never sent, so a bare 4-byte part is malformed.
    if (data.length === 0) throw lengthError('MACed message carries a MAC but no data');
    if (!constantTimeEqual(this.#mac(data), message.subarray(data.length))) throw integrityError('MAC does not match');
    return data;
  }

  #checkBlocks(enciphered: Uint8Array): void {
    if (enciphered.length === 0 || enciphered.length % BLOCK !== 0) {
      throw lengthError(`enciphered part of ${enciphered.length} bytes is not whole ${BLOCK}-byte blocks`);
    }
  }

}
