import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from '../../../src/desfire/bytes.js';
import { cardDiversificationInput, diversifyAes128 } from '../../../src/desfire/crypto/an10922.js';
import { Cmac } from '../../../src/desfire/crypto/cmac.js';
import { createBlockCipher } from '../../../src/desfire/crypto/key-type.js';
import {
  FileKeyStore,
  GENERIC_PACS_KEY_REFS,
  MemoryKeyStore,
  type CardKeyRequest,
  type KeyUseEvent,
  type KnownKeySet,
  type ManagedKeyStore,
} from '../../../src/encoder/keys/index.js';
import { hex, loadVectors, text, type Vector } from '../../support/vectors.js';
import { FAST_SCRYPT, PASSPHRASE, recordingRandom, rejectsWith, secretSpellings, tempDir } from './support.js';

/**
 * The KeyStore contract, run against each implementation (as noble runs one suite per backend).
 * A new store (PKCS#11) joins by adding a row to BACKENDS.
 */
interface Backend {
  readonly name: string;
  make(keySets: readonly KnownKeySet[], options?: { random?: (n: number) => Uint8Array; onKeyUse?: (e: KeyUseEvent) => void }): Promise<ManagedKeyStore>;
}

const BACKENDS: Backend[] = [
  { name: 'MemoryKeyStore', make: async (keySets, options) => new MemoryKeyStore(keySets, options) },
  {
    name: 'FileKeyStore',
    make: async (keySets, options) => {
      const file = join(await tempDir(), 'keys.json');
      const store = await FileKeyStore.create(file, { kind: 'passphrase', passphrase: PASSPHRASE }, { scrypt: FAST_SCRYPT, ...options });
      for (const known of keySets) await store.importKeySet(known);
      return store;
    },
  },
];

const UID = fromHex('04112233445566');
const AID = 0xf48010;
const SYSTEM_ID = fromHex('4e585020416275');
const request = (over: Partial<CardKeyRequest> = {}): CardKeyRequest => ({
  keySet: 'test', version: 1, keyRef: 1, uid: UID, aid: AID, systemIdentifier: SYSTEM_ID, ...over,
});

/** The AN10922 AES-128 vectors, with M split into UID || AID || system identifier as a store takes it. */
function aesVectors(): { vector: Vector; uid: Uint8Array; aid: number; systemIdentifier: Uint8Array }[] {
  return loadVectors('an10922-diversification.json').vectors.filter((v) => text(v, 'algorithm') === 'aes128').map((vector) => {
    if (typeof vector.uid === 'string') {
      const aid = hex(vector, 'aid');
      return { vector, uid: hex(vector, 'uid'), aid: aid[0] | (aid[1] << 8) | (aid[2] << 16), systemIdentifier: hex(vector, 'systemIdentifier') };
    }
    // AN10957 gives M = 04deadbeeffeed only: the same 7 bytes as a 4-byte UID, a 3-byte AID and no system identifier.
    const m = hex(vector, 'divInput');
    return { vector, uid: m.subarray(0, 4), aid: m[4] | (m[5] << 8) | (m[6] << 16), systemIdentifier: m.subarray(7) };
  });
}

describe.each(BACKENDS)('KeyStore contract: $name', (backend) => {
  it.each(aesVectors())('reproduces $vector.name through cardKey', async ({ vector, uid, aid, systemIdentifier }) => {
    const master = hex(vector, 'masterKey');
    const store = await backend.make([{ name: 'an10922', versions: [{ version: 1, picc: master, applicationKeys: [master, master] }] }]);
    expect(cardDiversificationInput(uid, aid, systemIdentifier)).toEqual(hex(vector, 'divInput'));
    for (const keyRef of ['picc', 0, 1] as const) {
      const key = await store.cardKey({ keySet: 'an10922', version: 1, keyRef, uid, aid, systemIdentifier });
      expect(toHex(key)).toBe(text(vector, 'diversifiedKey'));
    }
    await store.close();
  });

  it('a new key set holds the generic-pacs-v1 key refs, current version 1', async () => {
    const store = await backend.make([]);
    const info = await store.createKeySet('dev');
    expect(info.name).toBe('dev');
    expect(info.currentVersion).toBe(1);
    expect(info.versions.map((v) => v.keyRefs)).toEqual([[GENERIC_PACS_KEY_REFS.piccMaster, GENERIC_PACS_KEY_REFS.applicationMaster, GENERIC_PACS_KEY_REFS.doorRead, GENERIC_PACS_KEY_REFS.issuerWrite]]);
    expect(await store.currentVersion('dev')).toBe(1);
    expect(await store.keySet('dev')).toEqual(info);
    expect(await store.listKeySets()).toEqual([info]);
    await store.close();
  });

  it('card keys are AN10922 of the random masters drawn, different per key, version, UID and AID', async () => {
    const { random, drawn } = recordingRandom();
    const store = await backend.make([], { random });
    await store.createKeySet('test', { applicationKeys: 2 });
    // Drawn in order: PICC master, then application keys 0 and 1.
    expect(drawn).toHaveLength(3);
    const expected = (master: Uint8Array, uid: Uint8Array, aid: number) =>
      toHex(diversifyAes128(new Cmac(createBlockCipher('aes', master)), cardDiversificationInput(uid, aid, SYSTEM_ID)));
    expect(toHex(await store.cardKey(request({ keyRef: 'picc', aid: 0 })))).toBe(expected(drawn[0], UID, 0));
    expect(toHex(await store.cardKey(request({ keyRef: 0 })))).toBe(expected(drawn[1], UID, AID));
    expect(toHex(await store.cardKey(request({ keyRef: 1 })))).toBe(expected(drawn[2], UID, AID));

    await store.addVersion('test');
    expect(drawn).toHaveLength(6);
    expect(toHex(await store.cardKey(request({ version: 2, keyRef: 1 })))).toBe(expected(drawn[5], UID, AID));

    const keys = new Set<string>();
    for (const over of [{}, { keyRef: 0 }, { version: 2 }, { uid: fromHex('04112233445567') }, { aid: AID + 1 }, { systemIdentifier: fromHex('00') }]) {
      keys.add(toHex(await store.cardKey(request(over))));
    }
    expect(keys.size).toBe(6);
    await store.close();
  });

  it('add-version keeps the current version unless asked; set-current switches', async () => {
    const store = await backend.make([]);
    await store.createKeySet('test', { applicationKeys: 1, picc: false });
    const v2 = await store.addVersion('test');
    expect(v2.version).toBe(2);
    expect(v2.keyRefs).toEqual([0]);
    expect(await store.currentVersion('test')).toBe(1);
    const v3 = await store.addVersion('test', { makeCurrent: true });
    expect(v3.version).toBe(3);
    expect(await store.currentVersion('test')).toBe(3);
    await store.setCurrentVersion('test', 2);
    expect((await store.keySet('test')).currentVersion).toBe(2);
    expect((await store.keySet('test')).versions.map((v) => v.version)).toEqual([1, 2, 3]);
    await store.close();
  });

  it('lists key sets sorted by name, never a secret', async () => {
    const { random, drawn } = recordingRandom();
    const known = fromHex('00112233445566778899aabbccddeeff');
    const store = await backend.make([{ name: 'zulu', versions: [{ version: 7, picc: known, applicationKeys: [known] }] }], { random });
    await store.createKeySet('alpha');
    await store.addVersion('alpha', { makeCurrent: true });
    const listing = await store.listKeySets();
    expect(listing.map((s) => s.name)).toEqual(['alpha', 'zulu']);
    expect(listing[1]).toMatchObject({ currentVersion: 7, versions: [{ version: 7, keyRefs: ['picc', 0] }] });
    const serialized = JSON.stringify(listing);
    for (const secret of secretSpellings([known, ...drawn])) expect(serialized).not.toContain(secret);
    // Nothing that looks like a key either: no 32-hex-digit run.
    expect(serialized).not.toMatch(/[0-9a-f]{32}/i);
    await store.close();
  });

  it('refuses unknown key sets, versions and key refs with their own codes', async () => {
    const store = await backend.make([]);
    await store.createKeySet('test', { applicationKeys: 3 });
    await rejectsWith(store.cardKey(request({ keySet: 'nope' })), 'UNKNOWN_KEY_SET');
    await rejectsWith(store.cardKey(request({ version: 2 })), 'UNKNOWN_VERSION');
    await rejectsWith(store.cardKey(request({ keyRef: 3 })), 'UNKNOWN_KEY_REF');
    await rejectsWith(store.cardKey(request({ keyRef: -1 })), 'UNKNOWN_KEY_REF');
    await rejectsWith(store.currentVersion('nope'), 'UNKNOWN_KEY_SET');
    await rejectsWith(store.keySet('nope'), 'UNKNOWN_KEY_SET');
    await rejectsWith(store.addVersion('nope'), 'UNKNOWN_KEY_SET');
    await rejectsWith(store.setCurrentVersion('test', 9), 'UNKNOWN_VERSION');
    await rejectsWith(store.createKeySet('test'), 'KEY_SET_EXISTS');
    const noPicc = await backend.make([{ name: 'apps', versions: [{ version: 1, applicationKeys: [new Uint8Array(16)] }] }]);
    await rejectsWith(noPicc.cardKey(request({ keySet: 'apps', keyRef: 'picc' })), 'UNKNOWN_KEY_REF');
    await store.close();
    await noPicc.close();
  });

  it.each([
    ['a 6-byte UID', { uid: new Uint8Array(6) }],
    ['an AID beyond 3 bytes', { aid: 0x1000000 }],
    ['a negative AID', { aid: -1 }],
    ['a system identifier too long for AN10922 (M > 31 bytes)', { systemIdentifier: new Uint8Array(22) }],
  ])('refuses %s (INVALID_ARGUMENT)', async (_, over) => {
    const store = await backend.make([]);
    await store.createKeySet('test');
    await rejectsWith(store.cardKey(request(over)), 'INVALID_ARGUMENT');
    // The longest M that fits: 7 + 3 + 21 = 31 bytes.
    expect(await store.cardKey(request({ systemIdentifier: new Uint8Array(21) }))).toHaveLength(16);
    await store.close();
  });

  it.each([
    ['a bad name', () => ({ name: 'no spaces' })],
    ['no versions', () => ({ name: 'x', versions: [] })],
    ['version 0 (the factory key version)', () => ({ name: 'x', versions: [{ version: 0, applicationKeys: [new Uint8Array(16)] }] })],
    ['version 256', () => ({ name: 'x', versions: [{ version: 256, applicationKeys: [new Uint8Array(16)] }] })],
    ['a DES-length master', () => ({ name: 'x', versions: [{ version: 1, applicationKeys: [new Uint8Array(8)] }] })],
    ['15 application keys', () => ({ name: 'x', versions: [{ version: 1, applicationKeys: Array.from({ length: 15 }, () => new Uint8Array(16)) }] })],
    ['a current version not given', () => ({ name: 'x', currentVersion: 2, versions: [{ version: 1, applicationKeys: [new Uint8Array(16)] }] })],
  ])('import refuses %s (INVALID_ARGUMENT)', async (_, known) => {
    const store = await backend.make([]);
    await rejectsWith(store.importKeySet(known() as unknown as KnownKeySet), 'INVALID_ARGUMENT');
    expect(await store.listKeySets()).toEqual([]);
    await store.close();
  });

  it('refuses bad key set options', async () => {
    const store = await backend.make([]);
    await rejectsWith(store.createKeySet('../etc'), 'INVALID_ARGUMENT');
    await rejectsWith(store.createKeySet('x', { applicationKeys: 0 }), 'INVALID_ARGUMENT');
    await rejectsWith(store.createKeySet('x', { applicationKeys: 15 }), 'INVALID_ARGUMENT');
    await store.close();
  });

  it('stops at version 255, the highest a card stores', async () => {
    const master = new Uint8Array(16);
    const store = await backend.make([{ name: 'old', versions: [{ version: 255, applicationKeys: [master] }] }]);
    await rejectsWith(store.addVersion('old'), 'VERSION_LIMIT');
    await store.close();
  });

  it('copies the masters it is given: wiping the caller\'s array changes nothing', async () => {
    const master = fromHex('00112233445566778899aabbccddeeff');
    const store = await backend.make([{ name: 'k', versions: [{ version: 1, applicationKeys: [master] }] }]);
    const before = await store.cardKey(request({ keySet: 'k', keyRef: 0 }));
    master.fill(0);
    expect(await store.cardKey(request({ keySet: 'k', keyRef: 0 }))).toEqual(before);
    await store.close();
  });

  it('tells the key-use listener of every card key, without the key', async () => {
    const events: KeyUseEvent[] = [];
    const store = await backend.make([], { onKeyUse: (e) => events.push(e) });
    await store.createKeySet('test');
    const key = await store.cardKey(request({ keyRef: 2 }));
    expect(events).toEqual([{ keySet: 'test', version: 1, keyRef: 2, aid: AID, uid: UID }]);
    expect(JSON.stringify(events, (_, v) => (v instanceof Uint8Array ? toHex(v) : v))).not.toContain(toHex(key));
    await rejectsWith(store.cardKey(request({ keyRef: 9 })), 'UNKNOWN_KEY_REF');
    expect(events).toHaveLength(1);
    await store.close();
  });

  it('after close every call fails with CLOSED; close twice is fine', async () => {
    const store = await backend.make([]);
    await store.createKeySet('test');
    await store.close();
    await store.close();
    await rejectsWith(store.cardKey(request()), 'CLOSED');
    await rejectsWith(store.listKeySets(), 'CLOSED');
    await rejectsWith(store.currentVersion('test'), 'CLOSED');
    await rejectsWith(store.createKeySet('other'), 'CLOSED');
  });

  it('exposes no master: no property, getter or serialization of the store holds one', async () => {
    const { random, drawn } = recordingRandom();
    const store = await backend.make([], { random });
    await store.createKeySet('test');
    const seen = JSON.stringify(store) + Object.getOwnPropertyNames(Object.getPrototypeOf(store)).join(',') + Object.keys(store).join(',');
    for (const secret of secretSpellings(drawn)) expect(seen).not.toContain(secret);
    expect(Object.getOwnPropertyNames(Object.getPrototypeOf(store)).filter((n) => /master|secret|kek|raw|export/i.test(n))).toEqual([]);
    await store.close();
  });
});

describe('cardKey request M', () => {
  it('is UID || AID (LSB first) || system identifier', () => {
    expect(cardDiversificationInput(UID, AID, SYSTEM_ID)).toEqual(concat(UID, fromHex('1080f4'), SYSTEM_ID));
  });
});
