import type { KeyType } from '../desfire/crypto/key-type.js';
import { DesfireError } from '../desfire/errors.js';
import { Status } from '../desfire/status.js';
import type { CardContext } from './handler.js';
import type { Application, ApplicationKeySets, KeySet, KeySlot } from './model.js';
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

// ---------------------------------------------------------------------------------------------
// Application key sets (EV2). Key set 0 is the active key set (the application's own `keys`); the
// others live in `app.keySets.others` once InitializeKeySet made them. Sources: handlers/key-sets.ts.

/** KeySetType of InitializeKeySet: 00 DES/2K3DES, 01 3K3DES, 02 AES (NXP Reader Library PHAL_MFDFEVX_KEY_TYPE_2K3DES/3K3DES/AES128; liblogicalaccess initializeKeySet; BALTECH DesfireEv2FormatAppKeysetKeylist KeysetType). */
export const KEY_SET_TYPES: ReadonlyMap<number, KeyType> = new Map([
  [0x00, '2k3des'],
  [0x01, '3k3des'],
  [0x02, 'aes'],
]);

/** The key sets of `app`; PERMISSION_DENIED when it was created without them. */
export function requireKeySets(app: Application, what: string): ApplicationKeySets {
  if (!app.keySets) throw new DesfireError(Status.PERMISSION_DENIED, `${what}: the application has no key sets (KeySett3)`);
  return app.keySets;
}

/** How many key sets `app` has: NoKeySets, or 1 (the active one) without key sets. */
export function keySetCount(app: Application): number {
  return app.keySets?.count ?? 1;
}

/**
 * The key set byte as sent, checked: bit 7 (NXP's secondary application indicator, not supported by this
 * card) and numbers beyond NoKeySets are PARAMETER_ERROR.
 */
export function keySetNumber(app: Application, keySetNo: number): number {
  if (keySetNo >= keySetCount(app)) throw new DesfireError(Status.PARAMETER_ERROR, `no key set ${keySetNo} (the application has ${keySetCount(app)})`);
  return keySetNo;
}

/** The type and keys of key set `n` (0 = the active one); PERMISSION_DENIED when it is not initialized. */
export function keySetKeys(app: Application, n: number): { keyType: KeyType; keys: KeySlot[]; set?: KeySet } {
  if (n === 0) return { keyType: app.keyType, keys: app.keys };
  const set = app.keySets?.others.get(n);
  if (!set) throw new DesfireError(Status.PERMISSION_DENIED, `key set ${n} is not initialized`);
  return { keyType: set.keyType, keys: set.keys, set };
}

/** Key `keyNo` of a key set's keys; NO_SUCH_KEY beyond them. */
export function keyOfSet(keys: readonly KeySlot[], keyNo: number): KeySlot {
  const slot = keys[keyNo];
  if (!slot) throw new DesfireError(Status.NO_SUCH_KEY, `no key ${keyNo} in the key set (${keys.length} keys)`);
  return slot;
}

/** The versions of all key sets, by ascending number, the active one first; 0 for key sets not initialized or not finalized. */
export function keySetVersions(keySets: ApplicationKeySets): Uint8Array {
  return Uint8Array.from({ length: keySets.count }, (_, n) => (n === 0 ? keySets.activeVersion : (keySets.others.get(n)?.version ?? 0)));
}
