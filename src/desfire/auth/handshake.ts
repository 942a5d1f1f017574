import { concat, constantTimeEqual, rotateLeft, wipe } from '../bytes.js';
import { authenticationError, lengthError } from '../errors.js';
import type { RandomSource } from '../random.js';
import type { SecureChannel } from '../sm/secure-channel.js';
import type { HandshakeLink } from './handshake-link.js';
import type { AuthScheme } from './scheme.js';

/**
 * Reader (PCD) end of a mutual authentication:
 *   first frame  → cmd || scheme.commandData(keyNo)
 *   card answers AF || E(RndB)                  → answerChallenge() → E(RndA || RndB')
 *   card answers 00 || E(RndA' [|| ...])        → finish()          → the secure channel
 * RndX' is RndX rotated left by one byte.
 */
export class ReaderAuthentication {
  readonly #scheme: AuthScheme;
  readonly #random: RandomSource;
  readonly #link: HandshakeLink;
  #rndA: Uint8Array | undefined;
  #rndB: Uint8Array | undefined;

  constructor(scheme: AuthScheme, random: RandomSource) {
    this.#scheme = scheme;
    this.#random = random;
    this.#link = scheme.newLink();
  }

  answerChallenge(encryptedRndB: Uint8Array): Uint8Array {
    if (this.#rndB) throw new Error('answerChallenge() called twice');
    expectLength(encryptedRndB, this.#scheme.randomLength, 'card challenge');
    this.#rndB = this.#link.decipherFromCard(encryptedRndB);
    this.#rndA = this.#random(this.#scheme.randomLength);
    return this.#link.encipherToCard(concat(this.#rndA, rotateLeft(this.#rndB)));
  }

  finish(answer: Uint8Array): SecureChannel {
    const rndA = this.#rndA;
    const rndB = this.#rndB;
    if (!rndA || !rndB) throw new Error('finish() called before answerChallenge()');
    this.#rndA = this.#rndB = undefined;
    try {
      expectLength(answer, this.#scheme.answerLength, 'card answer');
      const fields = this.#scheme.readAnswer(this.#link.decipherFromCard(answer));
      if (!constantTimeEqual(fields.rndARotated, rotateLeft(rndA))) throw authenticationError('card answered a wrong RndA\': wrong key');
      return this.#scheme.openChannel(rndA, rndB, fields);
    } finally {
      wipe(rndA, rndB);
    }
  }
}

/**
 * Card (PICC) end of the same exchange: challenge() gives E(RndB); verifyToken() checks
 * RndB' in the reader's token and returns the final answer and the secure channel.
 */
export class CardAuthentication {
  readonly #scheme: AuthScheme;
  readonly #random: RandomSource;
  readonly #link: HandshakeLink;
  #rndB: Uint8Array | undefined;

  constructor(scheme: AuthScheme, random: RandomSource) {
    this.#scheme = scheme;
    this.#random = random;
    this.#link = scheme.newLink();
  }

  challenge(): Uint8Array {
    if (this.#rndB) throw new Error('challenge() called twice');
    this.#rndB = this.#random(this.#scheme.randomLength);
    return this.#link.encipherFromCard(this.#rndB);
  }

  verifyToken(token: Uint8Array): { answer: Uint8Array; channel: SecureChannel } {
    const rndB = this.#rndB;
    if (!rndB) throw new Error('verifyToken() called before challenge()');
    this.#rndB = undefined;
    const n = this.#scheme.randomLength;
    let rndA: Uint8Array | undefined;
    try {
      expectLength(token, 2 * n, 'reader token');
      const plain = this.#link.decipherToCard(token);
      rndA = plain.slice(0, n);
      if (!constantTimeEqual(plain.subarray(n), rotateLeft(rndB))) throw authenticationError('reader sent a wrong RndB\': wrong key');
      const { plain: answerPlain, fields } = this.#scheme.answerPlain(rotateLeft(rndA), this.#random);
      return { answer: this.#link.encipherFromCard(answerPlain), channel: this.#scheme.openChannel(rndA, rndB, fields) };
    } finally {
      wipe(rndB);
      if (rndA) wipe(rndA);
    }
  }
}

function expectLength(message: Uint8Array, length: number, title: string): void {
  if (message.length !== length) throw lengthError(`${title} must be ${length} bytes, got ${message.length}`);
}
