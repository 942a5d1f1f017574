import { concat, constantTimeEqual, EMPTY, readUintLE, uintLE } from '../../desfire/bytes.js';
import { MAX_APPLICATION_KEYS, MAX_APPLICATIONS } from '../../desfire/card-limits.js';
import { CommandCode } from '../../desfire/commands.js';
import { keyLength, type KeyType } from '../../desfire/crypto/key-type.js';
import { DesfireError, lengthError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import { requireKey, requireMasterKeyUnless, requirePiccLevel } from '../access.js';
import type { CardContext, CommandHandler } from '../handler.js';
import { applicationBaseFootprint, freeMemory, requireFreeMemory } from '../memory.js';
import { KeySettingsFlag, type Application, type ApplicationKeySets, type Capacity } from '../model.js';
import { PICC_AID } from '../session.js';

/** PICC-level commands: version, application directory, memory, configuration. */


/** GetVersion storage-size byte: 2^(n/2) bytes (0x16 = 2 KB, 0x18 = 4 KB, 0x1A = 8 KB). */
const STORAGE_SIZE: Readonly<Record<Capacity, number>> = { '2k': 0x16, '4k': 0x18, '8k': 0x1a };

/**
 * GetVersion of a MIFARE DESFire EV3: hardware vendor 04 (NXP), type 01, subtype 01, version
 * 33.00, storage size, protocol 05 (ISO 14443-2 and -3); software the same with version 03.00;
 * then UID, batch number, production week and year. Always three frames: 7, 7, 14 bytes.
 */
const getVersion: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('GetVersion takes no data');
    const size = STORAGE_SIZE[ctx.picc.capacity];
    const { batch, week, year } = ctx.picc.production;
    const hardware = Uint8Array.of(0x04, 0x01, 0x01, 0x33, 0x00, size, 0x05);
    const software = Uint8Array.of(0x04, 0x01, 0x01, 0x03, 0x00, size, 0x05);
    return { data: concat(hardware, software, ctx.picc.uid, batch, Uint8Array.of(week, year)), leadingFrames: [7, 7] };
  },
};

/** SelectApplication: AID 000000 is the PICC level. Any selection ends the session and its transaction. */
const selectApplication: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 3) throw lengthError('SelectApplication takes a 3-byte AID');
    const aid = readUintLE(data, 0, 3);
    if (aid !== PICC_AID && !ctx.picc.applications.has(aid)) throw new DesfireError(Status.APPLICATION_NOT_FOUND);
    ctx.session.dropAuthentication();
    ctx.session.selectedAid = aid;
    return { data: EMPTY };
  },
};

function requireListing(ctx: CardContext, what: string): void {
  requirePiccLevel(ctx);
  requireMasterKeyUnless(ctx, ctx.picc.keySettings, KeySettingsFlag.FREE_LISTING, what);
}

const getApplicationIds: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('GetApplicationIDs takes no data');
    requireListing(ctx, 'GetApplicationIDs');
    return { data: concat(...[...ctx.picc.applications.keys()].map((aid) => uintLE(aid, 3))) };
  },
};

/** GetDFNames: AID || ISO FID || DF name for each application that has a DF name, one per frame. */
const getDfNames: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('GetDFNames takes no data');
    requireListing(ctx, 'GetDFNames');
    const entries = [...ctx.picc.applications.values()]
      .filter((app) => app.dfName)
      .map((app) => concat(uintLE(app.aid, 3), uintLE(app.isoFid ?? 0, 2), app.dfName ?? EMPTY));
    return { data: concat(...entries), leadingFrames: entries.slice(0, -1).map((e) => e.length) };
  },
};

const getFreeMemory: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('FreeMemory takes no data');
    return { data: uintLE(freeMemory(ctx.picc), 3) };
  },
};

/** GetCardUID: the real UID, only inside an authenticated session (the answer is enciphered). */
const getCardUid: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('GetCardUID takes no data');
    if (!ctx.session.auth) throw new DesfireError(Status.AUTHENTICATION_ERROR, 'GetCardUID needs authentication');
    return { data: ctx.picc.uid.slice() };
  },
};

/** Key settings 2: bits 7..6 crypto method, bit 5 ISO file identifiers, bit 4 key settings 3 (EV2), bits 3..0 key count. */
function keyTypeOfSettings(keySettings2: number): KeyType {
  switch (keySettings2 >> 6) {
    case 0:
      return '2k3des';
    case 1:
      return '3k3des';
    case 2:
      return 'aes';
    default:
      throw new DesfireError(Status.PARAMETER_ERROR, 'key settings 2 names no crypto method');
  }
}

/**
 * CreateApplication: AID (3) || KeySett1 || KeySett2 [|| KeySett3 [|| AKSVersion || NoKeySets ||
 * MaxKeySize || AppKeySetSett]] [|| ISO FID (2) || DF name (1..16)].
 * New keys are the default key (SetConfiguration option 01), cut to the key type's length.
 *
 * KeySett3 (EV2) follows when KeySett2 bit 4 is set; its bit 0 announces the four key-set bytes (NXP
 * Reader Library phalMfdfEVx.h: PHAL_MFDFEVX_KEYSETT3_PRESENT 0x10 "Bit 4 of bKeySettings2 decides
 * the presence of the keysetting3", PHAL_MFDFEVX_KEYSETVALUES_PRESENT 0x01 "Bit 0 of bKeySettings3
 * decides the presence of the key set values array", and phalMfdfEVx_Sw_CreateApplication for the
 * byte order; the same order in liblogicalaccess DESFireEV2ISO7816Commands::createApplication and
 * df_lib SlabDesFireCmd.CreateApp). The values' ranges are BALTECH's documentation of its reader
 * firmware (docs.baltech.de VhlCfg/File/DesfireEv2FormatAppKeysetParams): NoKeySets 2..16, MaxKeySize
 * 0x10 ("allow only (3)-DES and AES keys") or 0x18 ("allow all keys"), AppKeySetSett bits 3..0 the
 * application roll key, 0x00..0x0D. Outside them: PARAMETER_ERROR. Judgement: a 3K3DES application
 * with MaxKeySize 0x10 is refused too (its own keys would not fit), and the roll key must be one of
 * the application's keys.
 * KeySett3 bit 1 (application-specific VC keys) and bit 2 (application-specific capability data;
 * liblogicalaccess `specificVCKeys` 0x02, `specificCapabilityData` 0x04, BALTECH KS3
 * AppSpecificCapabilityData 0x04) are not implemented by this card: no public source says what they
 * configure or what data comes with them, so the card refuses them with PARAMETER_ERROR, as it refuses
 * any parameter value it does not support; bits 7..3 are RFU, PARAMETER_ERROR too.
 */
const createApplication: CommandHandler = {
  run(ctx, { data }) {
    requirePiccLevel(ctx);
    requireMasterKeyUnless(ctx, ctx.picc.keySettings, KeySettingsFlag.FREE_CREATE_DELETE, 'CreateApplication');
    if (data.length < 5) throw lengthError('CreateApplication takes AID, KeySett1 and KeySett2');
    const aid = readUintLE(data, 0, 3);
    const [keySettings, keySettings2] = [data[3], data[4]];
    const keyCount = keySettings2 & 0x0f;
    if (aid === PICC_AID) throw new DesfireError(Status.PARAMETER_ERROR, 'AID 000000 is the PICC');
    if (keyCount < 1 || keyCount > MAX_APPLICATION_KEYS) throw new DesfireError(Status.PARAMETER_ERROR, `an application has 1..${MAX_APPLICATION_KEYS} keys`);
    const keyType = keyTypeOfSettings(keySettings2);
    let offset = 5;
    let keySets: ApplicationKeySets | undefined;
    if (keySettings2 & 0x10) {
      if (data.length < 6) throw lengthError('KeySett2 bit 4 announces KeySett3');
      const keySettings3 = data[offset++];
      if (keySettings3 & 0x06) throw new DesfireError(Status.PARAMETER_ERROR, 'application-specific VC keys and capability data (KeySett3 bits 1, 2) are not supported by this card');
      if (keySettings3 & 0xf8) throw new DesfireError(Status.PARAMETER_ERROR, 'KeySett3 bits 7..3 are RFU');
      if (keySettings3 & 0x01) {
        if (data.length < offset + 4) throw lengthError('KeySett3 bit 0 announces AKSVersion, NoKeySets, MaxKeySize and AppKeySetSett');
        keySets = readKeySetValues(data.subarray(offset, offset + 4), keyType, keyCount);
        offset += 4;
      }
    }
    const withIso = (keySettings2 & 0x20) !== 0;
    let isoFid: number | undefined;
    let dfName: Uint8Array | undefined;
    if (withIso) {
      if (data.length < offset + 2 || data.length > offset + 2 + 16) throw lengthError('ISO FID (2) and a DF name of at most 16 bytes expected');
      isoFid = readUintLE(data, offset, 2);
      dfName = data.length > offset + 2 ? data.slice(offset + 2) : undefined;
    } else if (data.length !== offset) {
      throw lengthError('no ISO parameters announced (KeySett2 bit 5), but more data sent');
    }
    const apps = ctx.picc.applications;
    if (apps.has(aid)) throw new DesfireError(Status.DUPLICATE_ERROR, 'an application with this AID exists');
    for (const app of apps.values()) {
      if ((isoFid !== undefined && app.isoFid === isoFid) || (dfName && app.dfName && constantTimeEqual(app.dfName, dfName))) {
        throw new DesfireError(Status.DUPLICATE_ERROR, 'an application with this ISO FID or DF name exists');
      }
    }
    if (apps.size >= MAX_APPLICATIONS) throw new DesfireError(Status.COUNT_ERROR);
    requireFreeMemory(ctx.picc, applicationBaseFootprint(keyCount, keyType, keySets));
    const { key: defaultKey, version } = ctx.picc.defaultKey;
    const app: Application = {
      aid,
      isoFid,
      dfName,
      keySettings,
      keyType,
      keys: Array.from({ length: keyCount }, () => ({ key: defaultKey.slice(0, keyLength(keyType)), version })),
      files: new Map(),
      ...(keySets ? { keySets } : {}),
    };
    ctx.nv.write(() => apps.set(aid, app));
    return { data: EMPTY };
  },
};

/** AKSVersion || NoKeySets || MaxKeySize || AppKeySetSett, checked (sources above createApplication). */
function readKeySetValues(values: Uint8Array, keyType: KeyType, keyCount: number): ApplicationKeySets {
  const [activeVersion, count, maxKeySize, rollKey] = values;
  if (count < 2 || count > 16) throw new DesfireError(Status.PARAMETER_ERROR, 'NoKeySets must be 2..16');
  if (maxKeySize !== 16 && maxKeySize !== 24) throw new DesfireError(Status.PARAMETER_ERROR, 'MaxKeySize must be 0x10 or 0x18');
  if (keyLength(keyType) > maxKeySize) throw new DesfireError(Status.PARAMETER_ERROR, `${keyType} keys do not fit in MaxKeySize ${maxKeySize}`);
  if (rollKey > 0x0d || rollKey >= keyCount) throw new DesfireError(Status.PARAMETER_ERROR, `AppKeySetSett names no key of the application (roll key ${rollKey})`);
  return { count, maxKeySize, rollKey, activeVersion, others: new Map() };
}

/** DeleteApplication: with the PICC master key, or (free create/delete) with the application's own master key. */
const deleteApplication: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 3) throw lengthError('DeleteApplication takes a 3-byte AID');
    const aid = readUintLE(data, 0, 3);
    const app = ctx.picc.applications.get(aid);
    if (!app) throw new DesfireError(Status.APPLICATION_NOT_FOUND);
    const ownMasterKey = ctx.session.selectedAid === aid && ctx.session.auth?.keyNo === 0;
    if (!ownMasterKey) {
      requirePiccLevel(ctx);
      requireKey(ctx, 0, 'DeleteApplication');
    }
    ctx.nv.write(() => ctx.picc.applications.delete(aid));
    if (ctx.session.selectedAid === aid) {
      ctx.session.dropAuthentication();
      ctx.session.selectedAid = PICC_AID;
    }
    return { data: EMPTY };
  },
};

/** FormatPICC: all applications gone, the PICC master key and configuration kept. */
const formatPicc: CommandHandler = {
  run(ctx, { data }) {
    if (data.length !== 0) throw lengthError('FormatPICC takes no data');
    requirePiccLevel(ctx);
    requireKey(ctx, 0, 'FormatPICC');
    if (ctx.picc.formatDisabled) throw new DesfireError(Status.PERMISSION_DENIED, 'FormatPICC was disabled by SetConfiguration');
    ctx.nv.write(() => ctx.picc.applications.clear());
    return { data: EMPTY };
  },
};

const SET_CONFIGURATION_LENGTH: Readonly<Record<number, number | undefined>> = { 0x00: 1, 0x01: 25 };

/**
 * SetConfiguration, PICC master key, enciphered data after the option byte:
 * 00: 1 byte, bit 0 disables FormatPICC, bit 1 enables random UID (neither can be undone);
 * 01: the default key for new applications (24 bytes) and its version;
 * 02: a user-defined ATS (its first byte is its length).
 * Other options (EV2/EV3 SAK, secure-messaging and capability settings) are not supported: PARAMETER_ERROR.
 */
const setConfiguration: CommandHandler = {
  dataLength: (_ctx, header) => SET_CONFIGURATION_LENGTH[header[0]],
  run(ctx, { header, data }) {
    requirePiccLevel(ctx);
    requireKey(ctx, 0, 'SetConfiguration');
    const option = header[0];
    const expected = SET_CONFIGURATION_LENGTH[option];
    if (expected !== undefined && data.length !== expected) throw lengthError(`option ${option} takes ${expected} bytes`);
    const picc = ctx.picc;
    switch (option) {
      case 0x00: {
        const flags = data[0];
        if (flags & ~0x03) throw new DesfireError(Status.PARAMETER_ERROR, 'only bits 0 and 1 are defined');
        ctx.nv.write(() => {
          picc.formatDisabled ||= (flags & 0x01) !== 0;
          picc.randomUid ||= (flags & 0x02) !== 0;
        });
        break;
      }
      case 0x01:
        ctx.nv.write(() => {
          picc.defaultKey = { key: data.slice(0, 24), version: data[24] };
        });
        break;
      case 0x02:
        if (data.length < 1 || data[0] !== data.length || data.length > 20) throw lengthError('ATS: its first byte must be its length');
        ctx.nv.write(() => {
          picc.ats = data.slice();
        });
        break;
      default:
        throw new DesfireError(Status.PARAMETER_ERROR, `SetConfiguration option ${option} is not supported by this card`);
    }
    return { data: EMPTY };
  },
};

export const PICC_HANDLERS: ReadonlyMap<number, CommandHandler> = new Map([
  [CommandCode.GetVersion, getVersion], // 0x60
  [CommandCode.SelectApplication, selectApplication], // 0x5A
  [CommandCode.GetApplicationIDs, getApplicationIds], // 0x6A
  [CommandCode.GetDFNames, getDfNames], // 0x6D
  [CommandCode.FreeMemory, getFreeMemory], // 0x6E
  [CommandCode.GetCardUID, getCardUid], // 0x51
  [CommandCode.CreateApplication, createApplication], // 0xCA
  [CommandCode.DeleteApplication, deleteApplication], // 0xDA
  [CommandCode.FormatPICC, formatPicc], // 0xFC
  [CommandCode.SetConfiguration, setConfiguration], // 0x5C
]);

