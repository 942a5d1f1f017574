import { assertBytes, concat } from '../bytes.js';
import type { Cmac } from './cmac.js';

/**
 * Key diversification of NXP AN10922 ("Symmetric key diversifications"), CMAC based.
 *
 * The diversification input M (1..31 bytes for AES, 1..15 for 3DES) is prefixed with a
 * constant and padded to exactly two cipher blocks; the CMAC subkey is K1 only when no
 * padding was needed, K2 otherwise (AN10922 §2.2, §2.3, §2.4). That differs from standard CMAC
 * for inputs that end on a block boundary, so the padded input is prepared here and MACed
 * with `Cmac.macPrepared`.
 */

/** The CMAC input D = constant || M || padding, and the subkey it must be MACed with. */
export interface DiversificationBlock {
  readonly input: Uint8Array;
  readonly subkey: 'k1' | 'k2';
}

export function diversificationBlock(constant: number, m: Uint8Array, blockSize: 8 | 16): DiversificationBlock {
  const length = 2 * blockSize;
  if (m.length < 1 || m.length > length - 1) {
    throw new RangeError(`diversification input must be 1..${length - 1} bytes, got ${m.length}`);
  }
  const input = new Uint8Array(length);
  input[0] = constant;
  input.set(m, 1);
  const padded = m.length + 1 < length;
  if (padded) input[m.length + 1] = 0x80;
  return { input, subkey: padded ? 'k2' : 'k1' };
}

/** AN10922 §2.2: AES-128 diversified key = CMAC(K, 0x01 || M || padding). */
export function diversifyAes128(master: Cmac, m: Uint8Array): Uint8Array {
  requireBlockSize(master, 16);
  const block = diversificationBlock(0x01, m, 16);
  return master.macPrepared(block.input, block.subkey);
}

/** AN10922 §2.3: 2K3DES diversified key = CMAC(K, 0x21 || M ...) || CMAC(K, 0x22 || M ...). */
export function diversify2k3des(master: Cmac, m: Uint8Array): Uint8Array {
  return diversifyDes(master, m, [0x21, 0x22]);
}

/** AN10922 §2.4: 3K3DES diversified key from the constants 0x31, 0x32, 0x33. */
export function diversify3k3des(master: Cmac, m: Uint8Array): Uint8Array {
  return diversifyDes(master, m, [0x31, 0x32, 0x33]);
}

function diversifyDes(master: Cmac, m: Uint8Array, constants: number[]): Uint8Array {
  requireBlockSize(master, 8);
  return concat(
    ...constants.map((c) => {
      const block = diversificationBlock(c, m, 8);
      return master.macPrepared(block.input, block.subkey);
    }),
  );
}

function requireBlockSize(master: Cmac, blockSize: 8 | 16): void {
  if (master.cipher.blockSize !== blockSize) {
    throw new RangeError(`master key has ${master.cipher.blockSize}-byte blocks, this diversification needs ${blockSize}`);
  }
}

/**
 * The diversification input our profiles use (AN10922 §2.2 example layout):
 * UID (7 bytes) || AID (3 bytes, least significant byte first, as sent to the card) || system identifier.
 */
export function cardDiversificationInput(uid: Uint8Array, aid: number, systemIdentifier: Uint8Array): Uint8Array {
  assertBytes(uid, 'uid');
  assertBytes(systemIdentifier, 'systemIdentifier');
  if (!Number.isInteger(aid) || aid < 0 || aid > 0xffffff) throw new RangeError(`AID ${aid} is not 3 bytes`);
  return concat(uid, Uint8Array.of(aid & 0xff, (aid >> 8) & 0xff, aid >> 16), systemIdentifier);
}
