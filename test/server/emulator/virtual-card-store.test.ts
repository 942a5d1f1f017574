import { afterEach, describe, expect, it } from 'vitest';
import { fromHex } from '../../../src/desfire/bytes.js';
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { ADDITIONAL_FRAME, AID, GET_VERSION, readTestFile, storeError, testData, writeTestFile } from './support.js';

let store: VirtualCardStore;
afterEach(() => store?.close());

const open = (): VirtualCardStore => (store = VirtualCardStore.open({ path: ':memory:' }));

describe('VirtualCardStore: cards', () => {
  it('creates a factory-fresh card with a random NXP UID by default, and finds it by id and by UID', () => {
    open();
    const card = store.create();
    expect(card.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(card.uid).toHaveLength(7);
    expect(card.uid[0]).toBe(0x04);
    expect(card).toMatchObject({ capacityBytes: 8192, randomUid: false, applicationIds: [], faults: { tearAtWrite: 0, delayMs: 0 }, stationId: undefined });
    expect(new Date(card.createdAt).toISOString()).toBe(card.createdAt);
    expect(store.get(card.id)).toEqual(card);
    expect(store.findByUid(card.uid)).toEqual(card);
    expect(store.findByUid(fromHex('04000000000000'))).toBeUndefined();
  });

  it('takes the UID, capacity, random UID and station asked for', () => {
    open();
    const card = store.create({ uid: fromHex('04112233445566'), capacityBytes: 2048, randomUid: true, stationId: 'station-1' });
    expect(card).toMatchObject({ uid: fromHex('04112233445566'), capacityBytes: 2048, randomUid: true, stationId: 'station-1' });
  });

  it('keeps UIDs unique, also for cards made from images', async () => {
    open();
    const first = store.create({ uid: fromHex('04112233445566') });
    expect(await storeError(() => store.create({ uid: fromHex('04112233445566') }))).toMatchObject({ code: 'UID_TAKEN', field: 'uid' });
    const image = JSON.parse(store.exportImage(first.id));
    expect(await storeError(() => store.create({ image }))).toMatchObject({ code: 'UID_TAKEN', field: 'image.uid' });
    expect(store.list().cards).toHaveLength(1);
  });

  it.each([
    ['a 6-byte UID', { uid: fromHex('041122334455') }, 'INVALID_ARGUMENT', 'uid'],
    ['an unknown capacity', { capacityBytes: 1024 }, 'INVALID_ARGUMENT', 'capacity_bytes'],
    ['an image with a UID', { image: {}, uid: fromHex('04112233445566') }, 'INVALID_ARGUMENT', 'uid'],
    ['an image with random UID', { image: {}, randomUid: true }, 'INVALID_ARGUMENT', 'random_uid'],
    ['an image with a capacity', { image: {}, capacityBytes: 4096 }, 'INVALID_ARGUMENT', 'capacity_bytes'],
    ['an image that is not an object', { image: 42 }, 'INVALID_IMAGE', 'image'],
    ['an image of another format', { image: { format: 'other' } }, 'INVALID_IMAGE', 'image.format'],
    ['an empty station id', { stationId: '' }, 'INVALID_ARGUMENT', 'station_id'],
  ] as const)('refuses %s, naming the field, and stores nothing', async (_, input, code, field) => {
    open();
    expect(await storeError(() => store.create(input))).toMatchObject({ code, field });
    expect(store.list().cards).toEqual([]);
  });

  it('names the field of a damaged image', async () => {
    open();
    const image = JSON.parse(store.exportImage(store.create().id));
    image.applications = [{ aid: 1, keySettings: 0x0f, keyType: 'aes', keys: [], files: [] }];
    expect(await storeError(() => store.create({ image }))).toMatchObject({ code: 'INVALID_IMAGE', field: 'image.applications[0].keys' });
  });

  it('deletes a card: it is gone, and so are APDUs to it', async () => {
    open();
    const card = store.create();
    store.delete(card.id);
    expect(await storeError(() => store.get(card.id))).toMatchObject({ code: 'UNKNOWN_CARD', field: 'card_id' });
    expect(await storeError(() => store.delete(card.id))).toMatchObject({ code: 'UNKNOWN_CARD' });
    expect(await storeError(() => store.transceive(card.id, GET_VERSION))).toMatchObject({ code: 'UNKNOWN_CARD' });
    expect(await storeError(() => store.exportImage(card.id))).toMatchObject({ code: 'UNKNOWN_CARD' });
    expect(await storeError(() => store.transport(card.id))).toMatchObject({ code: 'UNKNOWN_CARD' });
    expect(store.findByUid(card.uid)).toBeUndefined();
  });

  it('refuses APDUs of no bytes or more than 261', async () => {
    open();
    const card = store.create();
    expect(await storeError(() => store.transceive(card.id, new Uint8Array(0)))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'apdu' });
    expect(await storeError(() => store.transceive(card.id, new Uint8Array(262)))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'apdu' });
    expect(await store.transceive(card.id, new Uint8Array(261))).toBeInstanceOf(Uint8Array);
  });

  it('fails every call with CLOSED once closed', async () => {
    open();
    const card = store.create();
    store.close();
    store.close();
    expect(store.closed).toBe(true);
    for (const call of [() => store.get(card.id), () => store.create(), () => store.list(), () => store.transceive(card.id, GET_VERSION)]) {
      expect(await storeError(call)).toMatchObject({ code: 'CLOSED' });
    }
  });
});

describe('VirtualCardStore: listing', () => {
  it('pages through cards in id order, with a stable token', () => {
    open();
    const ids = Array.from({ length: 5 }, () => store.create().id).sort();
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = store.list({ pageSize: 2, pageToken: token });
      seen.push(...page.cards.map((c) => c.id));
      token = page.nextPageToken;
      pages++;
    } while (token !== '');
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
    expect(store.list({ pageSize: 5 }).nextPageToken).toBe('');
  });

  it('filters by station, and refuses a token made for another filter', async () => {
    open();
    const a = [store.create({ stationId: 'a' }), store.create({ stationId: 'a' })].map((c) => c.id).sort();
    store.create({ stationId: 'b' });
    store.create();
    const first = store.list({ pageSize: 1 }, { stationId: 'a' });
    expect(first.cards.map((c) => c.id)).toEqual([a[0]]);
    expect(store.list({ pageSize: 1, pageToken: first.nextPageToken }, { stationId: 'a' }).cards.map((c) => c.id)).toEqual([a[1]]);
    expect(await storeError(() => store.list({ pageToken: first.nextPageToken }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page_token' });
    expect(await storeError(() => store.list({ pageToken: 'not a token' }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page_token' });
    expect(await storeError(() => store.list({ pageSize: 0 }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page_size' });
    expect(await storeError(() => store.list({ pageSize: 1001 }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page_size' });
  });
});

describe('VirtualCardStore: cards at work', () => {
  it('answers GetVersion as a DESFire EV3, and shows the applications a reader created', async () => {
    open();
    const card = store.create();
    const answer = await store.transceive(card.id, GET_VERSION);
    expect([...answer.subarray(0, 4)]).toEqual([0x04, 0x01, 0x01, 0x33]);
    expect([...answer.subarray(-2)]).toEqual([0x91, 0xaf]);
    expect([...(await store.transceive(card.id, ADDITIONAL_FRAME)).subarray(-2)]).toEqual([0x91, 0xaf]);
    expect([...(await store.transceive(card.id, ADDITIONAL_FRAME)).subarray(-2)]).toEqual([0x91, 0x00]);
    await writeTestFile(store.transport(card.id), testData(1));
    expect(store.get(card.id).applicationIds).toEqual([AID]);
  });

  it('round-trips images: a card made from an export answers as the original did', async () => {
    open();
    const original = store.create({ capacityBytes: 4096 });
    await writeTestFile(store.transport(original.id), testData(7));
    const image = store.exportImage(original.id);
    const versionBefore = await store.transceive(original.id, GET_VERSION);
    store.delete(original.id);

    const copy = store.create({ image: JSON.parse(image) });
    expect(copy).toMatchObject({ uid: original.uid, capacityBytes: 4096, applicationIds: [AID] });
    expect(copy.id).not.toBe(original.id);
    expect(store.exportImage(copy.id)).toBe(image);
    expect(await readTestFile(store.transport(copy.id))).toEqual(testData(7));
    expect(await store.transceive(copy.id, GET_VERSION)).toEqual(versionBefore);
  });

  it('shows a reader the fixed UID, or a fresh random ID per power-up with random UID on', () => {
    open();
    const fixed = store.create();
    const transport = store.transport(fixed.id);
    expect(transport.card?.uid).toEqual(fixed.uid);
    expect(transport.card?.atr).toEqual(fromHex('3b8180018080'));
    const random = store.transport(store.create({ randomUid: true }).id);
    expect(random.card?.uid).toHaveLength(4);
    expect(random.card?.uid[0]).toBe(0x08);
    store.delete(fixed.id);
    expect(transport.card).toBeUndefined();
  });
});
