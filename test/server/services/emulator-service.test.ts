import { randomUUID } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/desfire/bytes.js';
import { EmulatorService } from '../../../src/gen/desfirepacs/v1/emulator_pb.js';
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { startLoopbackServer, type LoopbackServer } from '../../../src/server/grpc/loopback-server.js';
import { addService } from '../../../src/server/grpc/add-service.js';
import { serviceClient, type ServiceClient } from '../../../src/server/grpc/client.js';
import { FIELD_METADATA } from '../../../src/server/grpc/error-status.js';
import { emulatorService } from '../../../src/server/services/emulator-service.js';

const GET_VERSION = fromHex('9060000000');
/** CreateApplication of AID 0A0B0C (one AES key), allowed on a factory-fresh card without authentication. */
const CREATE_APPLICATION = fromHex('90ca0000050c0b0a0f8100');
const AID = 0x0a0b0c;
const encoder = new TextEncoder();

let store: VirtualCardStore;
let server: LoopbackServer;
let client: ServiceClient<typeof EmulatorService>;

beforeEach(async () => {
  store = VirtualCardStore.open({ path: ':memory:' });
  server = await startLoopbackServer((s, hooks) => addService(s, EmulatorService, emulatorService(store), hooks));
  client = serviceClient(EmulatorService, server.address);
});

afterEach(async () => {
  client.grpc.close();
  await server.close();
  store.close();
});

/** The status and field of a failed call (a call that succeeds fails the test). */
async function failure(call: () => Promise<unknown>): Promise<{ code: status; field: string | undefined }> {
  try {
    await call();
  } catch (e) {
    const error = e as ServiceError;
    const field = error.metadata?.get(FIELD_METADATA)[0];
    return { code: error.code, field: field === undefined ? undefined : String(field) };
  }
  throw new Error('the call succeeded');
}

describe('EmulatorService', () => {
  it('creates a factory-fresh card, gets it, and answers GetVersion as a DESFire EV3', async () => {
    const { card } = await client.createVirtualCard({});
    expect(card).toMatchObject({ capacityBytes: 8192, randomUid: false, applicationIds: [], faults: { tearAtWrite: 0, delayMs: 0 }, stationId: '' });
    expect(card!.uid).toHaveLength(7);
    expect(card!.uid[0]).toBe(0x04);
    expect(Math.abs(timestampDate(card!.createdAt!).getTime() - Date.now())).toBeLessThan(60_000);
    expect((await client.getVirtualCard({ cardId: card!.id })).card).toEqual(card);

    const { response } = await client.transceive({ cardId: card!.id, apdu: GET_VERSION });
    expect(toHex(response)).toBe('04010133001a0591af');
  });

  it('creates a card with the UID, capacity and random UID asked for; a UID is taken once', async () => {
    const uid = fromHex('04a1a2a3a4a5a6');
    const { card } = await client.createVirtualCard({ uid, capacityBytes: 4096, randomUid: true });
    expect(card).toMatchObject({ capacityBytes: 4096, randomUid: true });
    expect(toHex(card!.uid)).toBe(toHex(uid));
    expect(await failure(() => client.createVirtualCard({ uid }))).toEqual({ code: status.ALREADY_EXISTS, field: 'uid' });
  });

  it('lists cards in id order, a page at a time', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.createVirtualCard({})).card!.id);
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await client.listVirtualCards({ pageSize: 2, pageToken });
      expect(page.cards.length).toBeLessThanOrEqual(2);
      seen.push(...page.cards.map((c) => c.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).toEqual(ids.sort());
    expect((await client.listVirtualCards({})).cards.map((c) => c.id)).toEqual(ids);
  });

  it('deletes a card', async () => {
    const { card } = await client.createVirtualCard({});
    await client.deleteVirtualCard({ cardId: card!.id });
    expect(await failure(() => client.getVirtualCard({ cardId: card!.id }))).toEqual({ code: status.NOT_FOUND, field: 'card_id' });
    expect((await client.listVirtualCards({})).cards).toEqual([]);
  });

  it('tears a card at the armed write: an empty response, nothing written, the fault spent', async () => {
    const { card } = await client.createVirtualCard({});
    const armed = await client.setFaults({ cardId: card!.id, faults: { tearAtWrite: 1, delayMs: 0 } });
    expect(armed.card!.faults).toMatchObject({ tearAtWrite: 1, delayMs: 0 });
    expect((await client.transceive({ cardId: card!.id, apdu: CREATE_APPLICATION })).response).toHaveLength(0);
    expect((await client.getVirtualCard({ cardId: card!.id })).card).toMatchObject({ applicationIds: [], faults: { tearAtWrite: 0 } });
    expect(toHex((await client.transceive({ cardId: card!.id, apdu: CREATE_APPLICATION })).response)).toBe('9100');
    expect((await client.getVirtualCard({ cardId: card!.id })).card!.applicationIds).toEqual([AID]);
  });

  it('sets and clears an answer delay', async () => {
    const { card } = await client.createVirtualCard({});
    expect((await client.setFaults({ cardId: card!.id, faults: { delayMs: 1 } })).card!.faults).toMatchObject({ tearAtWrite: 0, delayMs: 1 });
    expect(toHex((await client.transceive({ cardId: card!.id, apdu: GET_VERSION })).response)).toBe('04010133001a0591af');
    expect((await client.setFaults({ cardId: card!.id, faults: {} })).card!.faults).toMatchObject({ tearAtWrite: 0, delayMs: 0 });
  });

  it('exports an image that creates the same card again', async () => {
    const { card } = await client.createVirtualCard({ capacityBytes: 2048 });
    await client.transceive({ cardId: card!.id, apdu: CREATE_APPLICATION });
    const { image } = await client.exportImage({ cardId: card!.id });
    expect(JSON.parse(new TextDecoder().decode(image))).toMatchObject({ format: 'desfire-pacs/card-image', uid: toHex(card!.uid) });
    await client.deleteVirtualCard({ cardId: card!.id });

    const copy = (await client.createVirtualCard({ image })).card!;
    expect(copy).toMatchObject({ capacityBytes: 2048, applicationIds: [AID] });
    expect(toHex(copy.uid)).toBe(toHex(card!.uid));
    expect(toHex((await client.exportImage({ cardId: copy.id })).image)).toBe(toHex(image));
  });

  describe('refuses bad requests with INVALID_ARGUMENT naming the field', () => {
    const validImage = async () => (await client.exportImage({ cardId: (await client.createVirtualCard({})).card!.id })).image;
    type Create = MessageInitShape<typeof EmulatorService.method.createVirtualCard.input>;
    const createCases: [string, () => Promise<Create>, string][] = [
      ['a 6-byte uid', async () => ({ uid: fromHex('041122334455') }), 'uid'],
      ['an 8-byte uid', async () => ({ uid: fromHex('0411223344556677') }), 'uid'],
      ['capacity_bytes 1024', async () => ({ capacityBytes: 1024 }), 'capacity_bytes'],
      ['image with uid', async () => ({ image: await validImage(), uid: fromHex('04112233445566') }), 'uid'],
      ['image with random_uid', async () => ({ image: await validImage(), randomUid: true }), 'random_uid'],
      ['image with capacity_bytes', async () => ({ image: await validImage(), capacityBytes: 8192 }), 'capacity_bytes'],
      ['image not JSON', async () => ({ image: encoder.encode('{"format":') }), 'image'],
      ['image not UTF-8', async () => ({ image: Uint8Array.of(0xff, 0xfe) }), 'image'],
      ['image of another format', async () => ({ image: encoder.encode('{"format":"other"}') }), 'image.format'],
    ];
    it.each(createCases)('CreateVirtualCard: %s', async (_, request, field) => {
      const init = await request();
      const before = (await client.listVirtualCards({})).cards.length;
      expect(await failure(() => client.createVirtualCard(init))).toEqual({ code: status.INVALID_ARGUMENT, field });
      expect((await client.listVirtualCards({})).cards).toHaveLength(before);
    });

    const withCard = async (): Promise<string> => (await client.createVirtualCard({})).card!.id;
    const cases: [string, (id: string) => Promise<unknown>, string][] = [
      ['GetVirtualCard without card_id', () => client.getVirtualCard({}), 'card_id'],
      ['GetVirtualCard with a malformed card_id', () => client.getVirtualCard({ cardId: 'no such card!' }), 'card_id'],
      ['DeleteVirtualCard without card_id', () => client.deleteVirtualCard({}), 'card_id'],
      ['ListVirtualCards page_size 1001', () => client.listVirtualCards({ pageSize: 1001 }), 'page_size'],
      ['ListVirtualCards with a made-up page_token', () => client.listVirtualCards({ pageToken: 'garbage' }), 'page_token'],
      ['Transceive without card_id', () => client.transceive({ apdu: GET_VERSION }), 'card_id'],
      ['Transceive without apdu', (id) => client.transceive({ cardId: id }), 'apdu'],
      ['Transceive with a 262-byte apdu', (id) => client.transceive({ cardId: id, apdu: new Uint8Array(262) }), 'apdu'],
      ['SetFaults without faults', (id) => client.setFaults({ cardId: id }), 'faults'],
      ['SetFaults delay_ms 10001', (id) => client.setFaults({ cardId: id, faults: { delayMs: 10_001 } }), 'faults.delay_ms'],
      ['ExportImage without card_id', () => client.exportImage({}), 'card_id'],
    ];
    it.each(cases)('%s', async (_, call, field) => {
      const id = await withCard();
      expect(await failure(() => call(id))).toEqual({ code: status.INVALID_ARGUMENT, field });
      expect((await client.getVirtualCard({ cardId: id })).card!.faults).toMatchObject({ tearAtWrite: 0, delayMs: 0 });
    });
  });

  it.each([
    ['GetVirtualCard', (cardId: string) => client.getVirtualCard({ cardId })],
    ['DeleteVirtualCard', (cardId: string) => client.deleteVirtualCard({ cardId })],
    ['Transceive', (cardId: string) => client.transceive({ cardId, apdu: GET_VERSION })],
    ['SetFaults', (cardId: string) => client.setFaults({ cardId, faults: {} })],
    ['ExportImage', (cardId: string) => client.exportImage({ cardId })],
  ])('%s of an unknown card: NOT_FOUND naming card_id', async (_, call) => {
    expect(await failure(() => call(randomUUID()))).toEqual({ code: status.NOT_FOUND, field: 'card_id' });
  });

  it('answers UNAVAILABLE once the store is closed (the service is stopping)', async () => {
    const { card } = await client.createVirtualCard({});
    store.close();
    expect(await failure(() => client.getVirtualCard({ cardId: card!.id }))).toMatchObject({ code: status.UNAVAILABLE });
  });
});
