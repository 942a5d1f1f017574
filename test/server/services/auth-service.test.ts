import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/desfire/bytes.js';
import type { Transport } from '../../../src/desfire/transport.js';
import type { MemoryKeyStore } from '../../../src/encoder/keys/index.js';
import { AuthService, AuthenticateRequestSchema, DenialReason } from '../../../src/gen/desfirepacs/v1/auth_pb.js';
import type { Profile } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import { authenticateCard } from '../../../src/relay/authenticate-card.js';
import { currentAudit } from '../../../src/server/audit-context.js';
import { addService } from '../../../src/server/grpc/add-service.js';
import { serviceClient, type ServiceClient } from '../../../src/server/grpc/client.js';
import type { AuditContext } from '../../../src/server/journal/records.js';
import { relaySettings, type RelaySettings } from '../../../src/server/relay/relay-settings.js';
import { authService } from '../../../src/server/services/auth-service.js';
import { blankCard, cloneOf, encodedCard, genericProfile, keyStoreWithPacs, profileRegistry } from '../relay/support/cards.js';
import { startLoopbackServer, type LoopbackServer } from '../../../src/server/grpc/loopback-server.js';
import { silentLogger } from '../batches/support.js';
import { callFailure, drain } from '../support/grpc-error.js';

const AID = 0xf52a01;

let profile: Profile;
let keyStore: MemoryKeyStore;
const keyUses: AuditContext[] = [];

beforeAll(async () => {
  profile = await genericProfile();
  keyStore = await keyStoreWithPacs({ onKeyUse: () => keyUses.push(currentAudit()) });
});
afterAll(() => keyStore.close());

let server: LoopbackServer | undefined;
let client: ServiceClient<typeof AuthService> | undefined;
afterEach(async () => {
  client?.grpc.close();
  await server?.close();
  server = client = undefined;
});

/** In-process cards share the CPU with the whole test run: 50 ms of proximity margin holds under load. */
const TOLERANCE_NS = 50_000_000n;

async function serve(settings: Partial<RelaySettings> = {}): Promise<{ server: LoopbackServer; client: ServiceClient<typeof AuthService> }> {
  const relay = relaySettings({ proximityToleranceNs: TOLERANCE_NS, ...settings });
  const impl = authService({ keyStore, profiles: profileRegistry(profile), defaultProfile: profile.name, relay, logger: silentLogger });
  server = await startLoopbackServer((s, hooks) => addService(s, AuthService, impl, hooks));
  client = serviceClient(AuthService, server.address);
  return { server, client };
}

describe('AuthService.Authenticate over loopback gRPC', () => {
  it('grants an encoded card: credential, key set and version back, keys used under the door as actor, proximity rounds timed by the reader host', async () => {
    const { client } = await serve();
    const { transport, card } = await encodedCard(profile, keyStore);
    keyUses.length = 0;
    let clockReads = 0;
    const clock = () => (clockReads++, process.hrtime.bigint());
    const result = await authenticateCard(client, transport, { doorId: 'door-7', readerId: 'reader A', clock });
    expect(result.granted).toBe(true);
    expect(result.reason).toBe(DenialReason.UNSPECIFIED);
    expect(result).toMatchObject({ keySet: 'pacs', keyVersion: 1 });
    expect(toHex(result.uid)).toBe(toHex(card.uid));
    expect(result.credential?.cardNumber).toBe(4711n);
    expect(result.credential?.issuer).toBe('example-issuer');
    expect(timestampDate(result.credential!.validTo!).toISOString()).toBe('2099-01-01T00:00:00.000Z');
    expect(clockReads).toBe(16); // 8 rounds, each timed from before its command to after its answer
    expect(keyUses.length).toBeGreaterThan(0);
    expect(keyUses.every((u) => u.actor === 'door-7' && u.purpose === 'authenticate')).toBe(true);
  });

  it('names the client address in the audit trail when the door gives no id, and takes a named profile', async () => {
    const { client } = await serve();
    const { transport } = await encodedCard(profile, keyStore);
    keyUses.length = 0;
    const result = await authenticateCard(client, transport, { profile: 'generic-pacs-v1' });
    expect(result.granted).toBe(true);
    expect(keyUses.every((u) => u.actor.includes('127.0.0.1'))).toBe(true);
  });

  it('denies a blank card (not encoded), a clone with the same UID (authentication failed) and a random ID', async () => {
    const { client } = await serve();
    expect((await authenticateCard(client, blankCard().transport)).reason).toBe(DenialReason.NOT_ENCODED);
    const original = await encodedCard(profile, keyStore);
    const clone = await authenticateCard(client, cloneOf(original.card, AID).transport);
    expect(clone.granted).toBe(false);
    expect(clone.reason).toBe(DenialReason.AUTHENTICATION_FAILED);
    expect(clone.credential).toBeUndefined();
    const randomId: Transport = { card: { uid: Uint8Array.of(0x08, 1, 2, 3) }, transceive: () => Promise.reject(new Error('not reached')) };
    expect((await authenticateCard(client, randomId)).reason).toBe(DenialReason.RANDOM_UID);
  });

  it('suspects a relay when the card answers 30 ms late (over a 20 ms tolerance)', async () => {
    const { client } = await serve({ proximityToleranceNs: 20_000_000n });
    const { card, transport } = await encodedCard(profile, keyStore);
    card.answerDelayMs = 30;
    const result = await authenticateCard(client, transport);
    expect(result.granted).toBe(false);
    expect(result.reason).toBe(DenialReason.RELAY_SUSPECTED);
    expect(result.detail).toMatch(/round 1 took/);
  });

  it('denies with transport-failed when the reader host loses the card mid-way', async () => {
    const { client } = await serve();
    const { transport } = await encodedCard(profile, keyStore);
    let sent = 0;
    const leaving: Transport = {
      get card() {
        return transport.card;
      },
      transceive: (apdu) => (++sent > 3 ? Promise.reject(new Error('card removed')) : transport.transceive(apdu)),
    };
    const result = await authenticateCard(client, leaving);
    expect(result.reason).toBe(DenialReason.TRANSPORT_FAILED);
    expect(result.detail).toMatch(/reader host lost the card at command 4: card removed/);
  });

  it('refuses an unknown profile with NOT_FOUND before any APDU', async () => {
    const { client } = await serve();
    let sent = 0;
    const card: Transport = { card: { uid: Uint8Array.of(4, 1, 2, 3, 4, 5, 6) }, transceive: () => (sent++, Promise.reject(new Error('not reached'))) };
    expect(await callFailure(authenticateCard(client, card, { profile: 'nope' }))).toMatchObject({ code: GrpcStatus.NOT_FOUND, field: 'start.profile' });
    expect(sent).toBe(0);
  });

  it.each([
    ['no card', { profile: '' }, 'start.card'],
    ['a 5-byte UID', { card: { uid: new Uint8Array(5) } }, 'start.card.uid'],
    ['an empty UID', { card: { uid: new Uint8Array(0) } }, 'start.card.uid'],
    ['a 65-byte ATR', { card: { uid: new Uint8Array(7), atr: new Uint8Array(65) } }, 'start.card.atr'],
    ['a 65-byte ATS', { card: { uid: new Uint8Array(7), ats: new Uint8Array(65) } }, 'start.card.ats'],
    ['a 129-character reader id', { card: { uid: new Uint8Array(7), readerId: 'r'.repeat(129) } }, 'start.card.reader_id'],
    ['a 129-character door id', { card: { uid: new Uint8Array(7) }, doorId: 'd'.repeat(129) }, 'start.door_id'],
    ['a malformed profile name', { card: { uid: new Uint8Array(7) }, profile: 'no spaces' }, 'start.profile'],
  ])('refuses a start message with %s: INVALID_ARGUMENT naming %s', async (_, start, field) => {
    const { client } = await serve();
    const stream = client.authenticate();
    stream.write(create(AuthenticateRequestSchema, { message: { case: 'start', value: start } }));
    const refused = await callFailure(drain(stream));
    expect(refused).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, field });
    expect(refused.details).toContain(field);
  });

  it('refuses a stream whose first message is not start, or that ends without one', async () => {
    const { client } = await serve();
    const answerFirst = client.authenticate();
    answerFirst.write({ message: { case: 'apduResponse', value: { sequence: 1, response: Uint8Array.of(0x91, 0x00) } } });
    expect(await callFailure(drain(answerFirst))).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, field: 'start' });
    const empty = client.authenticate();
    empty.end();
    expect(await callFailure(drain(empty))).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, field: 'start' });
  });

  it('ends a stalled reader host with DEADLINE_EXCEEDED, frees the call, and keeps serving', async () => {
    const { client, server } = await serve({ apduTimeoutMs: 200 });
    const silent = client.authenticate();
    silent.write({ message: { case: 'start', value: { card: { uid: Uint8Array.of(4, 1, 2, 3, 4, 5, 6) } } } });
    const stalled = await callFailure(drain(silent));
    expect(stalled.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(stalled.details).toMatch(/did not answer command 1 within 200 ms/);
    const mute = client.authenticate(); // never even sends its start message
    expect((await callFailure(drain(mute))).code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    mute.end();
    expect(server.calls.size).toBe(0);
    const { transport } = await encodedCard(profile, keyStore);
    expect((await authenticateCard(client, transport)).granted).toBe(true);
  });

  it('ends a stream that outlasts the whole-stream deadline with DEADLINE_EXCEEDED, though each APDU is answered in time', async () => {
    const { client, server } = await serve({ apduTimeoutMs: 1000, streamTimeoutMs: 300 });
    const { card, transport } = await encodedCard(profile, keyStore);
    card.answerDelayMs = 60;
    const refused = await callFailure(authenticateCard(client, transport));
    expect(refused.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(refused.details).toMatch(/did not finish within 300 ms/);
    expect(server.calls.size).toBe(0);
  });

  it('stops driving the card when the reader host cancels', async () => {
    const { client, server } = await serve();
    const { transport } = await encodedCard(profile, keyStore);
    const controller = new AbortController();
    let sent = 0;
    const cancelling: Transport = {
      get card() {
        return transport.card;
      },
      transceive: async (apdu) => {
        if (++sent === 2) controller.abort(new Error('door closed'));
        return transport.transceive(apdu);
      },
    };
    await expect(authenticateCard(client, cancelling, { signal: controller.signal })).rejects.toThrow('door closed');
    await waitFor(() => server.calls.size === 0);
    expect(sent).toBe(2);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
