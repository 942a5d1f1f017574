import { CardAuthentication } from '../../desfire/auth/handshake.js';
import type { AuthScheme } from '../../desfire/auth/scheme.js';
import { AuthCommand, ev1Scheme, ev2Scheme, legacyScheme } from '../../desfire/auth/schemes.js';
import { effectiveKeyType } from '../../desfire/crypto/key-type.js';
import { DesfireError, authenticationError, lengthError } from '../../desfire/errors.js';
import { Ev2Channel } from '../../desfire/sm/ev2-channel.js';
import { Status } from '../../desfire/status.js';
import type { Answer, CardContext, CommandHandler, Request } from '../handler.js';
import { keySlot, keyTypeOfSelected } from '../keys.js';

/**
 * The card end of the five authentication commands. The first frame names the key; the card
 * answers AF || E(RndB); the reader's 0xAF token then goes to `finishAuthentication`.
 * A new attempt ends any session first, as the card does; NonFirst continues the EV2 session's
 * TI and counter, so it needs one.
 */
function startAuthentication(ctx: CardContext, { cmd, data }: Request): Answer {
  if (data.length < 1) throw lengthError('authentication needs a key number');
  const keyNo = data[0];
  const continuing = ctx.session.auth?.channel instanceof Ev2Channel ? ctx.session.auth.channel : undefined;
  const ev2Session = continuing ? { ti: continuing.ti, cmdCtr: continuing.cmdCtr } : undefined;
  ctx.session.dropAuthentication();

  const { key } = keySlot(ctx, keyNo);
  const type = effectiveKeyType(keyTypeOfSelected(ctx), key);
  let scheme: AuthScheme;
  switch (cmd) {
    case AuthCommand.LEGACY:
      expectLength(data, 1);
      scheme = legacyScheme(type, key);
      break;
    case AuthCommand.ISO:
    case AuthCommand.AES:
      expectLength(data, 1);
      if ((cmd === AuthCommand.AES) !== (type === 'aes')) throw authenticationError(`command 0x${cmd.toString(16)} does not take ${type} keys`);
      scheme = ev1Scheme(type, key);
      break;
    case AuthCommand.EV2_FIRST: {
      // KeyNo || LenCap || PCDcap2 (LenCap bytes, at most 6).
      if (data.length < 2 || data.length !== 2 + data[1]) throw lengthError('AuthenticateEV2First takes KeyNo, LenCap and LenCap bytes of PCDcap2');
      scheme = ev2Scheme(type, key, { pcdCap2: data.subarray(2) });
      break;
    }
    case AuthCommand.EV2_NON_FIRST:
      expectLength(data, 1);
      if (!ev2Session) throw new DesfireError(Status.PERMISSION_DENIED, 'AuthenticateEV2NonFirst needs an EV2 session to continue');
      scheme = ev2Scheme(type, key, { continuing: ev2Session });
      break;
    default:
      throw new DesfireError(Status.ILLEGAL_COMMAND_CODE, 'not an authentication command');
  }
  const card = new CardAuthentication(scheme, ctx.random);
  const challenge = card.challenge();
  ctx.session.handshake = { command: cmd, keyNo, card };
  return { status: Status.ADDITIONAL_FRAME, data: challenge, unprotected: true };
}

/** The reader's token: check RndB', answer E(RndA' ...), open the session. */
export function finishAuthentication(ctx: CardContext, token: Uint8Array): Answer {
  const handshake = ctx.session.handshake;
  if (!handshake) throw new DesfireError(Status.ILLEGAL_COMMAND_CODE, 'no authentication in progress');
  ctx.session.handshake = undefined;
  const { answer, channel } = handshake.card.verifyToken(token);
  ctx.session.auth = { keyNo: handshake.keyNo, channel };
  return { data: answer, unprotected: true };
}

function expectLength(data: Uint8Array, length: number): void {
  if (data.length !== length) throw lengthError(`expected ${length} data bytes, got ${data.length}`);
}

export const authenticate: CommandHandler = { run: startAuthentication };
