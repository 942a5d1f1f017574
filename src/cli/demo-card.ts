import { CardAuthentication } from '../desfire/auth/handshake.js';
import { ev2Scheme } from '../desfire/auth/schemes.js';
import { EMPTY, readUintLE } from '../desfire/bytes.js';
import { CommandCode } from '../desfire/commands.js';
import { DesfireError, isDesfireError } from '../desfire/errors.js';
import { encodeAnswerFrame, parseIncomingFrame, WRAPPED_CLA, type CardAnswer } from '../desfire/framing/index.js';
import { systemRandom } from '../desfire/random.js';
import type { SecureChannel } from '../desfire/sm/secure-channel.js';
import { Status } from '../desfire/status.js';

const READ_KEY_NO = 1;
const CREDENTIAL_FILE = 1;

/**
 * The card end of the demo: only what one door read needs (AuthenticateEV2First with the read
 * key, then ReadData of the credential file in full mode), built from the shared protocol core.
 * Everything else answers ILLEGAL_COMMAND_CODE. The complete card is the emulator (src/emulator).
 */
export class DemoCard {
  readonly uid: Uint8Array;
  readonly #readKey: Uint8Array;
  readonly #credential: Uint8Array;
  #handshake: CardAuthentication | undefined;
  #session: SecureChannel | undefined;

  constructor(uid: Uint8Array, readKey: Uint8Array, credential: Uint8Array) {
    this.uid = uid;
    this.#readKey = readKey;
    this.#credential = credential;
  }

  transceive(frame: Uint8Array): Uint8Array {
    const style = frame[0] === WRAPPED_CLA ? 'wrapped' : 'native';
    let answer: CardAnswer;
    try {
      const incoming = parseIncomingFrame(frame);
      if (incoming.kind !== 'desfire') return Uint8Array.of(0x6e, 0x00); // ISO class not supported here
      answer = this.#handle(incoming.cmd, incoming.data);
    } catch (e) {
      if (!isDesfireError(e)) throw e;
      this.#handshake = this.#session = undefined; // a refusal ends any session, as on a card
      answer = { status: e.status, data: EMPTY };
    }
    return encodeAnswerFrame(style, answer);
  }

  #handle(cmd: number, data: Uint8Array): CardAnswer {
    if (cmd === CommandCode.AuthenticateEV2First) {
      if (data[0] !== READ_KEY_NO) throw new DesfireError(Status.NO_SUCH_KEY);
      this.#handshake = new CardAuthentication(ev2Scheme('aes', this.#readKey), systemRandom);
      return { status: Status.ADDITIONAL_FRAME, data: this.#handshake.challenge() };
    }
    if (cmd === 0xaf && this.#handshake) {
      const { answer, channel } = this.#handshake.verifyToken(data);
      this.#handshake = undefined;
      this.#session = channel;
      return { status: Status.OPERATION_OK, data: answer };
    }
    if (cmd === CommandCode.ReadData) {
      if (!this.#session) throw new DesfireError(Status.AUTHENTICATION_ERROR);
      const { header } = this.#session.unwrapCommand(cmd, data, 7, 'full');
      const [file, offset, length] = [header[0], readUintLE(header, 1, 3), readUintLE(header, 4, 3)];
      if (file !== CREDENTIAL_FILE) throw new DesfireError(Status.FILE_NOT_FOUND);
      const end = length === 0 ? this.#credential.length : offset + length;
      if (end > this.#credential.length) throw new DesfireError(Status.BOUNDARY_ERROR);
      const content = this.#credential.subarray(offset, end);
      return { status: Status.OPERATION_OK, data: this.#session.wrapResponse(Status.OPERATION_OK, content, 'full') };
    }
    throw new DesfireError(Status.ILLEGAL_COMMAND_CODE);
  }
}
