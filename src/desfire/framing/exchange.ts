import { EMPTY } from '../bytes.js';
import { DesfireError } from '../errors.js';
import { Status } from '../status.js';
import { joinAnswers } from './answer-chaining.js';
import { parseAnswerFrame, type CardAnswer } from './answer-frame.js';
import { splitCommand, type SplitOptions } from './command-chaining.js';
import { encodeCommandFrame } from './command-frame.js';
import { ADDITIONAL_FRAME, type FrameStyle } from './frame-style.js';
import { MAX_CHAINED_ANSWER_LENGTH } from './limits.js';

/** Sends one frame to the card and resolves with the card's answer frame (a Transport's transceive). */
export type FrameLink = (frame: Uint8Array) => Promise<Uint8Array>;

export interface ExchangeOptions extends SplitOptions {
  readonly style: FrameStyle;
  /**
   * Ask for further frames while the card answers 0xAF (default true). False for handshakes,
   * whose 0xAF answer carries a challenge to reply to, not the first part of a long answer.
   */
  readonly followAnswerChain?: boolean;
  /** Longest joined answer accepted; default MAX_CHAINED_ANSWER_LENGTH. */
  readonly maxAnswerLength?: number;
}

/**
 * Reader side: one whole command exchange, all frames both ways, secure messaging left to the
 * caller (it wraps `data` before and unwraps the answer after). Steps:
 *   splitCommand -> encodeCommandFrame -> link -> parseAnswerFrame   (each command frame)
 *   then, while the card answers 0xAF: the 0xAF request -> link -> parseAnswerFrame -> joinAnswers.
 * A card that refuses a frame midway (any status other than 0xAF) ends the exchange with that answer.
 * A card that completes (0x00) before all command frames were sent, sends data while taking
 * command frames, or answers 0xAF without data once all were sent (it wants more command data),
 * breaks the protocol: LENGTH_ERROR.
 */
export async function exchange(link: FrameLink, cmd: number, data: Uint8Array, options: ExchangeOptions): Promise<CardAnswer> {
  const { style } = options;
  const frames = splitCommand(style, cmd, data, options);
  const send = async (frame: Uint8Array): Promise<CardAnswer> => parseAnswerFrame(style, await link(frame), cmd);

  let answer = await send(encodeCommandFrame(frames[0]));
  for (let i = 1; i < frames.length; i++) {
    if (answer.status !== ADDITIONAL_FRAME) {
      if (answer.status === Status.OPERATION_OK) {
        throw new DesfireError(Status.LENGTH_ERROR, `card completed after frame ${i} of ${frames.length}`, { command: cmd });
      }
      return answer;
    }
    if (answer.data.length > 0) {
      throw new DesfireError(Status.LENGTH_ERROR, `card sent ${answer.data.length} bytes while taking command frames`, { command: cmd });
    }
    answer = await send(encodeCommandFrame(frames[i]));
  }
  if (options.followAnswerChain === false || answer.status !== ADDITIONAL_FRAME) return answer;

  const maxLength = options.maxAnswerLength ?? MAX_CHAINED_ANSWER_LENGTH;
  const request = encodeCommandFrame({ style, cmd: ADDITIONAL_FRAME, data: EMPTY });
  const parts: CardAnswer[] = [answer];
  let length = answer.data.length;
  while (answer.status === ADDITIONAL_FRAME) {
    if (answer.data.length === 0) {
      // Also what a card says when it wants more command data than was sent.
      throw new DesfireError(Status.LENGTH_ERROR, 'card answered 0xAF without data: not a part of a chained answer', { command: cmd });
    }
    if (length > maxLength) {
      throw new DesfireError(Status.LENGTH_ERROR, `chained answer exceeds ${maxLength} bytes`, { command: cmd });
    }
    answer = await send(request);
    parts.push(answer);
    length += answer.data.length;
  }
  try {
    return joinAnswers(parts, maxLength);
  } catch (e) {
    throw e instanceof DesfireError ? e.forCommand(cmd) : e;
  }
}
