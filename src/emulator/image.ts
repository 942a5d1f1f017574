import { fromHex, toHex } from '../desfire/bytes.js';
import type { CommMode } from '../desfire/comm-mode.js';
import { KEY_TYPES, keyLength, type KeyType } from '../desfire/crypto/key-type.js';
import {
  FileType,
  type AccessRights,
  type Application,
  type ApplicationKeySets,
  type Capacity,
  type CardFile,
  type KeySet,
  type KeySlot,
  type PiccState,
} from './model.js';

/**
 * Card images: a card's whole persistent state as versioned JSON, to save, load and share
 * virtual cards. Keys are included in clear: an image is a test card, never a production secret.
 *
 * Version 2 added application key sets (EV2), an optional `keySets` field of an application;
 * version 1 images (without them) still load. A program that reads only version 1 refuses version 2
 * images instead of dropping their key sets.
 */
export const IMAGE_FORMAT = 'desfire-pacs/card-image';
export const IMAGE_VERSION = 2;
/** Oldest version still read: version 1 images are version 2 without key sets. */
const OLDEST_READABLE_VERSION = 1;

/** A malformed image; `path` names the field (e.g. `applications[0].files[2].recordSize`). */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`card image: ${path}: ${problem}`);
  }
}

const FILE_TYPE_NAMES = {
  standard: FileType.STANDARD,
  backup: FileType.BACKUP,
  value: FileType.VALUE,
  'linear-record': FileType.LINEAR_RECORD,
  'cyclic-record': FileType.CYCLIC_RECORD,
  'transaction-mac': FileType.TRANSACTION_MAC,
} as const;
type FileTypeName = keyof typeof FILE_TYPE_NAMES;
const NAME_OF_TYPE = new Map(Object.entries(FILE_TYPE_NAMES).map(([name, code]) => [code, name as FileTypeName]));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// ---- writing

export function exportImage(picc: PiccState): Json {
  return {
    format: IMAGE_FORMAT,
    version: IMAGE_VERSION,
    uid: toHex(picc.uid),
    capacity: picc.capacity,
    masterKey: { type: picc.masterKeyType, ...slotJson(picc.masterKey) },
    keySettings: picc.keySettings,
    formatDisabled: picc.formatDisabled,
    randomUid: picc.randomUid,
    defaultKey: slotJson(picc.defaultKey),
    ...(picc.ats ? { ats: toHex(picc.ats) } : {}),
    production: { batch: toHex(picc.production.batch), week: picc.production.week, year: picc.production.year },
    originalityKey: toHex(picc.originalityKey),
    vcKeys: [...picc.vcKeys].map(([keyNo, slot]) => ({ keyNo, ...slotJson(slot) })),
    applications: [...picc.applications.values()].map(applicationJson),
  };
}

function slotJson(slot: KeySlot): { key: string; version: number } {
  return { key: toHex(slot.key), version: slot.version };
}

function applicationJson(app: Application): Json {
  return {
    aid: app.aid,
    ...(app.isoFid !== undefined ? { isoFid: app.isoFid } : {}),
    ...(app.dfName ? { dfName: toHex(app.dfName) } : {}),
    keySettings: app.keySettings,
    keyType: app.keyType,
    keys: app.keys.map(slotJson),
    files: [...app.files.values()].map(fileJson),
    ...(app.keySets ? { keySets: keySetsJson(app.keySets) } : {}),
  };
}

/** Application key sets: the parameters, and the key sets other than the active one (whose keys are the application's). */
function keySetsJson(sets: ApplicationKeySets): Json {
  return {
    count: sets.count,
    maxKeySize: sets.maxKeySize,
    rollKey: sets.rollKey,
    activeVersion: sets.activeVersion,
    others: [...sets.others].map(([keySetNo, set]) => ({
      keySetNo,
      keyType: set.keyType,
      version: set.version,
      finalized: set.finalized,
      keys: set.keys.map(slotJson),
    })),
  };
}

function fileJson(file: CardFile): Json {
  const base = {
    fileNo: file.fileNo,
    type: NAME_OF_TYPE.get(file.type) as string,
    ...(file.isoFid !== undefined ? { isoFid: file.isoFid } : {}),
    commMode: file.commMode,
    access: { ...file.access },
  };
  switch (file.type) {
    case FileType.STANDARD:
    case FileType.BACKUP:
      return { ...base, data: toHex(file.data) };
    case FileType.VALUE:
      return {
        ...base,
        lowerLimit: file.lowerLimit,
        upperLimit: file.upperLimit,
        value: file.value,
        limitedCreditEnabled: file.limitedCreditEnabled,
        freeGetValue: file.freeGetValue,
        limitedCreditValue: file.limitedCreditValue,
      };
    case FileType.LINEAR_RECORD:
    case FileType.CYCLIC_RECORD:
      return { ...base, recordSize: file.recordSize, maxRecords: file.maxRecords, records: file.records.map(toHex) };
    case FileType.TRANSACTION_MAC:
      return {
        ...base,
        tmKey: toHex(file.tmKey),
        tmKeyVersion: file.tmKeyVersion,
        tmKeyOption: file.tmKeyOption,
        tmc: file.tmc,
        tmv: toHex(file.tmv),
        tmri: toHex(file.tmri),
      };
  }
}

// ---- reading, checking every field

/** A field reader that knows where it is, so every error names the field. */
class Reader {
  constructor(
    readonly value: unknown,
    readonly path: string,
  ) {}

  field(name: string): Reader {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) throw new ImageError(this.path || '(root)', 'must be an object');
    return new Reader((this.value as Record<string, unknown>)[name], this.path ? `${this.path}.${name}` : name);
  }

  has(name: string): boolean {
    return typeof this.value === 'object' && this.value !== null && (this.value as Record<string, unknown>)[name] !== undefined;
  }

  int(min: number, max: number): number {
    const v = this.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ImageError(this.path, `must be an integer in ${min}..${max}`);
    return v;
  }

  bool(): boolean {
    if (typeof this.value !== 'boolean') throw new ImageError(this.path, 'must be true or false');
    return this.value;
  }

  bytes(minLength = 0, maxLength = Infinity): Uint8Array {
    if (typeof this.value !== 'string') throw new ImageError(this.path, 'must be a hex string');
    let out: Uint8Array;
    try {
      out = fromHex(this.value);
    } catch {
      throw new ImageError(this.path, 'must be a hex string');
    }
    if (out.length < minLength || out.length > maxLength) throw new ImageError(this.path, `must be ${minLength}..${maxLength} bytes, got ${out.length}`);
    return out;
  }

  oneOf<T extends string>(choices: readonly T[]): T {
    if (typeof this.value !== 'string' || !choices.includes(this.value as T)) throw new ImageError(this.path, `must be one of ${choices.join(', ')}`);
    return this.value as T;
  }

  list(): Reader[] {
    if (!Array.isArray(this.value)) throw new ImageError(this.path, 'must be a list');
    return this.value.map((v, i) => new Reader(v, `${this.path}[${i}]`));
  }
}

const CAPACITIES: readonly Capacity[] = ['2k', '4k', '8k'];
const COMM_MODES: readonly CommMode[] = ['plain', 'mac', 'full'];

export function importImage(json: unknown): PiccState {
  const root = new Reader(json, '');
  if (root.field('format').value !== IMAGE_FORMAT) throw new ImageError('format', `must be "${IMAGE_FORMAT}"`);
  const version = root.field('version').int(1, Number.MAX_SAFE_INTEGER);
  if (version < OLDEST_READABLE_VERSION || version > IMAGE_VERSION) {
    throw new ImageError('version', `version ${version} is not supported (this program reads ${OLDEST_READABLE_VERSION} to ${IMAGE_VERSION})`);
  }
  const masterKeyType = root.field('masterKey').field('type').oneOf(KEY_TYPES);
  const production = root.field('production');
  const applications = new Map<number, Application>();
  for (const app of root.field('applications').list().map(readApplication)) {
    if (applications.has(app.aid)) throw new ImageError('applications', `AID ${app.aid.toString(16)} appears twice`);
    applications.set(app.aid, app);
  }
  return {
    uid: root.field('uid').bytes(7, 7),
    capacity: root.field('capacity').oneOf(CAPACITIES),
    masterKeyType,
    masterKey: readSlot(root.field('masterKey'), masterKeyType),
    keySettings: root.field('keySettings').int(0, 0xff),
    formatDisabled: root.field('formatDisabled').bool(),
    randomUid: root.field('randomUid').bool(),
    defaultKey: { key: root.field('defaultKey').field('key').bytes(24, 24), version: root.field('defaultKey').field('version').int(0, 0xff) },
    ...(root.has('ats') ? { ats: root.field('ats').bytes(1, 20) } : {}),
    applications,
    production: { batch: production.field('batch').bytes(5, 5), week: production.field('week').int(0, 0xff), year: production.field('year').int(0, 0xff) },
    originalityKey: root.field('originalityKey').bytes(28, 28),
    vcKeys: new Map(root.field('vcKeys').list().map((k) => [k.field('keyNo').int(0x20, 0x23), readSlot(k, 'aes')] as const)),
  };
}

function readSlot(r: Reader, type: KeyType): KeySlot {
  const length = keyLength(type);
  return { key: r.field('key').bytes(length, length), version: r.field('version').int(0, 0xff) };
}

function readAccess(r: Reader): AccessRights {
  return { read: r.field('read').int(0, 15), write: r.field('write').int(0, 15), readWrite: r.field('readWrite').int(0, 15), change: r.field('change').int(0, 15) };
}

function readApplication(r: Reader): Application {
  const keyType = r.field('keyType').oneOf(KEY_TYPES);
  const keys = r.field('keys').list().map((k) => readSlot(k, keyType));
  if (keys.length < 1 || keys.length > 14) throw new ImageError(`${r.path}.keys`, 'an application has 1..14 keys');
  const files = new Map<number, CardFile>();
  for (const file of r.field('files').list().map(readFile)) {
    if (files.has(file.fileNo)) throw new ImageError(`${r.path}.files`, `file ${file.fileNo} appears twice`);
    files.set(file.fileNo, file);
  }
  return {
    aid: r.field('aid').int(1, 0xffffff),
    ...(r.has('isoFid') ? { isoFid: r.field('isoFid').int(0, 0xffff) } : {}),
    ...(r.has('dfName') ? { dfName: r.field('dfName').bytes(1, 16) } : {}),
    keySettings: r.field('keySettings').int(0, 0xff),
    keyType,
    keys,
    files,
    ...(r.has('keySets') ? { keySets: readKeySets(r.field('keySets'), keyType, keys.length) } : {}),
  };
}

/** `keySets` of an application (optional: images written before key sets, and applications without them, have none). */
function readKeySets(r: Reader, activeType: KeyType, keyCount: number): ApplicationKeySets {
  const count = r.field('count').int(2, 16);
  const maxKeySize = r.field('maxKeySize').int(16, 24);
  if (maxKeySize !== 16 && maxKeySize !== 24) throw new ImageError(`${r.path}.maxKeySize`, 'must be 16 or 24');
  if (keyLength(activeType) > maxKeySize) throw new ImageError(`${r.path}.maxKeySize`, `the application's ${activeType} keys do not fit`);
  const others = new Map<number, KeySet>();
  for (const s of r.field('others').list()) {
    const keySetNo = s.field('keySetNo').int(1, count - 1);
    if (others.has(keySetNo)) throw new ImageError(`${r.path}.others`, `key set ${keySetNo} appears twice`);
    const keyType = s.field('keyType').oneOf(KEY_SET_KEY_TYPES);
    if (keyLength(keyType) > maxKeySize) throw new ImageError(`${s.path}.keyType`, `${keyType} keys do not fit in maxKeySize ${maxKeySize}`);
    const keys = s.field('keys').list().map((k) => readSlot(k, keyType));
    if (keys.length !== keyCount) throw new ImageError(`${s.path}.keys`, `a key set has the application's ${keyCount} keys`);
    others.set(keySetNo, { keyType, keys, version: s.field('version').int(0, 0xff), finalized: s.field('finalized').bool() });
  }
  return { count, maxKeySize, rollKey: r.field('rollKey').int(0, keyCount - 1), activeVersion: r.field('activeVersion').int(0, 0xff), others };
}

/** The key types a key set can have (InitializeKeySet's KeySetType). */
const KEY_SET_KEY_TYPES: readonly KeyType[] = ['2k3des', '3k3des', 'aes'];

function readFile(r: Reader): CardFile {
  const type = FILE_TYPE_NAMES[r.field('type').oneOf(Object.keys(FILE_TYPE_NAMES) as FileTypeName[])];
  const base = {
    fileNo: r.field('fileNo').int(0, 31),
    ...(r.has('isoFid') ? { isoFid: r.field('isoFid').int(0, 0xffff) } : {}),
    commMode: r.field('commMode').oneOf(COMM_MODES),
    access: readAccess(r.field('access')),
  };
  switch (type) {
    case FileType.STANDARD:
    case FileType.BACKUP:
      return { ...base, type, data: r.field('data').bytes(0, 0xffffff) };
    case FileType.VALUE: {
      const lowerLimit = r.field('lowerLimit').int(-0x80000000, 0x7fffffff);
      const upperLimit = r.field('upperLimit').int(lowerLimit, 0x7fffffff);
      return {
        ...base,
        type,
        lowerLimit,
        upperLimit,
        value: r.field('value').int(lowerLimit, upperLimit),
        limitedCreditEnabled: r.field('limitedCreditEnabled').bool(),
        freeGetValue: r.field('freeGetValue').bool(),
        limitedCreditValue: r.field('limitedCreditValue').int(0, 0x7fffffff),
      };
    }
    case FileType.LINEAR_RECORD:
    case FileType.CYCLIC_RECORD: {
      const recordSize = r.field('recordSize').int(1, 0xffffff);
      const maxRecords = r.field('maxRecords').int(1, 0xffffff);
      const records = r.field('records').list().map((x) => x.bytes(recordSize, recordSize));
      if (records.length > maxRecords) throw new ImageError(`${r.path}.records`, `more than maxRecords (${maxRecords}) records`);
      return { ...base, type, recordSize, maxRecords, records };
    }
    case FileType.TRANSACTION_MAC:
      return {
        ...base,
        type,
        tmKey: r.field('tmKey').bytes(16, 16),
        tmKeyVersion: r.field('tmKeyVersion').int(0, 0xff),
        tmKeyOption: r.field('tmKeyOption').int(0, 0xff),
        tmc: r.field('tmc').int(0, 0xffffffff),
        tmv: r.field('tmv').bytes(0, 16),
        tmri: r.field('tmri').bytes(0, 16),
      };
  }
}
