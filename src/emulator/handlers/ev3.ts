import { CommandCode } from '../../desfire/commands.js';
import { Cmac } from '../../desfire/crypto/cmac.js';
import { createBlockCipher } from '../../desfire/crypto/key-type.js';
import { CardProximityCheck, VC_PROXIMITY_KEY_NO, type ProximityAnswer } from '../../desfire/proximity-check.js';
import { DesfireError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import type { Answer, CardContext, CommandHandler } from '../handler.js';
import { CardOriginality, OriginalityKeyPair } from '../originality.js';

/** EV2/EV3 extras: the proximity check against relays, and the originality signature. */

function proximity(ctx: CardContext): CardProximityCheck {
  ctx.session.proximity ??= new CardProximityCheck({ random: ctx.random });
  return ctx.session.proximity;
}

function toAnswer(answer: ProximityAnswer): Answer {
  return { status: answer.status, data: answer.data, bareInNativeFrame: !answer.statusInNativeFrame };
}

/**
 * VerifyPC's MAC key (NXP reader library, Proxmark): the session MAC key of an AES session,
 * otherwise the card's VCProximityKey (key 0x21).
 */
function proximityMac(ctx: CardContext): Cmac {
  const sessionMac = ctx.session.auth?.channel.proximityMac;
  if (sessionMac) return sessionMac;
  const slot = ctx.picc.vcKeys.get(VC_PROXIMITY_KEY_NO);
  if (!slot) throw new DesfireError(Status.PERMISSION_DENIED, 'no VCProximityKey on this card');
  return new Cmac(createBlockCipher('aes', slot.key));
}

const preparePc: CommandHandler = { run: (ctx, { data }) => toAnswer(proximity(ctx).preparePc(data)) };
const proximityCheck: CommandHandler = { run: (ctx, { data }) => toAnswer(proximity(ctx).proximityCheck(data)) };
const verifyPc: CommandHandler = { run: (ctx, { data }) => toAnswer(proximity(ctx).verifyPc(data, proximityMac(ctx))) };

/** Read_Sig: the ECDSA signature over the card's real UID, made with its own originality key. */
const readSig: CommandHandler = {
  run(ctx, { header, data }) {
    const originality = new CardOriginality(OriginalityKeyPair.fromPrivateKey(ctx.picc.originalityKey), ctx.picc.uid);
    const answer = originality.readSig(Uint8Array.from([...header, ...data]));
    return { status: answer.status, data: answer.data };
  },
};

export const EV3_HANDLERS: ReadonlyMap<number, CommandHandler> = new Map([
  [CommandCode.PreparePC, preparePc], // 0xF0
  [CommandCode.ProximityCheck, proximityCheck], // 0xF2
  [CommandCode.VerifyPC, verifyPc], // 0xFD
  [CommandCode.Read_Sig, readSig], // 0x3C
]);
