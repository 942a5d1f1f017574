import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DesfireClient } from '../../../src/encoder/client/desfire-client.js';
import { TransportError } from '../../../src/encoder/transport-error.js';
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { AID, GET_VERSION, storeError, tempDir } from './support.js';

const stores: VirtualCardStore[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function open(path = ':memory:'): VirtualCardStore {
  const store = VirtualCardStore.open({ path });
  stores.push(store);
  return store;
}

/** CreateApplication of AID 0A0B0C, one AES key, free create/delete: one persistent write. */
const CREATE_APPLICATION = Uint8Array.of(0x90, 0xca, 0x00, 0x00, 0x05, 0x0c, 0x0b, 0x0a, 0x0f, 0x81, 0x00);
const GET_APPLICATION_IDS = Uint8Array.of(0x90, 0x6a, 0x00, 0x00, 0x00);
const OK = Uint8Array.of(0x91, 0x00);

/** How a promise ended, without waiting for it. */
function watch<T>(promise: Promise<T>): { readonly state: 'pending' | 'resolved' | 'rejected'; readonly promise: Promise<T> } {
  const watched = { state: 'pending' as 'pending' | 'resolved' | 'rejected', promise };
  promise.then(
    () => (watched.state = 'resolved'),
    () => (watched.state = 'rejected'),
  );
  return watched;
}

describe('VirtualCardStore: tearing', () => {
  it('loses power at the armed write: no answer, no change, the fault spent; the card answers again next APDU', async () => {
    const store = open();
    const card = store.create();
    expect(store.setFaults(card.id, { tearAtWrite: 1, delayMs: 0 }).faults).toEqual({ tearAtWrite: 1, delayMs: 0 });
    await expect(store.transceive(card.id, CREATE_APPLICATION)).rejects.toBeInstanceOf(TransportError);
    expect(store.get(card.id)).toMatchObject({ applicationIds: [], faults: { tearAtWrite: 0, delayMs: 0 } });
    expect(await store.transceive(card.id, GET_APPLICATION_IDS)).toEqual(OK);
    await new DesfireClient(store.transport(card.id)).createApplication({ aid: AID, keySettings: 0x0f, keyType: 'aes', keyCount: 1 });
    expect(store.get(card.id).applicationIds).toEqual([AID]);
  });

  it('counts the writes down across restarts of the store', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const path = join(dir.dir, 'virtual-cards.db');
    const first = open(path);
    const card = first.create();
    first.setFaults(card.id, { tearAtWrite: 2, delayMs: 0 });
    expect(await first.transceive(card.id, CREATE_APPLICATION)).toEqual(OK);
    expect(first.get(card.id).faults.tearAtWrite).toBe(1);
    first.close();

    const second = open(path);
    const client = new DesfireClient(second.transport(card.id));
    await client.selectApplication(AID);
    await expect(client.createStdDataFile(1, 'plain', { read: 0xe, write: 0xe, readWrite: 0xe, change: 0xe }, 16)).rejects.toBeInstanceOf(TransportError);
    expect(second.get(card.id).faults.tearAtWrite).toBe(0);
    await client.selectApplication(AID);
    expect(await client.getFileIds()).toEqual([]);
  });

  it('disarms with zero', async () => {
    const store = open();
    const card = store.create();
    store.setFaults(card.id, { tearAtWrite: 1, delayMs: 0 });
    store.setFaults(card.id, { tearAtWrite: 0, delayMs: 0 });
    expect(await store.transceive(card.id, CREATE_APPLICATION)).toEqual(OK);
  });

  it.each([
    [{ tearAtWrite: -1, delayMs: 0 }, 'faults.tear_at_write'],
    [{ tearAtWrite: 1.5, delayMs: 0 }, 'faults.tear_at_write'],
    [{ tearAtWrite: 0, delayMs: 10_001 }, 'faults.delay_ms'],
    [{ tearAtWrite: 0, delayMs: -1 }, 'faults.delay_ms'],
  ])('refuses faults %o, naming %s, and keeps the old ones', async (faults, field) => {
    const store = open();
    const card = store.create();
    store.setFaults(card.id, { tearAtWrite: 3, delayMs: 1 });
    expect(await storeError(() => store.setFaults(card.id, faults))).toMatchObject({ code: 'INVALID_ARGUMENT', field });
    expect(store.get(card.id).faults).toEqual({ tearAtWrite: 3, delayMs: 1 });
  });

  it('refuses faults for an unknown card', async () => {
    const store = open();
    expect(await storeError(() => store.setFaults('no-such-card', { tearAtWrite: 0, delayMs: 0 }))).toMatchObject({ code: 'UNKNOWN_CARD', field: 'card_id' });
  });
});

describe('VirtualCardStore: answer delay', () => {
  it('holds back one card while the others answer; closing the store ends the wait', async () => {
    const store = open();
    const slow = store.create();
    const fast = store.create();
    store.setFaults(slow.id, { tearAtWrite: 0, delayMs: 10_000 });
    const delayed = watch(store.transceive(slow.id, CREATE_APPLICATION));
    expect(await store.transceive(fast.id, CREATE_APPLICATION)).toEqual(OK);
    expect(await store.transceive(fast.id, GET_VERSION)).toHaveLength(9);
    expect(delayed.state).toBe('pending');
    store.close();
    expect(await storeError(() => delayed.promise)).toMatchObject({ code: 'CLOSED' });
  });

  it('keeps one card\'s APDUs in order; an APDU abandoned during its delay never reaches the card', async () => {
    const store = open();
    const card = store.create();
    const other = store.create();
    store.setFaults(card.id, { tearAtWrite: 0, delayMs: 10_000 });
    const abandon = new AbortController();
    const first = watch(store.transceive(card.id, CREATE_APPLICATION, abandon.signal));
    await store.transceive(other.id, GET_VERSION);
    // The first APDU is in its delay; the second, without one, waits its turn all the same.
    store.setFaults(card.id, { tearAtWrite: 0, delayMs: 0 });
    const second = watch(store.transceive(card.id, GET_APPLICATION_IDS));
    await store.transceive(other.id, GET_VERSION);
    expect([first.state, second.state]).toEqual(['pending', 'pending']);

    abandon.abort(new Error('reader gone'));
    await expect(first.promise).rejects.toThrow('reader gone');
    // GetApplicationIDs, answered after the abandoned CreateApplication: no application.
    expect(await second.promise).toEqual(OK);
    expect(store.get(card.id).applicationIds).toEqual([]);
  });
});
