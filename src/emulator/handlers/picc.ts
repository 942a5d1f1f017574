import { concat, constantTimeEqual, EMPTY, readUintLE, uintLE } from '../../desfire/bytes.js';
import { CommandCode } from '../../desfire/commands.js';
import { keyLength, type KeyType } from '../../desfire/crypto/key-type.js';
import { DesfireError, lengthError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import { requireKey, requireMasterKeyUnless, requirePiccLevel } from '../access.js';
import type { CardContext, CommandHandler } from '../handler.js';
import { applicationBaseFootprint, freeMemory, requireFreeMemory } from '../memory.js';
import { KeySettingsFlag, type Application, type Capacity } from '../model.js';
import { PICC_AID } from '../session.js';

/** PICC-level commands: version, application directory, memory, configuration. */

const MAX_APPLICATIONS = 28;
const MAX_KEYS = 14;

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
 * CreateApplication: AID (3) || KeySett1 || KeySett2 [|| ISO FID (2) || DF name (1..16)].
 * New keys are the default key (SetConfiguration option 01), cut to the key type's length.
 * Key sets (KeySett2 bit 4, EV2) are not supported by this card: PARAMETER_ERROR.
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
    if (keySettings2 & 0x10) throw new DesfireError(Status.PARAMETER_ERROR, 'key sets (KeySett3) are not supported by this card');
    if (keyCount < 1 || keyCount > MAX_KEYS) throw new DesfireError(Status.PARAMETER_ERROR, `an application has 1..${MAX_KEYS} keys`);
    const keyType = keyTypeOfSettings(keySettings2);
    const withIso = (keySettings2 & 0x20) !== 0;
    let isoFid: number | undefined;
    let dfName: Uint8Array | undefined;
    if (withIso) {
      if (data.length < 7 || data.length > 7 + 16) throw lengthError('ISO FID (2) and a DF name of at most 16 bytes expected');
      isoFid = readUintLE(data, 5, 2);
      dfName = data.length > 7 ? data.slice(7) : undefined;
    } else if (data.length !== 5) {
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
    requireFreeMemory(ctx.picc, applicationBaseFootprint(keyCount, keyType));
    const { key: defaultKey, version } = ctx.picc.defaultKey;
    const app: Application = {
      aid,
      isoFid,
      dfName,
      keySettings,
      keyType,
      keys: Array.from({ length: keyCount }, () => ({ key: defaultKey.slice(0, keyLength(keyType)), version })),
      files: new Map(),
    };
    ctx.nv.write(() => apps.set(aid, app));
    return { data: EMPTY };
  },
};

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

