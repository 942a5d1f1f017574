import { concat, EMPTY } from '../../desfire/bytes.js';
import { readChangeKeyCryptogram } from '../../desfire/change-key.js';
import { CommandCode } from '../../desfire/commands.js';
import { keyLength, withDesKeyVersion, type KeyType } from '../../desfire/crypto/key-type.js';
import { DesfireError, lengthError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import { requireKey, requireMasterKeyUnless } from '../access.js';
import type { CardContext, CommandHandler } from '../handler.js';
import { keySlot, keyTypeOfSelected } from '../keys.js';
import { KeySettingsFlag, type KeySlot } from '../model.js';
import { PICC_AID } from '../session.js';

/** Key management: key settings, key versions, ChangeKey. Key sets (EV2) are not supported by this card. */

/** The key settings byte and key count/type byte of the selected level. */
function levelSettings(ctx: CardContext): { keySettings: number; keyCount: number; keyType: KeyType } {
  if (ctx.session.selectedAid === PICC_AID) return { keySettings: ctx.picc.keySettings, keyCount: 1, keyType: ctx.picc.masterKeyType };
  const app = ctx.picc.applications.get(ctx.session.selectedAid);
  if (!app) throw new DesfireError(Status.APPLICATION_NOT_FOUND);
  return { keySettings: app.keySettings, keyCount: app.keys.length, keyType: app.keyType };
}

/** Crypto method bits 7..6 as KeySett2 and GetKeySettings report them. */
function cryptoBits(type: KeyType): number {
  return type === 'aes' ? 0x80 : type === '3k3des' ? 0x40 : 0x00;
}

/** GetKeySettings: KeySett1 || (crypto method | key count). Free when listing is free, else the master key. */
const getKeySettings: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('GetKeySettings takes no data');
    const { keySettings, keyCount, keyType } = levelSettings(ctx);
    requireMasterKeyUnless(ctx, keySettings, KeySettingsFlag.FREE_LISTING, 'GetKeySettings');
    return { data: Uint8Array.of(keySettings, cryptoBits(keyType) | keyCount) };
  },
};

/** ChangeKeySettings: the master key, and only while the configuration is changeable (bit 3). Data enciphered. */
const changeKeySettings: CommandHandler = {
  dataLength: () => 1,
  run(ctx, { data }) {
    if (data.length !== 1) throw lengthError('ChangeKeySettings takes one byte');
    requireKey(ctx, 0, 'ChangeKeySettings');
    const { keySettings } = levelSettings(ctx);
    if ((keySettings & KeySettingsFlag.CONFIGURATION_CHANGEABLE) === 0) {
      throw new DesfireError(Status.PERMISSION_DENIED, 'key settings are frozen');
    }
    const next = data[0];
    const app = ctx.picc.applications.get(ctx.session.selectedAid);
    ctx.nv.write(() => {
      if (app) app.keySettings = next;
      else ctx.picc.keySettings = next;
    });
    return { data: EMPTY };
  },
};

const getKeyVersion: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 1) throw lengthError('GetKeyVersion takes a key number');
    return { data: Uint8Array.of(keySlot(ctx, data[0] & 0x3f).version) };
  },
};

/** The key type a PICC ChangeKey installs, from bits 7..6 of the key number byte. */
function piccKeyType(keyNoByte: number): KeyType {
  switch (keyNoByte >> 6) {
    case 0:
      return 'des';
    case 1:
      return '3k3des';
    case 2:
      return 'aes';
    default:
      throw new DesfireError(Status.PARAMETER_ERROR, 'key number byte names no key type');
  }
}

/**
 * Who may change key `target` (DESFire key settings): the master key only with the master key and
 * while bit 0 allows it; other keys per the ChangeKey access nibble (bits 7..4): 0 the master key,
 * 1..D that key, E the key itself, F never.
 */
function requireChangeRight(ctx: CardContext, target: number, keySettings: number): void {
  if (ctx.session.selectedAid === PICC_AID && target !== 0) {
    requireKey(ctx, 0, 'changing a VC key'); // VC keys: the PICC master key, whatever the settings
    return;
  }
  if (target === 0) {
    requireKey(ctx, 0, 'changing the master key');
    if ((keySettings & KeySettingsFlag.MASTER_KEY_CHANGEABLE) === 0) throw new DesfireError(Status.PERMISSION_DENIED, 'the master key is frozen');
    return;
  }
  const access = keySettings >> 4;
  if (access === 0x0f) throw new DesfireError(Status.PERMISSION_DENIED, 'keys are frozen');
  requireKey(ctx, access === 0x0e ? target : access, `changing key ${target}`);
}

/**
 * ChangeKey: KeyNo in clear, then the cryptogram (change-key.ts). Changing the session's own key
 * ends the session, so that answer carries no MAC.
 */
const changeKey: CommandHandler = {
  run(ctx, { header, data }) {
    const auth = ctx.session.auth;
    if (!auth) throw new DesfireError(Status.AUTHENTICATION_ERROR, 'ChangeKey needs authentication');
    const keyNoByte = header[0];
    const atPicc = ctx.session.selectedAid === PICC_AID;
    const target = atPicc ? keyNoByte & 0x3f : keyNoByte & 0x0f;
    const slot = keySlot(ctx, target);
    const { keySettings } = levelSettings(ctx);
    requireChangeRight(ctx, target, keySettings);
    const vcKey = atPicc && ctx.picc.vcKeys.has(target);
    const newKeyType = vcKey ? 'aes' : atPicc ? piccKeyType(keyNoByte) : keyTypeOfSelected(ctx);
    const sameKey = target === auth.keyNo;
    const plain = auth.channel.unwrapCryptogram(CommandCode.ChangeKey, concat(header, data), 1).data;
    const { key, version } = readChangeKeyCryptogram(auth.channel.generation, plain, {
      keyNo: keyNoByte,
      newKeyType,
      oldKey: sameKey ? undefined : slot.key,
    });
    const stored: KeySlot = { key: newKeyType === 'aes' ? key : withDesKeyVersion(key.slice(0, keyLength(newKeyType)), version), version };
    ctx.nv.write(() => {
      if (vcKey) {
        ctx.picc.vcKeys.set(target, stored);
      } else if (atPicc) {
        ctx.picc.masterKeyType = newKeyType;
        ctx.picc.masterKey = stored;
      } else {
        ctx.picc.applications.get(ctx.session.selectedAid)!.keys[target] = stored;
      }
    });
    if (sameKey) ctx.session.dropAuthentication();
    return { data: EMPTY };
  },
};

export const KEY_HANDLERS: ReadonlyMap<number, CommandHandler> = new Map([
  [CommandCode.GetKeySettings, getKeySettings], // 0x45
  [CommandCode.ChangeKeySettings, changeKeySettings], // 0x54
  [CommandCode.GetKeyVersion, getKeyVersion], // 0x64
  [CommandCode.ChangeKey, changeKey], // 0xC4
]);
