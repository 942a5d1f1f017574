import { concat } from '../bytes.js';
import { DesfireError } from '../errors.js';
import { Status } from '../status.js';
import type { CardAnswer } from './answer-frame.js';
import type { CommandFrame } from './command-frame.js';
import { ADDITIONAL_FRAME } from './frame-style.js';
import { MAX_ANSWER_FRAME_DATA, MAX_CHAINED_ANSWER_LENGTH } from './limits.js';

/**
 * An answer longer than one frame comes back as `AF data0`, `AF data1`, ..., `STATUS dataN`; the
 * reader asks for each next frame with a bare 0xAF (`AF` native, `90 AF 00 00 00` wrapped).
 * GetVersion always answers in three frames this way (libfreefare `mifare_desfire_get_version`,
 * node-pcsclite issue #103 trace); ReadData of a long file likewise.
 */

/** Card side: cuts an answer into frames of at most `maxDataPerFrame` data bytes; all but the last carry status 0xAF. */
export function splitAnswer(answer: CardAnswer, maxDataPerFrame = MAX_ANSWER_FRAME_DATA): CardAnswer[] {
  if (!Number.isInteger(maxDataPerFrame) || maxDataPerFrame < 1) {
    throw new RangeError(`maxDataPerFrame must be a positive integer, got ${maxDataPerFrame}`);
  }
  const { status, data } = answer;
  if (data.length <= maxDataPerFrame) return [{ status, data: data.slice() }];
  if (status === ADDITIONAL_FRAME) throw new RangeError('an answer with status 0xAF cannot be split: the reader could not tell where it ends');
  const frames: CardAnswer[] = [];
  for (let offset = 0; offset < data.length; offset += maxDataPerFrame) {
    const end = Math.min(offset + maxDataPerFrame, data.length);
    frames.push({ status: end === data.length ? status : ADDITIONAL_FRAME, data: data.slice(offset, end) });
  }
  return frames;
}

/** Card side: the frames of an answer still to be served, one per 0xAF request. */
export interface PendingAnswer {
  readonly frames: readonly CardAnswer[];
}

/** The frame to send now, and what remains (undefined once the last frame goes out). */
export interface ServeStep {
  readonly answer: CardAnswer;
  readonly pending: PendingAnswer | undefined;
}

function serve(frames: readonly CardAnswer[]): ServeStep {
  const [answer, ...rest] = frames;
  return { answer, pending: rest.length > 0 ? { frames: rest } : undefined };
}

/** Card side: the first frame of `answer`, keeping the rest for the reader's 0xAF requests. */
export function beginAnswer(answer: CardAnswer, maxDataPerFrame = MAX_ANSWER_FRAME_DATA): ServeStep {
  return serve(splitAnswer(answer, maxDataPerFrame));
}

/**
 * Card side: answers a frame received while `pending` (possibly nothing) holds unsent answer frames.
 * - 0xAF with nothing pending: ILLEGAL_COMMAND_CODE (see command-chaining.ts, node-pcsclite #103).
 * - another command while frames are pending: COMMAND_ABORTED, "not all frames were requested";
 *   the caller drops `pending` and may run the new command.
 * - an 0xAF request that carries data: LENGTH_ERROR.
 */
export function nextAnswer(pending: PendingAnswer | undefined, request: CommandFrame): ServeStep {
  if (pending === undefined || pending.frames.length === 0) {
    if (request.cmd === ADDITIONAL_FRAME) throw new DesfireError(Status.ILLEGAL_COMMAND_CODE, '0xAF request with no answer pending');
    throw new RangeError('nextAnswer needs a pending answer or an 0xAF request');
  }
  if (request.cmd !== ADDITIONAL_FRAME) {
    throw new DesfireError(Status.COMMAND_ABORTED, `command 0x${request.cmd.toString(16).padStart(2, '0')} arrived before all answer frames were requested`);
  }
  if (request.data.length > 0) throw new DesfireError(Status.LENGTH_ERROR, `0xAF request for the next answer frame carries ${request.data.length} bytes`);
  return serve(pending.frames);
}

/**
 * Reader side: joins the frames of one chained answer. Every frame but the last must carry 0xAF
 * and some data, and the last must not carry 0xAF (a final error status, e.g. 0x9D, ends the chain like 0x00 does). The
 * joined data may not exceed `maxLength`. Breaches are LENGTH_ERROR (a protocol error).
 */
export function joinAnswers(frames: readonly CardAnswer[], maxLength = MAX_CHAINED_ANSWER_LENGTH): CardAnswer {
  if (frames.length === 0) throw new DesfireError(Status.LENGTH_ERROR, 'no answer frame to join');
  let length = 0;
  frames.forEach((frame, i) => {
    const last = i === frames.length - 1;
    if (!last && frame.status !== ADDITIONAL_FRAME) {
      throw new DesfireError(Status.LENGTH_ERROR, `answer frame ${i + 1} of ${frames.length} ends the chain with status 0x${frame.status.toString(16)}`);
    }
    if (last && frame.status === ADDITIONAL_FRAME) throw new DesfireError(Status.LENGTH_ERROR, 'chained answer ends with 0xAF: more frames were announced');
    if (!last && frame.data.length === 0) throw new DesfireError(Status.LENGTH_ERROR, `answer frame ${i + 1} announces more frames but carries no data`);
    length += frame.data.length;
  });
  if (length > maxLength) throw new DesfireError(Status.LENGTH_ERROR, `chained answer of ${length} bytes exceeds ${maxLength}`);
  return { status: frames[frames.length - 1].status, data: concat(...frames.map((f) => f.data)) };
}
