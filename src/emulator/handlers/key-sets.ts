import { EMPTY } from '../../desfire/bytes.js';
import { CommandCode } from '../../desfire/commands.js';
import { keyLength } from '../../desfire/crypto/key-type.js';
import { DesfireError, lengthError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import { requireKey, selectedApplication } from '../access.js';
import type { CommandHandler } from '../handler.js';
import { KEY_SET_TYPES, keySetNumber, requireKeySets } from '../keys.js';
import type { Application, KeySet } from '../model.js';

/**
 * Application key sets (MIFARE DESFire EV2/EV3): InitializeKeySet (0x56), FinalizeKeySet (0x57) and
 * RollKeySet (0x55). ChangeKeyEV2 (0xC6) and GetKeyVersion's key-set option live with the other key
 * commands (keys.ts), CreateApplication's key-set parameters with it (picc.ts).
 *
 * NXP's data sheet of these commands is not public. What public material establishes, read for facts
 * (nothing copied). "NXP Reader Library" is NXP's reader-side library as published in
 * hohobox/wpc_type456 (2.GN7_PE_WPC_APP/Static_Code/NCJ3321_Code/aNFCReaderLibrary: intfs/phalMfdfEVx.h,
 * comps/phalMfdfEVx/src/phalMfdfEVx_Int.h and src/Sw/phalMfdfEVx_Sw.c):
 * - Codes and framing: InitializeKeySet KeySetNo || KeySetType, FinalizeKeySet KeySetNo ||
 *   KeySetVersion, RollKeySet KeySetNo, each in MAC mode inside a session (NXP Reader Library
 *   `phalMfdfEVx_Sw_InitializeKeySet` / `_FinalizeKeySet` / `_RollKeySet`; Proxmark3 include/protocols.h and
 *   desfiresecurechan.c `EV1D40TransmitMAC`; liblogicalaccess DESFireEV2ISO7816Commands; TapLinx team on
 *   the mifare.net forum: "this command uses the communication mode CommMode.MAC").
 * - KeySetType 00 DES/2K3DES, 01 3K3DES, 02 AES (NXP Reader Library PHAL_MFDFEVX_KEY_TYPE_*,
 *   liblogicalaccess initializeKeySet, BALTECH DesfireEv2FormatAppKeysetKeylist).
 * - Key set 0 is the active key set (AKS): the NXP Reader Library returns key set versions "ordered by
 *   ascending key set number, i.e. starting with the AKS"; BALTECH numbers the key sets one programs and
 *   switches to 0x01..0x0F.
 * - RollKeySet "changes the ActiveKeySet to key set currently targeted ... After successful execution of
 *   this command the keys of new AKS can be used[;] any active authentication is lost" (NXP Reader
 *   Library phalMfdfEVx.h); its software layer resets its session after the command
 *   (PHAL_MFDFEVX_AUTHENTICATE_RESET) and checks no MAC on the answer, so the card answers without one.
 * - RollKeySet renumbers the key sets by rotation: liblogicalaccess's hardware test
 *   (liblogicalaccess-swig sources/DESFireEV1Tests/TestAllDESFire.cs, ev2Test) reads key set versions
 *   [1, 2, 4, 3], rolls to key set 1 and reads [2, 4, 3, 1], rolls to key set 2 and reads [3, 1, 2, 4],
 *   rolls to 3 and reads [4, 3, 1, 2]; after each roll it authenticates with the new AKS's keys, also
 *   when that key set's type (AES) differs from the application's (DES), so the application's key type
 *   becomes the new AKS's.
 * - RollKeySet is authorised by the roll key, AppKeySetSett of CreateApplication (BALTECH: "bits 0..3
 *   define the application roll key (to change a keyset)"): that test creates its applications with
 *   AppKeySetSett 2 and authenticates with key 2 before each roll, df_lib's demo (supersun76/df_lib
 *   SlabDesFireDemoEV2.py test_03) with AppKeySetSett 1 and "Authenticate key 1 to prepare key set
 *   rolling". Both run InitializeKeySet, ChangeKeyEV2 and FinalizeKeySet authenticated with the
 *   application master key.
 * - A new key set holds the active key set's keys: both sequences change keys of a fresh key set by
 *   XORing the new key with the active key set's key of the same number (the old key of the ChangeKeyEV2
 *   cryptogram), which the card checks with the CRC of the new key; it would refuse them if the fresh
 *   key set held anything else (liblogicalaccess's test does so for a key the active key set had
 *   already changed from its default, and goes on to assertions only a card answers, such as the
 *   rotated versions). That evidence only covers key sets of the active key set's type.
 *
 * Judgements where nothing public says (each documented where it applies): the refusal statuses
 * follow this card's general pattern (access.ts: AUTHENTICATION_ERROR without a session,
 * PERMISSION_DENIED with the wrong key or in the wrong state, PARAMETER_ERROR for values out of range,
 * LENGTH_ERROR for a wrong length); a key set of another type than the active one starts with the
 * application default key (SetConfiguration option 01) cut to its length, as CreateApplication's keys;
 * InitializeKeySet may re-initialize a key set; FinalizeKeySet closes an initialized key set once;
 * RollKeySet needs a finalized key set.
 */

/** The key set byte checked: 1..NoKeySets-1 (0 is the active key set). */
function otherKeySet(app: Application, keySetNo: number, what: string): number {
  const n = keySetNumber(app, keySetNo);
  if (n === 0) throw new DesfireError(Status.PARAMETER_ERROR, `${what}: key set 0 is the active key set`);
  return n;
}

function expectLength(data: Uint8Array, length: number, what: string): void {
  if (data.length !== length) throw lengthError(`${what} takes ${length} bytes, got ${data.length}`);
}

/**
 * InitializeKeySet: KeySetNo || KeySetType, with the application master key. The key set gets the
 * active key set's keys (same type) or the default application key (another type); not finalized,
 * version 0 until FinalizeKeySet.
 */
const initializeKeySet: CommandHandler = {
  run(ctx, { data }) {
    const app = selectedApplication(ctx);
    expectLength(data, 2, 'InitializeKeySet');
    requireKey(ctx, 0, 'InitializeKeySet');
    const keySets = requireKeySets(app, 'InitializeKeySet');
    const n = otherKeySet(app, data[0], 'InitializeKeySet');
    const keyType = KEY_SET_TYPES.get(data[1]);
    if (!keyType) throw new DesfireError(Status.PARAMETER_ERROR, `KeySetType ${data[1]} names no key type (00 2K3DES, 01 3K3DES, 02 AES)`);
    if (keyLength(keyType) > keySets.maxKeySize) throw new DesfireError(Status.PARAMETER_ERROR, `${keyType} keys do not fit in MaxKeySize ${keySets.maxKeySize}`);
    const { key: defaultKey, version: defaultVersion } = ctx.picc.defaultKey;
    const keys =
      keyType === app.keyType
        ? app.keys.map((slot) => ({ key: slot.key.slice(), version: slot.version }))
        : app.keys.map(() => ({ key: defaultKey.slice(0, keyLength(keyType)), version: defaultVersion }));
    const set: KeySet = { keyType, keys, version: 0, finalized: false };
    ctx.nv.write(() => keySets.others.set(n, set));
    return { data: EMPTY };
  },
};

/** FinalizeKeySet: KeySetNo || KeySetVersion, with the application master key; the key set must be initialized and not yet finalized. */
const finalizeKeySet: CommandHandler = {
  run(ctx, { data }) {
    const app = selectedApplication(ctx);
    expectLength(data, 2, 'FinalizeKeySet');
    requireKey(ctx, 0, 'FinalizeKeySet');
    const keySets = requireKeySets(app, 'FinalizeKeySet');
    const n = otherKeySet(app, data[0], 'FinalizeKeySet');
    const set = keySets.others.get(n);
    if (!set) throw new DesfireError(Status.PERMISSION_DENIED, `key set ${n} is not initialized`);
    if (set.finalized) throw new DesfireError(Status.PERMISSION_DENIED, `key set ${n} is already finalized`);
    const version = data[1];
    ctx.nv.write(() => {
      set.version = version;
      set.finalized = true;
    });
    return { data: EMPTY };
  },
};

/**
 * RollKeySet: KeySetNo, with the roll key (AppKeySetSett). Key set KeySetNo becomes key set 0, the
 * active one: the key sets rotate, key set i becoming key set (i - KeySetNo) mod NoKeySets, so the old
 * active key set keeps its keys and version at the end. The application takes the new active key
 * set's keys and type; the session ends, and the answer carries no MAC.
 */
const rollKeySet: CommandHandler = {
  run(ctx, { data }) {
    const app = selectedApplication(ctx);
    expectLength(data, 1, 'RollKeySet');
    requireKey(ctx, app.keySets?.rollKey ?? 0, 'RollKeySet');
    const keySets = requireKeySets(app, 'RollKeySet');
    const n = otherKeySet(app, data[0], 'RollKeySet');
    const target = keySets.others.get(n);
    if (!target?.finalized) throw new DesfireError(Status.PERMISSION_DENIED, `key set ${n} is not finalized`);
    const count = keySets.count;
    const all: (KeySet | undefined)[] = Array.from({ length: count }, (_, i) =>
      i === 0 ? { keyType: app.keyType, keys: app.keys, version: keySets.activeVersion, finalized: true } : keySets.others.get(i),
    );
    const rolled = all.map((_, i) => all[(i + n) % count]);
    const active = rolled[0] as KeySet;
    const others = new Map<number, KeySet>();
    rolled.forEach((set, i) => {
      if (i > 0 && set) others.set(i, set);
    });
    ctx.nv.write(() => {
      app.keyType = active.keyType;
      app.keys = active.keys;
      keySets.activeVersion = active.version;
      keySets.others = others;
    });
    ctx.session.dropAuthentication();
    return { data: EMPTY };
  },
};

export const KEY_SET_HANDLERS: ReadonlyMap<number, CommandHandler> = new Map([
  [CommandCode.InitializeKeySet, initializeKeySet], // 0x56
  [CommandCode.FinalizeKeySet, finalizeKeySet], // 0x57
  [CommandCode.RollKeySet, rollKeySet], // 0x55
]);
