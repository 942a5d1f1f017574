import { concat, constantTimeEqual, EMPTY, wipe } from '../bytes.js';
import type { CommMode } from '../comm-mode.js';
import { Cmac } from '../crypto/cmac.js';
import { crc32Desfire } from '../crypto/crc.js';
import type { BlockCipher } from '../crypto/block-cipher.js';
import { integrityError, lengthError } from '../errors.js';
import { padZeros, stripCrcAndZeros } from './padding.js';
import type { SecureChannel, UnwrappedCommand } from './secure-channel.js';

const MAC_LENGTH = 8;
const CRC_LENGTH = 4;

/**
 * EV1 secure messaging (after AuthenticateISO 0x1A or AuthenticateAES 0xAA), AES or 3DES session key.
 * One IV runs through the whole session, on both ends in step: every command and every answer,
 * whatever its mode, moves it forward (to the CMAC of a plain or MACed message, to the last
 * cipher block of an enciphered one).
 * - Commands: CMAC over cmd || header || data; MAC mode appends its first 8 bytes.
 *   Full mode enciphers data || CRC32(cmd || header || data), zero-padded, in CBC.
 * - Answers: CMAC over data || status; in plain and MAC mode the card appends its first 8 bytes
 *   (yes, also to plain answers). Full mode enciphers data || CRC32(data || status), zero-padded.
 */
export class Ev1Channel implements SecureChannel {
  readonly generation = 'ev1' as const;
  readonly #cipher: BlockCipher;
  readonly #cmac: Cmac;
  readonly #blockSize: number;
  #iv: Uint8Array;

  /** `cipher` holds the session key; the channel owns it from now on. */
  constructor(cipher: BlockCipher) {
    this.#cipher = cipher;
    this.#cmac = new Cmac(cipher);
    this.#blockSize = cipher.blockSize;
    this.#iv = new Uint8Array(cipher.blockSize);
  }

  get proximityMac(): Cmac | undefined {
    return this.#blockSize === 16 ? this.#cmac : undefined;
  }

  /** The current IV, for tests that follow published walk-throughs. */
  get iv(): Uint8Array {
    return this.#iv.slice();
  }

  wrapCommand(cmd: number, header: Uint8Array, data: Uint8Array, mode: CommMode): Uint8Array {
    const message = concat(Uint8Array.of(cmd), header, data);
    if (mode === 'full') return concat(header, this.#encipher(data, crc32Desfire(message)));
    const mac = this.#advanceMac(message);
    return mode === 'mac' ? concat(header, data, mac.subarray(0, MAC_LENGTH)) : concat(header, data);
  }

  unwrapResponse(status: number, body: Uint8Array, mode: CommMode, expectedLength?: number): Uint8Array {
    if (mode === 'full') {
      return this.#decipher(body, (data) => crc32Desfire(concat(data, Uint8Array.of(status))), expectedLength);
    }
    return this.#checkTrailingMac(body, (data) => concat(data, Uint8Array.of(status)));
  }

  unwrapCommand(cmd: number, body: Uint8Array, headerLength: number, mode: CommMode, expectedLength?: number): UnwrappedCommand {
    if (body.length < headerLength) throw lengthError(`command of ${body.length} bytes is shorter than its ${headerLength}-byte header`);
    const header = body.slice(0, headerLength);
    const rest = body.subarray(headerLength);
    const prefix = concat(Uint8Array.of(cmd), header);
    if (mode === 'full') {
      return { header, data: this.#decipher(rest, (data) => crc32Desfire(concat(prefix, data)), expectedLength) };
    }
    if (mode === 'mac') return { header, data: this.#checkTrailingMac(rest, (data) => concat(prefix, data)) };
    this.#advanceMac(concat(prefix, rest));
    return { header, data: rest.slice() };
  }

  wrapResponse(status: number, data: Uint8Array, mode: CommMode): Uint8Array {
    const statusByte = Uint8Array.of(status);
    if (mode === 'full') return this.#encipher(data, crc32Desfire(concat(data, statusByte)));
    return concat(data, this.#advanceMac(concat(data, statusByte)).subarray(0, MAC_LENGTH));
  }

  wrapCryptogram(_cmd: number, header: Uint8Array, cryptogram: Uint8Array): Uint8Array {
    return concat(header, this.#encipher(cryptogram, EMPTY));
  }

  unwrapCryptogram(_cmd: number, body: Uint8Array, headerLength: number): UnwrappedCommand {
    if (body.length < headerLength) throw lengthError(`command of ${body.length} bytes is shorter than its ${headerLength}-byte header`);
    return { header: body.slice(0, headerLength), data: this.#decipherBlocks(body.subarray(headerLength)) };
  }

  commandLength(dataLength: number, mode: CommMode): number {
    if (mode === 'plain') return dataLength;
    return mode === 'mac' ? dataLength + MAC_LENGTH : Math.ceil((dataLength + CRC_LENGTH) / this.#blockSize) * this.#blockSize;
  }

  destroy(): void {
    wipe(this.#iv);
    this.#cipher.destroy();
  }

  #advanceMac(message: Uint8Array): Uint8Array {
    this.#iv = this.#cmac.mac(message, this.#iv);
    return this.#iv;
  }

  /** `message = data || mac8`; the MAC input is `macInput(data)`. */
  #checkTrailingMac(message: Uint8Array, macInput: (data: Uint8Array) => Uint8Array): Uint8Array {
    if (message.length < MAC_LENGTH) throw lengthError(`message of ${message.length} bytes has no room for its ${MAC_LENGTH}-byte MAC`);
    const data = message.slice(0, message.length - MAC_LENGTH);
    const expected = this.#advanceMac(macInput(data));
    if (!constantTimeEqual(expected.subarray(0, MAC_LENGTH), message.subarray(data.length))) throw integrityError('CMAC does not match');
    return data;
  }

  #encipher(data: Uint8Array, crc: Uint8Array): Uint8Array {
    const out = this.#cipher.encryptCbc(padZeros(concat(data, crc), this.#blockSize), this.#iv);
    this.#iv = out.slice(out.length - this.#blockSize);
    return out;
  }

  #decipher(enciphered: Uint8Array, crcOf: (data: Uint8Array) => Uint8Array, expectedLength?: number): Uint8Array {
    return stripCrcAndZeros(this.#decipherBlocks(enciphered), this.#blockSize, CRC_LENGTH, crcOf, expectedLength);
  }

  #decipherBlocks(enciphered: Uint8Array): Uint8Array {
    if (enciphered.length === 0 || enciphered.length % this.#blockSize !== 0) {
      throw lengthError(`enciphered part of ${enciphered.length} bytes is not whole ${this.#blockSize}-byte blocks`);
    }
    const plain = this.#cipher.decryptCbc(enciphered, this.#iv);
    this.#iv = enciphered.slice(enciphered.length - this.#blockSize);
    return plain;
  }
}
