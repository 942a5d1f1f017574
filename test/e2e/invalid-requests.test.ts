import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderService } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { EmulatorService } from '../../src/gen/desfirepacs/v1/emulator_pb.js';
import { KeyService } from '../../src/gen/desfirepacs/v1/key_service_pb.js';
import { ProfileService } from '../../src/gen/desfirepacs/v1/profile_service_pb.js';
import { serviceClient } from '../../src/server/grpc/client.js';
import { callFailure } from '../server/support/grpc-error.js';
import { numberedCards, startInProcess, type Cleanup } from './support.js';

/**
 * Issue 5 acceptance: bad requests to the assembled service, one per row, each refused with
 * INVALID_ARGUMENT naming the field (or NOT_FOUND for an unknown id), and the service serving on.
 */
const cleanups: Cleanup[] = [];
let encoder: ReturnType<typeof makeClients>['encoder'];
let emulator: ReturnType<typeof makeClients>['emulator'];
let profiles: ReturnType<typeof makeClients>['profiles'];
let keys: ReturnType<typeof makeClients>['keys'];

function makeClients(address: string) {
  const made = {
    encoder: serviceClient(EncoderService, address),
    emulator: serviceClient(EmulatorService, address),
    profiles: serviceClient(ProfileService, address),
    keys: serviceClient(KeyService, address),
  };
  cleanups.push(() => Object.values(made).forEach((c) => c.grpc.close()));
  return made;
}

beforeAll(async () => {
  const service = await startInProcess(cleanups, { stations: { emulated: 0, pcscReaders: [] } });
  ({ encoder, emulator, profiles, keys } = makeClients(service.address));
});
afterAll(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

const cards = numberedCards(1, 2);
const TABLE: { name: string; call: () => Promise<unknown>; code: status; field?: string }[] = [
  { name: 'CreateBatch without a profile', call: () => encoder.createBatch({ cards }), code: status.INVALID_ARGUMENT, field: 'profile' },
  { name: 'CreateBatch of an unknown profile', call: () => encoder.createBatch({ profile: 'no-such-profile', cards }), code: status.NOT_FOUND, field: 'profile' },
  { name: 'CreateBatch without cards', call: () => encoder.createBatch({ profile: 'generic-pacs-v1' }), code: status.INVALID_ARGUMENT, field: 'cards' },
  { name: 'CreateBatch with card number 0', call: () => encoder.createBatch({ profile: 'generic-pacs-v1', cards: [{ ...cards[0], cardNumber: 0n }] }), code: status.INVALID_ARGUMENT, field: 'cards[0].card_number' },
  { name: 'CreateBatch with a number twice', call: () => encoder.createBatch({ profile: 'generic-pacs-v1', cards: [cards[0], cards[1], cards[0]] }), code: status.INVALID_ARGUMENT, field: 'cards[2].card_number' },
  { name: 'CreateBatch with a bad batch id', call: () => encoder.createBatch({ profile: 'generic-pacs-v1', cards, batchId: 'no spaces' }), code: status.INVALID_ARGUMENT, field: 'batch_id' },
  { name: 'GetBatch of an unknown batch', call: () => encoder.getBatch({ batchId: 'unknown-batch' }), code: status.NOT_FOUND },
  { name: 'GetCard with a 5-byte UID', call: () => encoder.getCard({ key: { case: 'uid', value: new Uint8Array(5) } }), code: status.INVALID_ARGUMENT, field: 'uid' },
  { name: 'ListCards with a page of 5000', call: () => encoder.listCards({ pageSize: 5000 }), code: status.INVALID_ARGUMENT, field: 'page_size' },
  { name: 'ListCards with a forged page token', call: () => encoder.listCards({ pageToken: 'forged' }), code: status.INVALID_ARGUMENT },
  { name: 'CreateVirtualCard with a 3-byte UID', call: () => emulator.createVirtualCard({ uid: new Uint8Array(3) }), code: status.INVALID_ARGUMENT, field: 'uid' },
  { name: 'CreateVirtualCard of 1000 bytes', call: () => emulator.createVirtualCard({ capacityBytes: 1000 }), code: status.INVALID_ARGUMENT, field: 'capacity_bytes' },
  { name: 'Transceive to an unknown card', call: () => emulator.transceive({ cardId: '00000000-0000-4000-8000-000000000000', apdu: Uint8Array.of(0x90, 0x60, 0, 0, 0) }), code: status.NOT_FOUND, field: 'card_id' },
  { name: 'PutProfile without a profile', call: () => profiles.putProfile({}), code: status.INVALID_ARGUMENT, field: 'profile' },
  { name: 'PutProfile of a profile without a PICC part', call: () => profiles.putProfile({ profile: { name: 'bare' } }), code: status.INVALID_ARGUMENT, field: 'profile.picc' },
  { name: 'GetProfile of an unknown name', call: () => profiles.getProfile({ name: 'nope' }), code: status.NOT_FOUND, field: 'name' },
  { name: 'CreateKeySet with an upper-case name', call: () => keys.createKeySet({ name: 'Site-A' }), code: status.INVALID_ARGUMENT, field: 'name' },
  { name: 'SetCurrentKeyVersion to version 0', call: () => keys.setCurrentKeyVersion({ keySet: 'pacs', version: 0 }), code: status.INVALID_ARGUMENT, field: 'version' },
  { name: 'AddKeyVersion of an unknown key set', call: () => keys.addKeyVersion({ keySet: 'nope' }), code: status.NOT_FOUND },
];

describe('invalid requests to the assembled service', () => {
  it.each(TABLE)('$name', async ({ call, code, field }) => {
    const failure = await callFailure(call());
    expect(status[failure.code]).toBe(status[code]);
    if (field !== undefined) expect(failure.field).toBe(field);
  });

  it('leave nothing behind, and the service serves on', async () => {
    expect((await encoder.listBatches({})).batches).toEqual([]);
    expect((await emulator.listVirtualCards({})).cards).toEqual([]);
    expect((await keys.listKeySets({})).keySets.map((k) => k.name)).toEqual(['pacs']);
    const { batch } = await encoder.createBatch({ profile: 'generic-pacs-v1', cards });
    expect(batch!.counts!.total).toBe(2);
  });
});
