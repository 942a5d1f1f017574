import { EMPTY } from '../desfire/bytes.js';
import type { CommMode } from '../desfire/comm-mode.js';
import { requireCommandSpec, type CommandSpec, type Protection } from '../desfire/commands.js';
import { DesfireError } from '../desfire/errors.js';
import {
  ADDITIONAL_FRAME,
  beginAnswer,
  beginCommand,
  continueCommand,
  nextAnswer,
  type CardAnswer,
  type CommandFrame,
} from '../desfire/framing/index.js';
import { ProximityCommand } from '../desfire/proximity/prepare.js';
import type { Generation } from '../desfire/sm/secure-channel.js';
import { Status } from '../desfire/status.js';
import type { Answer, CardContext, CommandHandler, Request } from './handler.js';
import { finishAuthentication } from './handlers/authenticate.js';
import { HANDLERS } from './handlers/index.js';

/**
 * One DESFire command frame in, one answer frame out. The steps, in order:
 *   0xAF frames    → the next answer frame, the next part of a chained command, or the
 *                    reader's token of a pending authentication;
 *   a new command  → its table row and handler → collect chained frames → remove secure
 *                    messaging (modes from the table, or from the file for 'file' rows) →
 *                    handler → protect the answer → cut it into frames.
 * Handlers refuse with DesfireError; the card turns that into the status byte (virtual-card.ts).
 */
export function dispatch(ctx: CardContext, frame: CommandFrame): CardAnswer {
  const session = ctx.session;
  if (frame.cmd === ADDITIONAL_FRAME) {
    if (session.pendingAnswer) {
      const step = nextAnswer(session.pendingAnswer, frame);
      session.pendingAnswer = step.pending;
      return step.answer;
    }
    if (session.pendingChain) {
      const step = continueCommand(session.pendingChain.pending, frame);
      if (!step.complete) {
        session.pendingChain = { cmd: session.pendingChain.cmd, pending: step.pending };
        return { status: ADDITIONAL_FRAME, data: EMPTY };
      }
      session.pendingChain = undefined;
      return runCommand(ctx, step.cmd, step.data);
    }
    if (session.handshake) return toFrames(ctx, finishAuthentication(ctx, frame.data), EMPTY);
    return nextAnswer(undefined, frame).answer; // throws ILLEGAL_COMMAND_CODE
  }
  if (session.pendingAnswer || session.pendingChain || session.handshake) {
    throw new DesfireError(Status.COMMAND_ABORTED, 'a new command arrived while the previous one still had frames to exchange', { command: frame.cmd });
  }
  const { spec, handler } = lookUp(frame.cmd);
  // Any command between the steps of a proximity check ends that check.
  if (!PROXIMITY_COMMANDS.has(frame.cmd)) session.proximity?.abort();
  if (!spec.chainedCommand || !handler.chainedLength) return runCommand(ctx, frame.cmd, frame.data);
  const step = beginCommand(frame, handler.chainedLength(ctx, frame.data));
  if (step.complete) return runCommand(ctx, step.cmd, step.data);
  session.pendingChain = { cmd: frame.cmd, pending: step.pending };
  return { status: ADDITIONAL_FRAME, data: EMPTY };
}

const PROXIMITY_COMMANDS: ReadonlySet<number> = new Set(Object.values(ProximityCommand));

function lookUp(cmd: number): { spec: CommandSpec; handler: CommandHandler } {
  const spec = requireCommandSpec(cmd);
  const handler = HANDLERS.get(cmd);
  if (!handler) throw new DesfireError(Status.ILLEGAL_COMMAND_CODE, `${spec.name} is not supported by this card`, { command: cmd });
  return { spec, handler };
}

/**
 * How a command and its answer are protected in the current session, or undefined when secure
 * messaging is not involved (no session, handshakes, SelectApplication, the proximity check).
 * `raw`: the handler removes the protection itself (ChangeKey's cryptogram).
 */
function sessionModes(
  ctx: CardContext,
  spec: CommandSpec,
  handler: CommandHandler,
  header: Uint8Array,
): { command: CommMode | 'raw'; answer: CommMode } | undefined {
  const channel = ctx.session.auth?.channel;
  if (!channel) return undefined;
  const generation = channel.generation;
  const command = spec.command[generation];
  if (command === 'auth' || command === 'none') return undefined;
  if (command === 'changekey') return { command: 'raw', answer: answerMode(spec.response[generation], generation) };
  if (command === 'file' || spec.response[generation] === 'file') {
    if (!handler.modes) throw new Error(`${spec.name} follows the file's comm mode but its handler has no modes()`);
    return handler.modes(ctx, header);
  }
  return { command, answer: answerMode(spec.response[generation], generation) };
}

function answerMode(protection: Protection, generation: Generation): CommMode {
  if (protection === 'plain' || protection === 'mac' || protection === 'full') return protection;
  // ChangeKey of another key than the session's is answered like a management command:
  // EV2 MACs it, EV1 CMACs it (its 'plain'), d40 leaves it bare.
  return generation === 'ev2' ? 'mac' : 'plain';
}

function runCommand(ctx: CardContext, cmd: number, body: Uint8Array): CardAnswer {
  const { spec, handler } = lookUp(cmd);
  if (body.length < spec.headerLength) {
    throw new DesfireError(Status.LENGTH_ERROR, `${spec.name} needs at least ${spec.headerLength} bytes, got ${body.length}`, { command: cmd });
  }
  const header = body.slice(0, spec.headerLength);
  const modes = sessionModes(ctx, spec, handler, header);
  const channel = ctx.session.auth?.channel;
  let data: Uint8Array = body.slice(spec.headerLength);
  if (channel && modes && modes.command !== 'raw') {
    data = channel.unwrapCommand(cmd, body, spec.headerLength, modes.command, handler.dataLength?.(ctx, header, modes.command)).data;
  }
  const request: Request = { cmd, spec, header, data };
  const answer = handler.run(ctx, request);
  // The session after the handler: it may have ended it (SelectApplication, ChangeKey of its own key).
  const after = ctx.session.auth?.channel;
  const status = answer.status ?? Status.OPERATION_OK;
  const protectedData =
    after && after === channel && modes && answer.unprotected !== true ? after.wrapResponse(status, answer.data, modes.answer) : answer.data;
  return toFrames(ctx, answer, protectedData);
}

/** Cuts the (protected) answer into frames, keeping all but the first for the reader's 0xAF requests. */
function toFrames(ctx: CardContext, answer: Answer, protectedData: Uint8Array): CardAnswer {
  const status = answer.status ?? Status.OPERATION_OK;
  const data = answer.unprotected ? answer.data : protectedData;
  if (answer.leadingFrames) {
    const frames: CardAnswer[] = [];
    let offset = 0;
    for (const size of answer.leadingFrames) {
      frames.push({ status: ADDITIONAL_FRAME, data: data.slice(offset, offset + size) });
      offset += size;
    }
    frames.push({ status, data: data.slice(offset) });
    const [first, ...rest] = frames;
    ctx.session.pendingAnswer = { frames: rest };
    return first;
  }
  if (answer.bareInNativeFrame) return { status, data, bareInNativeFrame: true };
  const step = beginAnswer({ status, data });
  ctx.session.pendingAnswer = step.pending;
  return step.answer;
}
