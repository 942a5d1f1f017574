import { create } from '@bufbuild/protobuf';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/desfire/bytes.js';
import { DesfireError } from '../../../src/desfire/errors.js';
import { Status } from '../../../src/desfire/status.js';
import type { Transport } from '../../../src/desfire/transport.js';
import { DesfireClient } from '../../../src/encoder/client/desfire-client.js';
import { TransportError } from '../../../src/encoder/transport-error.js';
import { DesfireStatus, ErrorOrigin } from '../../../src/gen/desfirepacs/v1/desfire_pb.js';
import { CardState, EncoderService, EncodeRequestSchema } from '../../../src/gen/desfirepacs/v1/encoder_pb.js';
import { encodeCard } from '../../../src/relay/encode-card.js';
import { ApiError } from '../../../src/server/grpc/api-error.js';
import { addService } from '../../../src/server/grpc/add-service.js';
import { serviceClient, type ServiceClient } from '../../../src/server/grpc/client.js';
import type { CardRecord } from '../../../src/server/journal/records.js';
import { relaySettings } from '../../../src/server/relay/relay-settings.js';
import { encodeStream, type EncodeOutcome, type EncodeStreamDeps } from '../../../src/server/services/encode-stream.js';
import { blankCard } from '../relay/support/cards.js';
import { encodeOnly } from '../relay/support/relay-service.js';
import { startLoopbackServer, type LoopbackServer } from '../../../src/server/grpc/loopback-server.js';
import { silentLogger } from '../batches/support.js';
import { callFailure, drain } from '../support/grpc-error.js';

const RECORD: CardRecord = {
  id: 9,
  uid: undefined,
  cardNumber: 1001n,
  profile: 'generic-pacs-v1',
  batchId: 'b-1',
  keySet: 'pacs',
  keyVersion: 1,
  data: undefined,
  state: 'encoded',
  detail: undefined,
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:01.000Z',
  encodedAt: '2026-03-01T10:00:01.000Z',
};

type EncodeInput = Parameters<EncodeStreamDeps['encodeCard']>[0];

let server: LoopbackServer | undefined;
let client: ServiceClient<typeof EncoderService> | undefined;
afterEach(async () => {
  client?.grpc.close();
  await server?.close();
  server = client = undefined;
});

/** EncoderService with only Encode implemented, by `encodeCard`. */
async function serve(encode: (input: EncodeInput) => Promise<EncodeOutcome>, seen: string[] = []): Promise<ServiceClient<typeof EncoderService>> {
  const handler = encodeStream({ encodeCard: encode, relay: relaySettings({ apduTimeoutMs: 500 }), logger: silentLogger, stationSeen: (id, activity) => seen.push(`${id}: ${activity}`) });
  server = await startLoopbackServer((s, hooks) => addService(s, EncoderService, encodeOnly(handler), hooks));
  client = serviceClient(EncoderService, server.address);
  return client;
}

describe('EncoderService.Encode over loopback gRPC', () => {
  it('drives the station\'s card through the relay and sends the outcome as the last message', async () => {
    const inputs: EncodeInput[] = [];
    const seen: string[] = [];
    const client = await serve(async (input) => {
      inputs.push(input);
      const version = await new DesfireClient(input.transport).getVersion();
      const ids = await new DesfireClient(input.transport).getApplicationIds();
      return { card: { ...RECORD, uid: toHex(input.uid).toUpperCase() }, changed: [`uid ${toHex(version.uid)}`, `apps ${ids.length}`] };
    }, seen);
    const { card, transport } = blankCard();
    const result = await encodeCard(client, transport, { stationId: 'line-2.station_A', batchId: 'b-1', readerId: 'ACS ACR1252' });
    expect(result.failure).toBe('');
    expect(result.desfire).toBeUndefined();
    expect(result.changedSteps).toEqual([`uid ${toHex(card.uid)}`, 'apps 0']);
    expect(result.card).toMatchObject({ id: 9n, cardNumber: 1001n, state: CardState.ENCODED, batchId: 'b-1' });
    expect(toHex(result.card!.uid)).toBe(toHex(card.uid));
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toMatchObject({ stationId: 'line-2.station_A', batchId: 'b-1' });
    expect(toHex(inputs[0].uid)).toBe(toHex(card.uid));
    expect(inputs[0].signal.aborted).toBe(false);
    expect(seen).toEqual([`line-2.station_A: relaying card ${toHex(card.uid).toUpperCase()}`]);
  });

  it('passes no batch when the agent names none, and reports a failure with the card\'s refusal', async () => {
    let batch: string | undefined = 'unset';
    const client = await serve(async (input) => {
      batch = input.batchId;
      const refusal = new DesfireError(Status.PERMISSION_DENIED, undefined, { command: 0xca, origin: 'card' });
      return { card: { ...RECORD, state: 'failed', detail: 'create-application refused', encodedAt: undefined }, changed: ['picc-master-key'], failure: 'create-application: refused', desfire: refusal };
    });
    const result = await encodeCard(client, blankCard().transport, { stationId: 's1' });
    expect(batch).toBeUndefined();
    expect(result.card).toMatchObject({ state: CardState.FAILED, detail: 'create-application refused' });
    expect(result.card?.encodedAt).toBeUndefined();
    expect(result).toMatchObject({ changedSteps: ['picc-master-key'], failure: 'create-application: refused' });
    expect(result.desfire).toMatchObject({ status: DesfireStatus.PERMISSION_DENIED, command: 0xca, origin: ErrorOrigin.CARD });
    expect(result.desfire?.detail).toMatch(/PERMISSION_DENIED/);
  });

  it('gives the encoder a transport that fails once the station loses the card', async () => {
    let seenError: unknown;
    const client = await serve(async (input) => {
      const c = new DesfireClient(input.transport);
      await c.getVersion(); // three frames: commands 1 to 3
      seenError = await c.getVersion().catch((e: unknown) => e);
      return { card: { ...RECORD, state: 'failed', encodedAt: undefined }, changed: [], failure: 'the card left' };
    });
    const { transport } = blankCard();
    let sent = 0;
    const leaving: Transport = { card: transport.card, transceive: (apdu) => (++sent > 3 ? Promise.reject(new Error('card removed')) : transport.transceive(apdu)) };
    expect((await encodeCard(client, leaving, { stationId: 's1' })).failure).toBe('the card left');
    expect(seenError).toBeInstanceOf(TransportError);
    expect((seenError as Error).message).toMatch(/lost the card at command 4: card removed/);
  });

  it('ends the stream with the encoder\'s refusal before any card number is taken', async () => {
    const client = await serve(() => Promise.reject(new ApiError(GrpcStatus.FAILED_PRECONDITION, 'no open batch has a card number left')));
    expect(await callFailure(encodeCard(client, blankCard().transport, { stationId: 's1' }))).toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION, details: 'no open batch has a card number left' });
  });

  it.each([
    ['no station id', { card: { uid: new Uint8Array(7) } }, 'start.station_id'],
    ['a station id with a space', { card: { uid: new Uint8Array(7) }, stationId: 'line 2' }, 'start.station_id'],
    ['a 65-character station id', { card: { uid: new Uint8Array(7) }, stationId: 's'.repeat(65) }, 'start.station_id'],
    ['a batch id with a slash', { card: { uid: new Uint8Array(7) }, stationId: 's1', batchId: 'a/b' }, 'start.batch_id'],
    ['no card', { stationId: 's1' }, 'start.card'],
    ['a 6-byte UID', { card: { uid: new Uint8Array(6) }, stationId: 's1' }, 'start.card.uid'],
  ])('refuses a start message with %s: INVALID_ARGUMENT naming %s, the encoder untouched', async (_, start, field) => {
    let called = false;
    const client = await serve(async () => {
      called = true;
      return { card: RECORD, changed: [] };
    });
    const stream = client.encode();
    stream.write(create(EncodeRequestSchema, { message: { case: 'start', value: start } }));
    expect(await callFailure(drain(stream))).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, field });
    expect(called).toBe(false);
  });
});
