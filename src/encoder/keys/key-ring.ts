import { cardDiversificationInput, diversifyAes128 } from '../../desfire/crypto/an10922.js';
import { Cmac } from '../../desfire/crypto/cmac.js';
import { createBlockCipher } from '../../desfire/crypto/key-type.js';
import { systemRandom, type RandomSource } from '../../desfire/random.js';
import { KeyStoreError } from './errors.js';
import {
  MAX_APPLICATION_KEYS,
  MAX_KEY_VERSION,
  PICC_MASTER_KEY,
  type CardKeyRequest,
  type CreateKeySetOptions,
  type KeyRef,
  type KeySetInfo,
  type KeyVersionInfo,
  type KnownKeySet,
} from './key-store.js';

/**
 * The masters of the key stores that hold them in process memory, and the only code that
 * touches them. Internal to `src/encoder/keys/`: `index.ts` does not export it. Masters live in
 * private fields of `MasterKey` and go out only as the payload the key file encrypts.
 */

export const MASTER_KEY_LENGTH = 16;
const UID_LENGTHS: readonly number[] = [4, 7, 10];
const KEY_SET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DEFAULT_APPLICATION_KEYS = 3;

/** One AES-128 master. Its CMAC (and OpenSSL context) is made on first use and kept. */
class MasterKey {
  readonly #bytes: Uint8Array;
  #cmac: Cmac | undefined;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== MASTER_KEY_LENGTH) throw new KeyStoreError('INVALID_ARGUMENT', `a master key must be ${MASTER_KEY_LENGTH} bytes, got ${bytes.length}`);
    this.#bytes = bytes.slice();
  }

  diversify(m: Uint8Array): Uint8Array {
    this.#cmac ??= new Cmac(createBlockCipher('aes', this.#bytes));
    return diversifyAes128(this.#cmac, m);
  }

  /** Copies the key into the payload being built for encryption. */
  writeTo(target: Uint8Array, offset: number): void {
    target.set(this.#bytes, offset);
  }

  /**
   * Wipes our copy and the cipher's. The CMAC subkeys K1/K2 sit in private fields of `Cmac`,
   * which has no destroy(): they go with the object, to the garbage collector.
   */
  wipe(): void {
    this.#bytes.fill(0);
    this.#cmac?.destroy();
    this.#cmac = undefined;
  }
}

interface VersionRecord {
  readonly version: number;
  readonly createdAt: string;
  readonly picc: MasterKey | undefined;
  readonly application: readonly MasterKey[];
}

interface KeySetRecord {
  readonly name: string;
  currentVersion: number;
  /** By version number, kept in increasing order. */
  readonly versions: Map<number, VersionRecord>;
}

/**
 * A change to the ring, prepared (validated, its masters drawn) but not yet applied, so a store
 * can persist the ring as it will be before anyone sees the change:
 * `apply(); payload = encodePayload(); revert();` then, once the payload is safely written,
 * `apply()` again; or `discard()` when the write failed. Nothing may change the ring between
 * preparing and the final `apply()` (the file store serialises its changes).
 */
export class Change<T> {
  readonly result: T;
  readonly #steps: { apply(): void; revert(): void; discard(): void };

  constructor(result: T, steps: { apply(): void; revert(): void; discard(): void }) {
    this.result = result;
    this.#steps = steps;
  }

  apply(): void {
    this.#steps.apply();
  }

  revert(): void {
    this.#steps.revert();
  }

  /** Wipes the masters the change drew; only for a change that is not applied. */
  discard(): void {
    this.#steps.discard();
  }
}

export class KeyRing {
  readonly #sets = new Map<string, KeySetRecord>();
  readonly #random: RandomSource;
  #closed = false;

  constructor(random: RandomSource = systemRandom) {
    this.#random = random;
  }

  get closed(): boolean {
    return this.#closed;
  }

  cardKey(request: CardKeyRequest): Uint8Array {
    this.#open();
    const { keySet, version, keyRef, uid, aid, systemIdentifier } = request ?? ({} as CardKeyRequest);
    if (!(uid instanceof Uint8Array) || !UID_LENGTHS.includes(uid.length)) {
      throw new KeyStoreError('INVALID_ARGUMENT', `the UID must be ${UID_LENGTHS.join(', ')} bytes`);
    }
    if (!Number.isInteger(aid) || aid < 0 || aid > 0xffffff) throw new KeyStoreError('INVALID_ARGUMENT', `AID ${String(aid)} is not 3 bytes`);
    if (!(systemIdentifier instanceof Uint8Array)) throw new KeyStoreError('INVALID_ARGUMENT', 'the system identifier must be a Uint8Array');
    const m = cardDiversificationInput(uid, aid, systemIdentifier);
    if (m.length > 31) {
      throw new KeyStoreError('INVALID_ARGUMENT', `UID || AID || system identifier is ${m.length} bytes; AN10922 AES-128 takes at most 31 (system identifier too long)`);
    }
    return this.#master(keySet, version, keyRef).diversify(m);
  }

  list(): KeySetInfo[] {
    this.#open();
    return [...this.#sets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(setInfo);
  }

  info(name: string): KeySetInfo {
    this.#open();
    return setInfo(this.#set(name));
  }

  currentVersion(name: string): number {
    this.#open();
    return this.#set(name).currentVersion;
  }

  /** A new key set with version 1 (current) of random masters. */
  createKeySet(name: string, options: CreateKeySetOptions, now: Date): Change<KeySetInfo> {
    this.#open();
    checkName(name);
    if (this.#sets.has(name)) throw new KeyStoreError('KEY_SET_EXISTS', `key set "${name}" already exists`);
    const count = options.applicationKeys ?? DEFAULT_APPLICATION_KEYS;
    if (!Number.isInteger(count) || count < 1 || count > MAX_APPLICATION_KEYS) {
      throw new KeyStoreError('INVALID_ARGUMENT', `a key set has 1..${MAX_APPLICATION_KEYS} application keys, got ${String(count)}`);
    }
    const picc = options.picc ?? true;
    if (typeof picc !== 'boolean') throw new KeyStoreError('INVALID_ARGUMENT', 'the picc option is true or false');
    const version = this.#randomVersion(1, picc, count, now);
    return this.#addSetChange({ name, currentVersion: 1, versions: new Map([[1, version]]) });
  }

  /** A new version (highest + 1) of random masters, with the key refs of the current version. */
  addVersion(name: string, makeCurrent: boolean, now: Date): Change<KeyVersionInfo> {
    this.#open();
    const set = this.#set(name);
    const highest = Math.max(...set.versions.keys());
    if (highest >= MAX_KEY_VERSION) throw new KeyStoreError('VERSION_LIMIT', `key set "${name}" already has version ${MAX_KEY_VERSION}, the highest a card stores`);
    const model = set.versions.get(set.currentVersion)!;
    const record = this.#randomVersion(highest + 1, model.picc !== undefined, model.application.length, now);
    let previous = set.currentVersion;
    return new Change(versionInfo(record), {
      apply: () => {
        previous = set.currentVersion;
        set.versions.set(record.version, record);
        if (makeCurrent) set.currentVersion = record.version;
      },
      revert: () => {
        set.versions.delete(record.version);
        set.currentVersion = previous;
      },
      discard: () => wipeVersion(record),
    });
  }

  setCurrentVersion(name: string, version: number): Change<void> {
    this.#open();
    const set = this.#set(name);
    this.#version(set, version);
    let previous = set.currentVersion;
    return new Change(undefined, {
      apply: () => {
        previous = set.currentVersion;
        set.currentVersion = version;
      },
      revert: () => {
        set.currentVersion = previous;
      },
      discard: () => {},
    });
  }

  importKeySet(known: KnownKeySet, now: Date): Change<KeySetInfo> {
    this.#open();
    const record = knownRecord(known, now);
    if (this.#sets.has(record.name)) {
      record.versions.forEach(wipeVersion);
      throw new KeyStoreError('KEY_SET_EXISTS', `key set "${record.name}" already exists`);
    }
    return this.#addSetChange(record);
  }

  /**
   * The secret payload the key file encrypts: u32 big-endian length of the metadata, the
   * metadata as JSON (UTF-8, no secrets: the listing), then the masters, 16 bytes each, in
   * metadata order (per set, per version: PICC key when present, then application keys 0..n-1).
   * The caller wipes it after encryption.
   */
  encodePayload(): Uint8Array {
    this.#open();
    const sets = [...this.#sets.values()];
    const metadata: PayloadMetadata = {
      keySets: sets.map((set) => ({
        name: set.name,
        currentVersion: set.currentVersion,
        versions: [...set.versions.values()].map((v) => ({
          version: v.version,
          createdAt: v.createdAt,
          picc: v.picc !== undefined,
          applicationKeys: v.application.length,
        })),
      })),
    };
    const masters = sets.flatMap((set) => [...set.versions.values()].flatMap((v) => (v.picc ? [v.picc, ...v.application] : [...v.application])));
    const json = new TextEncoder().encode(JSON.stringify(metadata));
    const out = new Uint8Array(4 + json.length + MASTER_KEY_LENGTH * masters.length);
    new DataView(out.buffer).setUint32(0, json.length);
    out.set(json, 4);
    masters.forEach((master, i) => master.writeTo(out, 4 + json.length + i * MASTER_KEY_LENGTH));
    return out;
  }

  /** Reads a payload written by `encodePayload` (already authenticated by AES-GCM). Does not wipe `payload`. */
  static decodePayload(payload: Uint8Array, random?: RandomSource): KeyRing {
    const ring = new KeyRing(random);
    try {
      if (payload.length < 4) throw malformed('payload shorter than its length field');
      const length = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
      if (4 + length > payload.length) throw malformed('payload metadata runs past its end');
      let metadata: unknown;
      try {
        metadata = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(4, 4 + length)));
      } catch (error) {
        throw malformed('payload metadata is not JSON', error);
      }
      let offset = 4 + length;
      const take = (): MasterKey => {
        if (offset + MASTER_KEY_LENGTH > payload.length) throw malformed('payload holds fewer keys than its metadata lists');
        const master = new MasterKey(payload.subarray(offset, offset + MASTER_KEY_LENGTH));
        offset += MASTER_KEY_LENGTH;
        return master;
      };
      for (const set of parseMetadata(metadata).keySets) {
        if (ring.#sets.has(set.name)) throw malformed(`key set "${set.name}" appears twice`);
        const record: KeySetRecord = { name: set.name, currentVersion: set.currentVersion, versions: new Map() };
        ring.#sets.set(set.name, record);
        for (const v of set.versions) {
          if (record.versions.has(v.version)) throw malformed(`key set "${set.name}" has version ${v.version} twice`);
          const picc = v.picc ? take() : undefined;
          const application = Array.from({ length: v.applicationKeys }, take);
          record.versions.set(v.version, { version: v.version, createdAt: v.createdAt, picc, application });
        }
        if (!record.versions.has(record.currentVersion)) throw malformed(`key set "${set.name}": current version ${record.currentVersion} does not exist`);
        sortVersions(record);
      }
      if (offset !== payload.length) throw malformed('payload holds more keys than its metadata lists');
      return ring;
    } catch (error) {
      ring.wipe();
      throw error;
    }
  }

  /** Wipes every master; the ring is unusable afterwards. */
  wipe(): void {
    for (const set of this.#sets.values()) set.versions.forEach(wipeVersion);
    this.#sets.clear();
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new KeyStoreError('CLOSED', 'the key store is closed');
  }

  #set(name: string): KeySetRecord {
    const set = typeof name === 'string' ? this.#sets.get(name) : undefined;
    if (set === undefined) throw new KeyStoreError('UNKNOWN_KEY_SET', `no key set "${String(name)}"`);
    return set;
  }

  #version(set: KeySetRecord, version: number): VersionRecord {
    const record = set.versions.get(version);
    if (record === undefined) throw new KeyStoreError('UNKNOWN_VERSION', `key set "${set.name}" has no version ${String(version)}`);
    return record;
  }

  #master(keySet: string, version: number, keyRef: KeyRef): MasterKey {
    const record = this.#version(this.#set(keySet), version);
    const master = keyRef === PICC_MASTER_KEY ? record.picc : Number.isInteger(keyRef) ? record.application[keyRef as number] : undefined;
    if (master === undefined) throw new KeyStoreError('UNKNOWN_KEY_REF', `key set "${keySet}" version ${version} has no ${describeKeyRef(keyRef)}`);
    return master;
  }

  #randomVersion(version: number, picc: boolean, applicationKeys: number, now: Date): VersionRecord {
    const fresh = (): MasterKey => {
      const bytes = this.#random(MASTER_KEY_LENGTH);
      try {
        return new MasterKey(bytes);
      } finally {
        bytes.fill(0);
      }
    };
    return { version, createdAt: now.toISOString(), picc: picc ? fresh() : undefined, application: Array.from({ length: applicationKeys }, fresh) };
  }

  #addSetChange(record: KeySetRecord): Change<KeySetInfo> {
    return new Change(setInfo(record), {
      apply: () => void this.#sets.set(record.name, record),
      revert: () => void this.#sets.delete(record.name),
      discard: () => record.versions.forEach(wipeVersion),
    });
  }
}

export function describeKeyRef(keyRef: unknown): string {
  return keyRef === PICC_MASTER_KEY ? 'PICC master key' : typeof keyRef === 'number' ? `application key ${keyRef}` : `key ref ${JSON.stringify(keyRef)}`;
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !KEY_SET_NAME.test(name)) {
    throw new KeyStoreError('INVALID_ARGUMENT', `key set name ${JSON.stringify(name)}: 1..64 characters, letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
}

function checkVersionNumber(version: unknown, where: string): asserts version is number {
  if (!Number.isInteger(version) || (version as number) < 1 || (version as number) > MAX_KEY_VERSION) {
    throw new KeyStoreError('INVALID_ARGUMENT', `${where}: a version is 1..${MAX_KEY_VERSION}, got ${String(version)}`);
  }
}

function knownRecord(known: KnownKeySet, now: Date): KeySetRecord {
  checkName(known?.name);
  if (!Array.isArray(known.versions) || known.versions.length === 0) throw new KeyStoreError('INVALID_ARGUMENT', `key set "${known.name}": no versions given`);
  const record: KeySetRecord = { name: known.name, currentVersion: 0, versions: new Map() };
  try {
    for (const v of known.versions) {
      checkVersionNumber(v.version, `key set "${known.name}"`);
      if (record.versions.has(v.version)) throw new KeyStoreError('INVALID_ARGUMENT', `key set "${known.name}": version ${v.version} given twice`);
      const keys = v.applicationKeys;
      if (!Array.isArray(keys) || keys.length < 1 || keys.length > MAX_APPLICATION_KEYS) {
        throw new KeyStoreError('INVALID_ARGUMENT', `key set "${known.name}" version ${v.version}: 1..${MAX_APPLICATION_KEYS} application keys`);
      }
      const createdAt = v.createdAt ?? now.toISOString();
      if (Number.isNaN(Date.parse(createdAt))) throw new KeyStoreError('INVALID_ARGUMENT', `key set "${known.name}" version ${v.version}: createdAt is not a date`);
      for (const key of [...keys, ...(v.picc ? [v.picc] : [])]) {
        if (!(key instanceof Uint8Array) || key.length !== MASTER_KEY_LENGTH) {
          throw new KeyStoreError('INVALID_ARGUMENT', `key set "${known.name}" version ${v.version}: master keys are ${MASTER_KEY_LENGTH}-byte Uint8Arrays (AES-128)`);
        }
      }
      record.versions.set(v.version, {
        version: v.version,
        createdAt: new Date(createdAt).toISOString(),
        picc: v.picc ? new MasterKey(v.picc) : undefined,
        application: keys.map((k) => new MasterKey(k)),
      });
    }
    const current = known.currentVersion ?? Math.max(...record.versions.keys());
    if (!record.versions.has(current)) throw new KeyStoreError('INVALID_ARGUMENT', `key set "${known.name}": current version ${String(current)} is not among the versions given`);
    record.currentVersion = current;
    sortVersions(record);
    return record;
  } catch (error) {
    record.versions.forEach(wipeVersion);
    throw error;
  }
}

function sortVersions(record: KeySetRecord): void {
  const sorted = [...record.versions.values()].sort((a, b) => a.version - b.version);
  record.versions.clear();
  for (const v of sorted) record.versions.set(v.version, v);
}

function wipeVersion(record: VersionRecord): void {
  record.picc?.wipe();
  record.application.forEach((m) => m.wipe());
}

function versionInfo(record: VersionRecord): KeyVersionInfo {
  const keyRefs: KeyRef[] = record.picc ? [PICC_MASTER_KEY] : [];
  record.application.forEach((_, i) => keyRefs.push(i));
  return { version: record.version, createdAt: record.createdAt, keyRefs };
}

function setInfo(record: KeySetRecord): KeySetInfo {
  return { name: record.name, currentVersion: record.currentVersion, versions: [...record.versions.values()].map(versionInfo) };
}

interface PayloadMetadata {
  readonly keySets: readonly {
    readonly name: string;
    readonly currentVersion: number;
    readonly versions: readonly { readonly version: number; readonly createdAt: string; readonly picc: boolean; readonly applicationKeys: number }[];
  }[];
}

function parseMetadata(value: unknown): PayloadMetadata {
  const root = record(value, 'payload metadata', ['keySets']);
  if (!Array.isArray(root.keySets)) throw malformed('payload metadata: keySets is not a list');
  for (const item of root.keySets) {
    const set = record(item, 'a key set', ['name', 'currentVersion', 'versions']);
    try {
      checkName(set.name);
      checkVersionNumber(set.currentVersion, `key set "${String(set.name)}"`);
    } catch (error) {
      throw malformed(`payload metadata: ${(error as Error).message}`);
    }
    if (!Array.isArray(set.versions) || set.versions.length === 0) throw malformed(`key set "${set.name}" has no versions`);
    for (const entry of set.versions) {
      const v = record(entry, `a version of key set "${set.name}"`, ['version', 'createdAt', 'picc', 'applicationKeys']);
      try {
        checkVersionNumber(v.version, `key set "${set.name}"`);
      } catch (error) {
        throw malformed(`payload metadata: ${(error as Error).message}`);
      }
      const keys = v.applicationKeys;
      if (typeof v.createdAt !== 'string' || Number.isNaN(Date.parse(v.createdAt)) || typeof v.picc !== 'boolean'
        || !Number.isInteger(keys) || (keys as number) < 1 || (keys as number) > MAX_APPLICATION_KEYS) {
        throw malformed(`key set "${set.name}" version ${v.version}: bad createdAt, picc or applicationKeys`);
      }
    }
  }
  return root as unknown as PayloadMetadata;
}

function record(value: unknown, what: string, fields: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${what} is not an object`);
  const keys = Object.keys(value);
  if (keys.length !== fields.length || !fields.every((f) => keys.includes(f))) throw malformed(`${what} must have exactly the fields ${fields.join(', ')}`);
  return value as Record<string, unknown>;
}

function malformed(detail: string, cause?: unknown): KeyStoreError {
  return new KeyStoreError('MALFORMED_FILE', `key file: ${detail}`, { cause });
}
