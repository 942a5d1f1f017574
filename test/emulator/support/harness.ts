import { ReaderAuthentication } from '../../../src/desfire/auth/handshake.js';
import type { AuthScheme } from '../../../src/desfire/auth/scheme.js';
import { EMPTY } from '../../../src/desfire/bytes.js';
import type { CommMode } from '../../../src/desfire/comm-mode.js';
import { DesfireError } from '../../../src/desfire/errors.js';
import { exchange, type CardAnswer, type FrameStyle } from '../../../src/desfire/framing/index.js';
import { systemRandom, type RandomSource } from '../../../src/desfire/random.js';
import type { SecureChannel } from '../../../src/desfire/sm/secure-channel.js';
import { Status } from '../../../src/desfire/status.js';
import { factoryState, type NewCardOptions } from '../../../src/emulator/factory.js';
import { VirtualCard } from '../../../src/emulator/virtual-card.js';

/**
 * A minimal reader for card tests: frames through the shared framing `exchange`, secure
 * messaging through the shared channels. (The product's reader is src/encoder.)
 */
export class TestReader {
  readonly card: VirtualCard;
  style: FrameStyle = 'native';
  channel: SecureChannel | undefined;

  constructor(options: NewCardOptions & { random?: RandomSource } = {}) {
    this.card = new VirtualCard(factoryState(options), { random: options.random });
    this.card.powerOn();
  }

  /** One command, all frames, no secure messaging. */
  async send(cmd: number, data: Uint8Array = EMPTY, followAnswerChain = true): Promise<CardAnswer> {
    const answer = await exchange(async (frame) => this.card.transceive(frame), cmd, data, { style: this.style, followAnswerChain });
    if (answer.status !== Status.OPERATION_OK && answer.status !== Status.ADDITIONAL_FRAME) this.channel = undefined;
    return answer;
  }

  /** Runs a whole authentication; returns the status (0x00 on success) and keeps the channel. */
  async authenticate(scheme: AuthScheme, keyNo: number): Promise<number> {
    this.channel = undefined;
    const reader = new ReaderAuthentication(scheme, systemRandom);
    const challenge = await this.send(scheme.command, scheme.commandData(keyNo), false);
    if (challenge.status !== Status.ADDITIONAL_FRAME) return challenge.status;
    const answer = await this.send(0xaf, reader.answerChallenge(challenge.data));
    if (answer.status !== Status.OPERATION_OK) return answer.status;
    this.channel = reader.finish(answer.data);
    return Status.OPERATION_OK;
  }

  /** One command inside the session (or plain without one): wrap, exchange, unwrap a successful answer. */
  async secure(
    cmd: number,
    header: Uint8Array,
    data: Uint8Array,
    modes: { command: CommMode; answer: CommMode; answerLength?: number },
  ): Promise<CardAnswer> {
    const channel = this.channel;
    const body = channel ? channel.wrapCommand(cmd, header, data, modes.command) : Uint8Array.from([...header, ...data]);
    const answer = await this.send(cmd, body);
    if (!channel || answer.status !== Status.OPERATION_OK) return answer;
    return { status: answer.status, data: channel.unwrapResponse(answer.status, answer.data, modes.answer, modes.answerLength) };
  }

  /** `secure` that must succeed; returns the answer data. */
  async ok(cmd: number, header: Uint8Array, data: Uint8Array, modes: { command: CommMode; answer: CommMode; answerLength?: number }): Promise<Uint8Array> {
    const answer = await this.secure(cmd, header, data, modes);
    if (answer.status !== Status.OPERATION_OK) throw new DesfireError(answer.status, undefined, { command: cmd, origin: 'card' });
    return answer.data;
  }
}

export const PLAIN = { command: 'plain', answer: 'plain' } as const;
/** Management commands in a session: d40 plain, EV1 CMACed answer, EV2 MACed both ways (commands.ts MACED). */
export function maced(channel: SecureChannel | undefined): { command: CommMode; answer: CommMode } {
  if (!channel || channel.generation === 'd40') return PLAIN;
  return channel.generation === 'ev1' ? { command: 'plain', answer: 'mac' } : { command: 'mac', answer: 'mac' };
}
