import type { RandomSource } from '../random.js';
import type { SecureChannel } from '../sm/secure-channel.js';
import type { HandshakeLink } from './handshake-link.js';

/** What the card's final answer carries besides RndA' (EV2 First adds TI and capabilities). */
export interface AnswerFields {
  readonly rndARotated: Uint8Array;
  readonly ti?: Uint8Array;
  readonly pdCap2?: Uint8Array;
  readonly pcdCap2?: Uint8Array;
}

/**
 * One authentication command (0x0A, 0x1A, 0xAA, 0x71, 0x77) bound to a key: everything in
 * which the handshakes differ. The shared exchange itself (RndA/RndB, rotation, checks) is
 * in handshake.ts.
 */
export interface AuthScheme {
  readonly command: number;
  readonly randomLength: 8 | 16;
  readonly answerLength: number;
  /** Data of the first command frame, after the command byte. */
  commandData(keyNo: number): Uint8Array;
  /** A fresh link for one handshake (it may carry a running IV). */
  newLink(): HandshakeLink;
  /** Card side: the plaintext of the final answer. */
  answerPlain(rndARotated: Uint8Array, random: RandomSource): { plain: Uint8Array; fields: AnswerFields };
  /** Reader side: the fields of the final answer's plaintext. */
  readAnswer(plain: Uint8Array): AnswerFields;
  /** The secure channel both ends derive once the handshake succeeded. */
  openChannel(rndA: Uint8Array, rndB: Uint8Array, fields: AnswerFields): SecureChannel;
}
