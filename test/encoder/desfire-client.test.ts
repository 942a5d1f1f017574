import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { CommandCode } from '../../src/desfire/commands.js';
import type { KeyType } from '../../src/desfire/crypto/key-type.js';
import { DesfireError } from '../../src/desfire/errors.js';
import { verifyOriginalitySignature } from '../../src/desfire/originality.js';
import { ProximityTimingError } from '../../src/desfire/proximity-check.js';
import { Status } from '../../src/desfire/status.js';
import { DesfireClient, type AuthMethod } from '../../src/encoder/client/desfire-client.js';
import { isDesfireEv3 } from '../../src/encoder/client/card-version.js';
import { TransportError } from '../../src/encoder/transport-error.js';
import { factoryState } from '../../src/emulator/factory.js';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';

const UID = fromHex('04aabbccddeeff');
const DES_ZERO = { type: 'des' as const, key: new Uint8Array(8) };
const zero = (type: KeyType) => ({ type, key: new Uint8Array(type === '3k3des' ? 24 : type === 'des' ? 8 : 16) });

function setUp(style: 'native' | 'wrapped' = 'wrapped'): { card: VirtualCard; client: DesfireClient; transport: InProcessTransport } {
  const card = new VirtualCard(factoryState({ uid: UID }));
  const transport = new InProcessTransport(card);
  return { card, transport, client: new DesfireClient(transport, { style }) };
}

async function statusOf(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
    return 'ok';
  } catch (e) {
    return e instanceof DesfireError ? e.status : String(e);
  }
}

describe('DesfireClient against the virtual card', () => {
  it('reads the version of an EV3 and its real UID', async () => {
    const { client } = setUp();
    const version = await client.getVersion();
    expect(isDesfireEv3(version)).toBe(true);
    expect(toHex(version.uid)).toBe(toHex(UID));
    await client.authenticate('ev1', 0, DES_ZERO);
    expect(toHex(await client.getCardUid())).toBe(toHex(UID));
  });

  const sessions: { method: AuthMethod; keyType: KeyType }[] = [
    { method: 'd40', keyType: '2k3des' },
    { method: 'ev1', keyType: '3k3des' },
    { method: 'ev1', keyType: 'aes' },
    { method: 'ev2', keyType: 'aes' },
  ];
  it.each(sessions)('runs a whole application life in a $method session with $keyType keys, in every comm mode', async ({ method, keyType }) => {
    for (const style of ['native', 'wrapped'] as const) {
      const { client } = setUp(style);
      await client.authenticate('ev1', 0, DES_ZERO);
      await client.createApplication({ aid: 0x112233, keySettings: 0x0f, keyType, keyCount: 3 });
      expect(await client.getApplicationIds()).toEqual([0x112233]);
      await client.selectApplication(0x112233);
      await client.authenticate(method, 0, zero(keyType));
      const key1 = { read: 1, write: 1, readWrite: 1, change: 0 };
      const modes = ['plain', 'mac', 'full'] as const;
      for (const [i, mode] of modes.entries()) await client.createStdDataFile(i, mode, key1, 100);
      await client.createValueFile(5, 'full', key1, { lower: 0, upper: 1000, value: 10, options: 0 });
      await client.createRecordFile(false, 6, 'mac', key1, 8, 4);
      expect((await client.getFileIds()).sort()).toEqual([0, 1, 2, 5, 6]);
      expect((await client.getFileSettings(2)).commMode).toBe('full');
      await client.authenticate(method, 1, zero(keyType));
      const payload = Uint8Array.from({ length: 100 }, (_, i) => i);
      for (const [i, mode] of modes.entries()) {
        await client.writeData(i, 0, payload, mode);
        expect(await client.readData(i, 0, 100, mode)).toEqual(payload);
        expect(await client.readData(i, 10, 5, mode)).toEqual(payload.subarray(10, 15));
      }
      await client.changeValue(CommandCode.Credit, 5, 25, 'full');
      await client.writeRecord(6, 0, fromHex('0102030405060708'), 'mac');
      expect(await client.getValue(5, 'full')).toBe(10); // not committed yet
      await client.commitTransaction();
      expect(await client.getValue(5, 'full')).toBe(35);
      expect(toHex(await client.readRecords(6, 0, 1, 'mac', 8))).toBe('0102030405060708');
      await client.commitTransaction(); // nothing pending: NO_CHANGES is fine and keeps the session
      expect(await client.getValue(5, 'full')).toBe(35);
    }
  });

  it('changes keys: another key (XOR with the old one) and its own (the session ends)', async () => {
    const { client } = setUp();
    await client.authenticate('ev1', 0, DES_ZERO);
    await client.createApplication({ aid: 7, keySettings: 0x0f, keyType: 'aes', keyCount: 2 });
    await client.selectApplication(7);
    await client.authenticate('ev2', 0, zero('aes'));
    const key1 = fromHex('101112131415161718191a1b1c1d1e1f');
    await client.changeKey({ keyNo: 1, newKey: key1, newKeyType: 'aes', newKeyVersion: 4, oldKey: new Uint8Array(16) });
    expect(await client.getKeyVersion(1)).toBe(4);
    const key0 = fromHex('000102030405060708090a0b0c0d0e0f');
    await client.changeKey({ keyNo: 0, newKey: key0, newKeyType: 'aes', newKeyVersion: 1 });
    expect(client.session).toBeUndefined();
    expect(await statusOf(client.authenticate('ev2', 0, zero('aes')))).toBe(Status.AUTHENTICATION_ERROR);
    await client.authenticate('ev2', 0, { type: 'aes', key: key0 });
    await client.authenticate('ev2-non-first', 1, { type: 'aes', key: key1 });
    expect(client.authenticatedKeyNo).toBe(1);
  });

  it('surfaces card refusals as DesfireError with the status, and drops the session as the card does', async () => {
    const { client } = setUp();
    await client.authenticate('ev1', 0, DES_ZERO);
    const error = await client.selectApplication(0x999999).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DesfireError);
    expect((error as DesfireError).statusName).toBe('APPLICATION_NOT_FOUND');
    expect((error as DesfireError).origin).toBe('card');
    expect(client.session).toBeUndefined();
  });

  it('reads the originality signature, verifiable with the card\'s public key', async () => {
    const { client, card } = setUp();
    expect(verifyOriginalitySignature(UID, await client.readSignature(), card.originalityPublicKey)).toBe(true);
  });

  it('a card pulled mid-command is a TransportError, never a DesfireError', async () => {
    const { client, card } = setUp();
    await client.authenticate('ev1', 0, DES_ZERO);
    card.tearAtWrite(1);
    const error = await client.createApplication({ aid: 1, keySettings: 0x0f, keyType: 'aes', keyCount: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(client.session).toBeUndefined();
  });

  it('an empty answer (what PC/SC shows of a torn card) is a TransportError', async () => {
    const client = new DesfireClient({ card: undefined, transceive: async () => new Uint8Array(0) });
    expect(await client.getVersion().catch((e: unknown) => e)).toBeInstanceOf(TransportError);
  });
});

describe('DesfireClient proximity check', () => {
  const fakeTimer = (roundNs: bigint) => {
    let now = 0n;
    let tick = 0;
    return () => (now += tick++ % 2 === 0 ? 0n : roundNs);
  };

  it.each(['native', 'wrapped'] as const)('passes in an EV2 session when in time, fails on a relay delay (%s frames)', async (style) => {
    const { client } = setUp(style);
    await client.authenticate('ev1', 0, DES_ZERO);
    await client.createApplication({ aid: 9, keySettings: 0x0f, keyType: 'aes', keyCount: 2 });
    await client.selectApplication(9);
    await client.authenticate('ev2', 1, zero('aes'));
    await client.proximityCheck({ timer: fakeTimer(200_000n) });
    await expect(client.proximityCheck({ timer: fakeTimer(3_000_000n) })).rejects.toBeInstanceOf(ProximityTimingError);
  });

  it('runs without a session under the VCProximityKey', async () => {
    const { client } = setUp();
    await client.proximityCheck({ timer: fakeTimer(1000n), vcProximityKey: new Uint8Array(16) });
    await expect(client.proximityCheck({ timer: fakeTimer(1000n), vcProximityKey: new Uint8Array(16).fill(1) })).rejects.toBeInstanceOf(DesfireError);
  });
});
