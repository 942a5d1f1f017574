import type { KeyType } from '../desfire/crypto/key-type.js';
import { DesfireError } from '../desfire/errors.js';
import { Status } from '../desfire/status.js';
import type { CardContext } from './handler.js';
import type { KeySlot } from './model.js';
import { PICC_AID } from './session.js';

/** The key type of the selected level: the PICC master key's, or the application's. */
export function keyTypeOfSelected(ctx: CardContext): KeyType {
  const aid = ctx.session.selectedAid;
  if (aid === PICC_AID) return ctx.picc.masterKeyType;
  const app = ctx.picc.applications.get(aid);
  if (!app) throw new DesfireError(Status.APPLICATION_NOT_FOUND, 'selected application vanished');
  return app.keyType;
}

/**
 * Key `keyNo` of the selected level; NO_SUCH_KEY beyond the level's keys. The PICC has its master
 * key 0 and the VC keys 0x20..0x23.
 */
export function keySlot(ctx: CardContext, keyNo: number): KeySlot {
  const aid = ctx.session.selectedAid;
  if (aid === PICC_AID && ctx.picc.vcKeys.has(keyNo)) return ctx.picc.vcKeys.get(keyNo) as KeySlot;
  const keys = aid === PICC_AID ? [ctx.picc.masterKey] : (ctx.picc.applications.get(aid)?.keys ?? []);
  const slot = keys[keyNo];
  if (!slot) throw new DesfireError(Status.NO_SUCH_KEY, `no key ${keyNo} at this level (${keys.length} keys)`);
  return slot;
}
