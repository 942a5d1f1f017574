import { concat, EMPTY } from '../../desfire/bytes.js';
import { readChangeKeyCryptogram, readChangeKeyEv2Cryptogram } from '../../desfire/change-key.js';
import { CommandCode } from '../../desfire/commands.js';
import { keyLength, withDesKeyVersion, type KeyType } from '../../desfire/crypto/key-type.js';
import { DesfireError, lengthError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import { requireKey, requireMasterKeyUnless } from '../access.js';
import type { Answer, CardContext, CommandHandler } from '../handler.js';
import { keyOfSet, keySetKeys, keySetNumber, keySetVersions, keySlot, keyTypeOfSelected, requireKeySets } from '../keys.js';
import { KeySettingsFlag, type KeySlot } from '../model.js';
import { PICC_AID } from '../session.js';

/** Key management: key settings, key versions, ChangeKey and ChangeKeyEV2 (key sets: key-sets.ts). */

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

/**
 * GetKeySettings: KeySett1 || (crypto method | key count). Free when listing is free, else the master key.
 * An application with key sets adds AKSVersion || NoKeySets || MaxKeySize || AppKeySetSett: the NXP
 * Reader Library (phalMfdfEVx_Sw_GetKeySettings) accepts an answer of 2 or 6 bytes, and Proxmark3
 * (cmdhfmfdes.c CmdHF14ADesGetKeySettings) names bytes 2..5 "ak ver", "num keysets", "max keysize",
 * "app key settings". Judgement: the second byte stays crypto method | key count (whether a card sets
 * KeySett2 bit 4 there is not documented publicly).
 */
const getKeySettings: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('GetKeySettings takes no data');
    const { keySettings, keyCount, keyType } = levelSettings(ctx);
    requireMasterKeyUnless(ctx, keySettings, KeySettingsFlag.FREE_LISTING, 'GetKeySettings');
    const sets = ctx.picc.applications.get(ctx.session.selectedAid)?.keySets;
    const head = Uint8Array.of(keySettings, cryptoBits(keyType) | keyCount);
    return { data: sets ? concat(head, Uint8Array.of(sets.activeVersion, sets.count, sets.maxKeySize, sets.rollKey)) : head };
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

/**
 * GetKeyVersion: KeyNo [|| KeySetNo]. KeyNo bit 6 announces KeySetNo (EV2): the version of key KeyNo
 * of that key set, or, when KeySetNo bit 7 is set, the versions of all key sets by ascending number,
 * the active one first (NXP Reader Library: phalMfdfEVx_Int.h PHAL_MFDFEVX_KEYSETVERSIONS 0x40 "6th bit
 * KeyNo"; phalMfdfEVx.h PHAL_MFDFEVX_RETRIVE_KEY_SET_VERSION 0x80, "Key set versions of the selected
 * application ordered by ascending key set number, i.e. starting with the AKS"; phalMfdfEVx_Sw_GetKeyVersion
 * accepts up to 16 bytes then; Proxmark3 CmdHF14ADesGetKeyVersion sends KeyNo|0x40, KeySetNo;
 * liblogicalaccess getKeyVersion(0, 0) sends 40 80 and its hardware test reads one version per key
 * set). Judgement, no public source: at PICC level the option is PARAMETER_ERROR (Proxmark3 refuses to
 * send it there: "Keyset only at Application level"); the version list of an application without key
 * sets is PERMISSION_DENIED, as every key-set command there; a key set not initialized is
 * PERMISSION_DENIED and listed with version 0.
 */
const getKeyVersion: CommandHandler = {
  run(ctx, { data }) {
    if (data.length < 1) throw lengthError('GetKeyVersion takes a key number');
    const keyNoByte = data[0];
    if ((keyNoByte & KEY_SET_OPTION) === 0) {
      if (data.length !== 1) throw lengthError('GetKeyVersion without KeyNo bit 6 takes the key number only');
      return { data: Uint8Array.of(keySlot(ctx, keyNoByte & 0x3f).version) };
    }
    if (data.length !== 2) throw lengthError('GetKeyVersion with KeyNo bit 6 takes KeyNo and KeySetNo');
    const app = ctx.picc.applications.get(ctx.session.selectedAid);
    if (!app) throw new DesfireError(Status.PARAMETER_ERROR, 'key sets exist at application level only');
    const keySetByte = data[1];
    if (keySetByte & ALL_KEY_SET_VERSIONS) return { data: keySetVersions(requireKeySets(app, 'GetKeyVersion')) };
    const { keys } = keySetKeys(app, keySetNumber(app, keySetByte));
    return { data: Uint8Array.of(keyOfSet(keys, keyNoByte & 0x3f).version) };
  },
};

/** GetKeyVersion: KeyNo bit 6 announces KeySetNo; KeySetNo bit 7 asks for the versions of all key sets. */
const KEY_SET_OPTION = 0x40;
const ALL_KEY_SET_VERSIONS = 0x80;

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
    return changeKeyOfSet(ctx, { cmd: CommandCode.ChangeKey, header, data, keyNoByte: header[0] });
  },
};

/**
 * ChangeKeyEV2: KeySetNo || KeyNo in clear, then the cryptogram: a key of any key set, the active one
 * (number 0, as ChangeKey) or another initialized one (NXP Reader Library phalMfdfEVx.h "Changes any key
 * present in key set on the PICC"; liblogicalaccess hardware test TestAllDESFire.cs ev2Test and df_lib
 * SlabDesFireDemoEV2.py test_03 change keys of key set 1 after InitializeKeySet, before
 * FinalizeKeySet). Who may change a key is ChangeKey's rule, read in the active key set (those two
 * sequences do it authenticated with the application master key under access nibble 0); a key of
 * another key set is never the session's own key, so only KeySetNo 0 can end the session (NXP Reader
 * Library phalMfdfEVx_Sw_ChangeKeyEv2 resets its authentication only for the same key number and key
 * set 0). At PICC level only key set 0 exists. Judgement, no public source: a key set beyond NoKeySets
 * is PARAMETER_ERROR, one not initialized PERMISSION_DENIED; a finalized key set can still be changed.
 */
const changeKeyEv2: CommandHandler = {
  run(ctx, { header, data }) {
    return changeKeyOfSet(ctx, { cmd: CommandCode.ChangeKeyEV2, header, data, keyNoByte: header[1], keySetNo: header[0] });
  },
};

interface KeyChangeCommand {
  readonly cmd: number;
  readonly header: Uint8Array;
  readonly data: Uint8Array;
  readonly keyNoByte: number;
  /** ChangeKeyEV2's KeySetNo byte; undefined for ChangeKey. */
  readonly keySetNo?: number;
}

function changeKeyOfSet(ctx: CardContext, command: KeyChangeCommand): Answer {
  const { cmd, header, data, keyNoByte, keySetNo } = command;
  const auth = ctx.session.auth;
  if (!auth) throw new DesfireError(Status.AUTHENTICATION_ERROR, `${cmd === CommandCode.ChangeKey ? 'ChangeKey' : 'ChangeKeyEV2'} needs authentication`);
  const atPicc = ctx.session.selectedAid === PICC_AID;
  const app = ctx.picc.applications.get(ctx.session.selectedAid);
  let setNo = 0;
  if (keySetNo !== undefined) {
    if (atPicc || !app) {
      if (keySetNo !== 0) throw new DesfireError(Status.PARAMETER_ERROR, 'the PICC has key set 0 only');
    } else {
      setNo = keySetNumber(app, keySetNo);
    }
  }
  const target = atPicc ? keyNoByte & 0x3f : keyNoByte & 0x0f;
  const other = setNo === 0 || !app ? undefined : keySetKeys(app, setNo);
  const slot = other ? keyOfSet(other.keys, target) : keySlot(ctx, target);
  const { keySettings } = levelSettings(ctx);
  requireChangeRight(ctx, target, keySettings);
  const vcKey = atPicc && ctx.picc.vcKeys.has(target);
  const newKeyType = other ? other.keyType : vcKey ? 'aes' : atPicc ? piccKeyType(keyNoByte) : keyTypeOfSelected(ctx);
  const sameKey = setNo === 0 && target === auth.keyNo;
  const plain = auth.channel.unwrapCryptogram(cmd, concat(header, data), header.length).data;
  const context = { keyNo: keyNoByte, newKeyType, oldKey: sameKey ? undefined : slot.key };
  const { key, version } =
    keySetNo === undefined
      ? readChangeKeyCryptogram(auth.channel.generation, plain, context)
      : readChangeKeyEv2Cryptogram(auth.channel.generation, plain, { ...context, keySetNo });
  const stored: KeySlot = { key: newKeyType === 'aes' ? key : withDesKeyVersion(key.slice(0, keyLength(newKeyType)), version), version };
  ctx.nv.write(() => {
    if (other) {
      other.keys[target] = stored;
    } else if (vcKey) {
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
}

export const KEY_HANDLERS: ReadonlyMap<number, CommandHandler> = new Map([
  [CommandCode.GetKeySettings, getKeySettings], // 0x45
  [CommandCode.ChangeKeySettings, changeKeySettings], // 0x54
  [CommandCode.GetKeyVersion, getKeyVersion], // 0x64
  [CommandCode.ChangeKey, changeKey], // 0xC4
  [CommandCode.ChangeKeyEV2, changeKeyEv2], // 0xC6
]);
