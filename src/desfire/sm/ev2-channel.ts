import { assertBytes, concat, EMPTY, constantTimeEqual, uintLE, wipe } from '../bytes.js';
import type { CommMode } from '../comm-mode.js';
import { createBlockCipher } from '../crypto/key-type.js';
import { Cmac, padIso9797M2 } from '../crypto/cmac.js';
import type { BlockCipher } from '../crypto/block-cipher.js';
import { DesfireError, integrityError, lengthError } from '../errors.js';
import { Status } from '../status.js';
import { unpadIso9797M2 } from './padding.js';
import type { SecureChannel, UnwrappedCommand } from './secure-channel.js';

const BLOCK = 16;
const MAC_LENGTH = 8;
const MAX_COUNTER = 0xffff;

/** Session state of an EV2 authentication: transaction identifier, counter and the two AES session keys. */
export interface Ev2Session {
  readonly ti: Uint8Array;
  readonly cmdCtr: number;
  readonly sesAuthEncKey: Uint8Array;
  readonly sesAuthMacKey: Uint8Array;
}

/**
 * EV2 secure messaging (after AuthenticateEV2First 0x71 / NonFirst 0x77), AES only
 * (NXP AN12196 §3, AN12343). No IV runs between messages; instead:
 * - IV for a command: E(SesAuthENCKey, A5 5A || TI || CmdCtr || 0^8), for an answer
 *   E(SesAuthENCKey, 5A A5 || TI || CmdCtr || 0^8), CmdCtr 2 bytes little-endian;
 * - MAC of a command: CMAC(SesAuthMACKey, cmd || CmdCtr || TI || header || data'),
 *   of an answer: CMAC(SesAuthMACKey, status || CmdCtr || TI || data'), truncated to its
 *   odd-numbered bytes (S1, S3, .. S15), where data' is the enciphered data in full mode;
 * - full mode pads with 0x80 00.. always (a whole block when aligned); empty data is not enciphered;
 * - CmdCtr counts command/answer pairs: a command uses n, its answer and every later command n + 1.
 *   It moves for plain messages too, which carry no MAC.
 */
export class Ev2Channel implements SecureChannel {
  readonly generation = 'ev2' as const;
  readonly #ti: Uint8Array;
  readonly #enc: BlockCipher;
  readonly #mac: Cmac;
  #cmdCtr: number;

  constructor(session: Ev2Session) {
    assertBytes(session.ti, 'ti', 4);
    assertBytes(session.sesAuthEncKey, 'sesAuthEncKey', 16);
    assertBytes(session.sesAuthMacKey, 'sesAuthMacKey', 16);
    this.#ti = session.ti.slice();
    this.#enc = createBlockCipher('aes', session.sesAuthEncKey);
    this.#mac = new Cmac(createBlockCipher('aes', session.sesAuthMacKey));
    this.#cmdCtr = session.cmdCtr;
  }

  get proximityMac(): Cmac {
    return this.#mac;
  }

  get ti(): Uint8Array {
    return this.#ti.slice();
  }

  get cmdCtr(): number {
    return this.#cmdCtr;
  }

  wrapCommand(cmd: number, header: Uint8Array, data: Uint8Array, mode: CommMode): Uint8Array {
    const ctr = this.#takeCounter();
    if (mode === 'plain') return concat(header, data);
    const payload = mode === 'full' ? this.#encipher(data, 0xa5, 0x5a, ctr) : data;
    const mac = this.#macOf(cmd, ctr, header, payload);
    return concat(header, payload, mac);
  }

  unwrapResponse(status: number, body: Uint8Array, mode: CommMode): Uint8Array {
    if (mode === 'plain') return body.slice();
    const payload = this.#checkMac(status, this.#cmdCtr, EMPTY, body);
    return mode === 'full' ? this.#decipher(payload, 0x5a, 0xa5, this.#cmdCtr) : payload;
  }

  unwrapCommand(cmd: number, body: Uint8Array, headerLength: number, mode: CommMode): UnwrappedCommand {
    if (body.length < headerLength) throw lengthError(`command of ${body.length} bytes is shorter than its ${headerLength}-byte header`);
    const ctr = this.#takeCounter();
    const header = body.slice(0, headerLength);
    const rest = body.subarray(headerLength);
    if (mode === 'plain') return { header, data: rest.slice() };
    const payload = this.#checkMac(cmd, ctr, header, rest);
    return { header, data: mode === 'full' ? this.#decipher(payload, 0xa5, 0x5a, ctr) : payload };
  }

  wrapResponse(status: number, data: Uint8Array, mode: CommMode): Uint8Array {
    if (mode === 'plain') return data.slice();
    const payload = mode === 'full' ? this.#encipher(data, 0x5a, 0xa5, this.#cmdCtr) : data;
    return concat(payload, this.#macOf(status, this.#cmdCtr, EMPTY, payload));
  }

  wrapCryptogram(cmd: number, header: Uint8Array, cryptogram: Uint8Array): Uint8Array {
    return this.wrapCommand(cmd, header, cryptogram, 'full');
  }

  unwrapCryptogram(cmd: number, body: Uint8Array, headerLength: number): UnwrappedCommand {
    return this.unwrapCommand(cmd, body, headerLength, 'full');
  }

  commandLength(dataLength: number, mode: CommMode): number {
    if (mode === 'plain') return dataLength;
    const payload = mode === 'full' && dataLength > 0 ? (Math.floor(dataLength / BLOCK) + 1) * BLOCK : dataLength;
    return payload + MAC_LENGTH;
  }

  destroy(): void {
    wipe(this.#ti);
    this.#enc.destroy();
    this.#mac.destroy();
  }

  /** The counter for this command; the answer and the next command use the next value. */
  #takeCounter(): number {
    if (this.#cmdCtr >= MAX_COUNTER) {
      throw new DesfireError(Status.COMMAND_ABORTED, 'command counter exhausted: authenticate again');
    }
    return this.#cmdCtr++;
  }

  #iv(label0: number, label1: number, ctr: number): Uint8Array {
    const input = new Uint8Array(BLOCK);
    input[0] = label0;
    input[1] = label1;
    input.set(this.#ti, 2);
    input[6] = ctr & 0xff;
    input[7] = ctr >> 8;
    return this.#enc.encryptEcb(input);
  }

  #encipher(data: Uint8Array, label0: number, label1: number, ctr: number): Uint8Array {
    if (data.length === 0) return data;
    return this.#enc.encryptCbc(padIso9797M2(data, BLOCK), this.#iv(label0, label1, ctr));
  }

  #decipher(enciphered: Uint8Array, label0: number, label1: number, ctr: number): Uint8Array {
    if (enciphered.length === 0) return enciphered;
    if (enciphered.length % BLOCK !== 0) throw lengthError(`enciphered part of ${enciphered.length} bytes is not whole blocks`);
    return unpadIso9797M2(this.#enc.decryptCbc(enciphered, this.#iv(label0, label1, ctr)), BLOCK);
  }

  #macOf(code: number, ctr: number, header: Uint8Array, payload: Uint8Array): Uint8Array {
    const full = this.#mac.mac(concat(Uint8Array.of(code), uintLE(ctr, 2), this.#ti, header, payload));
    return truncateMac(full);
  }

  /** `message = payload || MACt`; returns payload after checking MACt. */
  #checkMac(code: number, ctr: number, header: Uint8Array, message: Uint8Array): Uint8Array {
    if (message.length < MAC_LENGTH) throw lengthError(`message of ${message.length} bytes has no room for its ${MAC_LENGTH}-byte MAC`);
    const payload = message.slice(0, message.length - MAC_LENGTH);
    if (!constantTimeEqual(this.#macOf(code, ctr, header, payload), message.subarray(payload.length))) {
      throw integrityError('MAC does not match');
    }
    return payload;
  }
}

/** EV2 MACt: the odd-numbered bytes S1, S3, .. S15 of the 16-byte CMAC (AN12196 §3.4). */
export function truncateMac(mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(mac.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = mac[2 * i + 1];
  return out;
}
