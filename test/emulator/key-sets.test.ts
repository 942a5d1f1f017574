import { describe, expect, it } from 'vitest';
import { ev1Scheme, ev2Scheme, legacyScheme } from '../../src/desfire/auth/schemes.js';
import { concat, EMPTY, toHex, uintLE } from '../../src/desfire/bytes.js';
import { changeKeyCryptogram, changeKeyEv2Cryptogram, type KeyChange } from '../../src/desfire/change-key.js';
import { crc32Desfire } from '../../src/desfire/crypto/crc.js';
import type { CommMode } from '../../src/desfire/comm-mode.js';
import { CommandCode, requireCommandSpec } from '../../src/desfire/commands.js';
import type { KeyType } from '../../src/desfire/crypto/key-type.js';
import { Status } from '../../src/desfire/status.js';
import { CardPowerLost } from '../../src/emulator/card-endpoint.js';
import { exportImage, importImage } from '../../src/emulator/image.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { bytes, keySettings2, maced, PLAIN, TestReader, ZERO_KEY } from './support/harness.js';

/**
 * Application key sets on the virtual card: CreateApplication with KeySett3, InitializeKeySet,
 * ChangeKeyEV2, FinalizeKeySet, RollKeySet and GetKeyVersion's key-set option, through real secure
 * messaging. What comes from public sources and what is this card's judgement is written in
 * src/emulator/handlers/key-sets.ts; the RollKeySet rotation replays liblogicalaccess's hardware test
 * (liblogicalaccess-swig sources/DESFireEV1Tests/TestAllDESFire.cs, ev2Test).
 */

const APP = 0x0c0b0a;
const PLAIN_APP = 0x0c0b0b;
const KS3_KEY_SETS = 0x01;

/** A 16-byte key filled with `n`: easy to tell apart. */
function key(n: number): Uint8Array {
  return new Uint8Array(16).fill(n);
}

/** A 2K3DES key with different halves (so never taken for single DES), filled with `n` and `n + 1`. */
function key3des(n: number): Uint8Array {
  return concat(new Uint8Array(8).fill(n), new Uint8Array(8).fill(n + 1));
}

/** The reader's modes for a command in the current session, read from the command table (MACED / MACED_SENT rows). */
function modes(reader: TestReader, cmd: number): { command: CommMode; answer: CommMode } {
  const channel = reader.channel;
  if (!channel) return PLAIN;
  const spec = requireCommandSpec(cmd);
  return { command: spec.command[channel.generation] as CommMode, answer: spec.response[channel.generation] as CommMode };
}

/** One key-management command in the current session; returns its status (and the unwrapped answer). */
async function command(reader: TestReader, cmd: number, data: Uint8Array): Promise<{ status: number; data: Uint8Array }> {
  return reader.secure(cmd, EMPTY, data, modes(reader, cmd));
}

async function status(reader: TestReader, cmd: number, data: Uint8Array): Promise<number> {
  return (await command(reader, cmd, data)).status;
}

interface KeySetParams {
  readonly keyType?: KeyType;
  readonly keyCount?: number;
  readonly keySettings?: number;
  readonly aksVersion?: number;
  readonly count?: number;
  readonly maxKeySize?: number;
  readonly rollKey?: number;
}

/** CreateApplication's data for an application with key sets: AID, KeySett1, KeySett2 | 0x10, KeySett3, the four key-set bytes. */
function createData(aid: number, p: KeySetParams = {}): Uint8Array {
  const keyType = p.keyType ?? 'aes';
  return concat(
    uintLE(aid, 3),
    bytes(p.keySettings ?? 0x0f, keySettings2(keyType, p.keyCount ?? 3) | 0x10, KS3_KEY_SETS),
    bytes(p.aksVersion ?? 1, p.count ?? 3, p.maxKeySize ?? (keyType === '3k3des' ? 24 : 16), p.rollKey ?? 2),
  );
}

/** Authenticates at PICC level with the factory DES key (d40) and sends CreateApplication; returns its status. */
async function create(reader: TestReader, data: Uint8Array): Promise<number> {
  await reader.send(CommandCode.SelectApplication, uintLE(0, 3));
  expect(await reader.authenticate(legacyScheme('des', ZERO_KEY.des), 0)).toBe(Status.OPERATION_OK);
  return (await reader.secure(CommandCode.CreateApplication, EMPTY, data, maced(reader.channel))).status;
}

async function select(reader: TestReader, aid: number): Promise<void> {
  expect((await reader.send(CommandCode.SelectApplication, uintLE(aid, 3))).status).toBe(Status.OPERATION_OK);
  reader.channel = undefined;
}

/** A new card with application APP (key sets, AES by default) and PLAIN_APP (AES, 3 keys, no key sets); APP selected, no session. */
async function withKeySets(p: KeySetParams = {}, capacity: '2k' | '4k' | '8k' = '8k'): Promise<TestReader> {
  const reader = new TestReader({ capacity });
  expect(await create(reader, createData(APP, p))).toBe(Status.OPERATION_OK);
  expect(await create(reader, concat(uintLE(PLAIN_APP, 3), bytes(0x0f, keySettings2('aes', 3))))).toBe(Status.OPERATION_OK);
  await select(reader, APP);
  return reader;
}

/** AuthenticateEV2First / AuthenticateAES / AuthenticateISO / Authenticate with `k` (default: the zero key of the type). */
function auth(reader: TestReader, generation: 'd40' | 'ev1' | 'ev2', keyType: KeyType, keyNo: number, k?: Uint8Array): Promise<number> {
  const scheme = generation === 'ev2' ? ev2Scheme : generation === 'ev1' ? ev1Scheme : legacyScheme;
  if (k === undefined) return reader.authenticate(scheme(keyType === 'aes' ? 'aes' : 'des', keyType === 'aes' ? ZERO_KEY.aes : ZERO_KEY.des), keyNo);
  return reader.authenticate(scheme(keyType, k), keyNo);
}

/**
 * ChangeKeyEV2 in the current session. `sameKey`: the session's own key (key set 0), whose answer
 * carries no MAC and ends the session. Returns the status.
 */
async function changeKeyEv2(reader: TestReader, keySetNo: number, change: KeyChange, sameKey = false): Promise<number> {
  const channel = reader.channel;
  if (!channel) throw new Error('ChangeKeyEV2 needs a session');
  const cryptogram = changeKeyEv2Cryptogram(channel.generation, { ...change, keySetNo });
  const answer = await reader.send(CommandCode.ChangeKeyEV2, channel.wrapCryptogram(CommandCode.ChangeKeyEV2, bytes(keySetNo, change.keyNo), cryptogram));
  if (answer.status !== Status.OPERATION_OK) return answer.status;
  if (sameKey) {
    expect(answer.data.length).toBe(0);
    reader.channel = undefined;
  } else if (channel.generation !== 'd40') {
    channel.unwrapResponse(answer.status, answer.data, channel.generation === 'ev2' ? 'mac' : 'plain');
  }
  return answer.status;
}

/** RollKeySet in the current session: on success the answer has no MAC and the session is over. */
async function roll(reader: TestReader, keySetNo: number): Promise<number> {
  const channel = reader.channel;
  const body = channel ? channel.wrapCommand(CommandCode.RollKeySet, EMPTY, bytes(keySetNo), modes(reader, CommandCode.RollKeySet).command) : bytes(keySetNo);
  const answer = await reader.send(CommandCode.RollKeySet, body);
  if (answer.status === Status.OPERATION_OK) {
    expect(answer.data.length).toBe(0);
    reader.channel = undefined;
  }
  return answer.status;
}

/** GetKeyVersion with the key-set option (KeyNo | 0x40, KeySetNo), in the current session or plain. */
async function keySetVersion(reader: TestReader, keyNo: number, keySetNo: number): Promise<string> {
  const answer = await command(reader, CommandCode.GetKeyVersion, bytes(keyNo | 0x40, keySetNo));
  expect(answer.status).toBe(Status.OPERATION_OK);
  return toHex(answer.data);
}

/** The versions of all key sets (KeySetNo bit 7), active one first. */
function keySetVersions(reader: TestReader): Promise<string> {
  return keySetVersion(reader, 0, 0x80);
}

const initialize = (reader: TestReader, keySetNo: number, keySetType: number) => status(reader, CommandCode.InitializeKeySet, bytes(keySetNo, keySetType));
const finalize = (reader: TestReader, keySetNo: number, version: number) => status(reader, CommandCode.FinalizeKeySet, bytes(keySetNo, version));

describe('CreateApplication with application key sets (KeySett2 bit 4, KeySett3)', () => {
  it('creates the application with AKSVersion, NoKeySets, MaxKeySize and AppKeySetSett, which GetKeySettings reports', async () => {
    const reader = new TestReader({ capacity: '8k' });
    const before = (await reader.send(CommandCode.FreeMemory)).data;
    expect(await create(reader, createData(APP, { aksVersion: 5, count: 4, maxKeySize: 24, rollKey: 1 }))).toBe(Status.OPERATION_OK);
    // Four key sets of three keys reserved at MaxKeySize: 64-byte header + 4 × 3 × (24 + 1) = 300 → 320 bytes.
    const after = (await reader.send(CommandCode.FreeMemory)).data;
    expect(Number(`0x${toHex(after.slice().reverse())}`)).toBe(Number(`0x${toHex(before.slice().reverse())}`) - 64 - 320);
    await select(reader, APP);
    // KeySett1, crypto method | key count, then AKSVersion, NoKeySets, MaxKeySize, AppKeySetSett.
    expect(toHex((await reader.send(CommandCode.GetKeySettings)).data)).toBe('0f8305041801');
    expect(await keySetVersions(reader)).toBe('05000000');
    expect(await auth(reader, 'ev2', 'aes', 2)).toBe(Status.OPERATION_OK);
  });

  it('takes the ISO FID and DF name after the key-set bytes', async () => {
    const reader = new TestReader();
    const data = concat(uintLE(APP, 3), bytes(0x0f, keySettings2('aes', 2, true) | 0x10, KS3_KEY_SETS, 1, 2, 16, 0), uintLE(0xe110, 2), bytes(0xd2, 0x76, 0x00, 0x01));
    expect(await create(reader, data)).toBe(Status.OPERATION_OK);
    expect(toHex((await reader.send(CommandCode.GetDFNames)).data)).toBe('0a0b0c10e1d2760001');
  });

  it('KeySett3 without bit 0 makes an application without key sets', async () => {
    const reader = new TestReader();
    expect(await create(reader, concat(uintLE(APP, 3), bytes(0x0f, keySettings2('aes', 2) | 0x10, 0x00)))).toBe(Status.OPERATION_OK);
    await select(reader, APP);
    expect(toHex((await reader.send(CommandCode.GetKeySettings)).data)).toBe('0f82');
  });

  const refusals: readonly { name: string; data: Uint8Array; capacity?: '2k'; expected: number }[] = [
    { name: 'KeySett3 announced but missing', data: concat(uintLE(APP, 3), bytes(0x0f, 0x93)), expected: Status.LENGTH_ERROR },
    { name: 'key-set bytes announced but short', data: concat(uintLE(APP, 3), bytes(0x0f, 0x93, 0x01, 1, 2, 16)), expected: Status.LENGTH_ERROR },
    { name: 'a byte too many', data: concat(createData(APP), bytes(0)), expected: Status.LENGTH_ERROR },
    { name: 'KeySett3 bit 1: application-specific VC keys (not supported)', data: concat(uintLE(APP, 3), bytes(0x0f, 0x93, 0x03, 1, 2, 16, 0)), expected: Status.PARAMETER_ERROR },
    { name: 'KeySett3 bit 2: application-specific capability data (not supported)', data: concat(uintLE(APP, 3), bytes(0x0f, 0x93, 0x05, 1, 2, 16, 0)), expected: Status.PARAMETER_ERROR },
    { name: 'KeySett3 RFU bit 3', data: concat(uintLE(APP, 3), bytes(0x0f, 0x93, 0x09, 1, 2, 16, 0)), expected: Status.PARAMETER_ERROR },
    { name: 'NoKeySets 1', data: createData(APP, { count: 1 }), expected: Status.PARAMETER_ERROR },
    { name: 'NoKeySets 17', data: createData(APP, { count: 17 }), expected: Status.PARAMETER_ERROR },
    { name: 'MaxKeySize 0x14', data: createData(APP, { maxKeySize: 0x14 }), expected: Status.PARAMETER_ERROR },
    { name: 'a 3K3DES application with MaxKeySize 0x10', data: createData(APP, { keyType: '3k3des', maxKeySize: 16 }), expected: Status.PARAMETER_ERROR },
    { name: 'roll key 0x0E', data: createData(APP, { keyCount: 14, rollKey: 0x0e }), expected: Status.PARAMETER_ERROR },
    { name: 'roll key beyond the keys', data: createData(APP, { keyCount: 3, rollKey: 3 }), expected: Status.PARAMETER_ERROR },
    { name: 'more than the memory (16 key sets of 14 keys on a 2 KB card)', data: createData(APP, { keyCount: 14, count: 16, maxKeySize: 24 }), capacity: '2k', expected: Status.OUT_OF_EEPROM_ERROR },
  ];
  for (const { name, data, capacity, expected } of refusals) {
    it(`refuses ${name}`, async () => {
      const reader = new TestReader({ capacity: capacity ?? '8k' });
      expect(await create(reader, data)).toBe(expected);
      expect(reader.card.state.applications.has(APP)).toBe(false);
    });
  }
});

describe('InitializeKeySet (0x56)', () => {
  for (const generation of ['ev2', 'ev1'] as const) {
    it(`initializes a key set with the application master key in an ${generation} session, holding the active key set's keys`, async () => {
      const reader = await withKeySets();
      expect(await auth(reader, generation, 'aes', 0)).toBe(Status.OPERATION_OK);
      expect(await changeKeyEv2(reader, 0, { keyNo: 1, newKey: key(0x11), newKeyType: 'aes', newKeyVersion: 0x21, oldKey: ZERO_KEY.aes })).toBe(Status.OPERATION_OK);
      expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
      // The session goes on; the new key set holds the active one's keys and versions, and is not finalized (version 0).
      expect(await keySetVersion(reader, 1, 1)).toBe('21');
      expect(await keySetVersions(reader)).toBe('010000');
      // Its key 1 is the active key set's key 1: ChangeKeyEV2 XORs with it (libraries and demos do the same).
      expect(await changeKeyEv2(reader, 1, { keyNo: 1, newKey: key(0x31), newKeyType: 'aes', newKeyVersion: 0x31, oldKey: key(0x11) })).toBe(Status.OPERATION_OK);
    });
  }

  it('works in a d40 session of a DES application, and takes another key type with the default application key', async () => {
    const reader = await withKeySets({ keyType: '2k3des', count: 3 });
    expect(await auth(reader, 'd40', '2k3des', 0)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x00)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 2, 0x02)).toBe(Status.OPERATION_OK);
    expect(reader.card.state.applications.get(APP)?.keySets?.others.get(2)?.keyType).toBe('aes');
    expect(await changeKeyEv2(reader, 2, { keyNo: 0, newKey: key(0x42), newKeyType: 'aes', newKeyVersion: 2, oldKey: ZERO_KEY.aes })).toBe(Status.OPERATION_OK);
  });

  it('may initialize a key set again, which starts it over', async () => {
    const reader = await withKeySets();
    expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
    expect(await finalize(reader, 1, 7)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
    expect(await keySetVersions(reader)).toBe('010000');
  });

  const cases: readonly { name: string; setup: (r: TestReader) => Promise<unknown>; data: Uint8Array; expected: number }[] = [
    { name: 'without authentication', setup: async () => {}, data: bytes(1, 2), expected: Status.AUTHENTICATION_ERROR },
    { name: 'authenticated with another key than the master key', setup: (r) => auth(r, 'ev2', 'aes', 1), data: bytes(1, 2), expected: Status.PERMISSION_DENIED },
    { name: 'at PICC level', setup: (r) => r.send(CommandCode.SelectApplication, uintLE(0, 3)), data: bytes(1, 2), expected: Status.PERMISSION_DENIED },
    { name: 'key set 0 (the active one)', setup: (r) => auth(r, 'ev2', 'aes', 0), data: bytes(0, 2), expected: Status.PARAMETER_ERROR },
    { name: 'a key set beyond NoKeySets', setup: (r) => auth(r, 'ev2', 'aes', 0), data: bytes(3, 2), expected: Status.PARAMETER_ERROR },
    { name: 'KeySetNo bit 7 (secondary application indicator)', setup: (r) => auth(r, 'ev2', 'aes', 0), data: bytes(0x81, 2), expected: Status.PARAMETER_ERROR },
    { name: 'KeySetType 03', setup: (r) => auth(r, 'ev2', 'aes', 0), data: bytes(1, 3), expected: Status.PARAMETER_ERROR },
    { name: '3K3DES keys with MaxKeySize 16', setup: (r) => auth(r, 'ev2', 'aes', 0), data: bytes(1, 1), expected: Status.PARAMETER_ERROR },
    { name: 'a wrong length', setup: (r) => auth(r, 'ev2', 'aes', 0), data: bytes(1, 2, 0), expected: Status.LENGTH_ERROR },
    {
      name: 'in an application without key sets',
      setup: async (r) => {
        await select(r, PLAIN_APP);
        return auth(r, 'ev2', 'aes', 0);
      },
      data: bytes(1, 2),
      expected: Status.PERMISSION_DENIED,
    },
  ];
  for (const { name, setup, data, expected } of cases) {
    it(`refuses ${name}`, async () => {
      const reader = await withKeySets();
      await setup(reader);
      expect(await status(reader, CommandCode.InitializeKeySet, data)).toBe(expected);
      expect(reader.card.state.applications.get(APP)?.keySets?.others.size).toBe(0);
    });
  }
});

describe('ChangeKeyEV2 (0xC6)', () => {
  for (const generation of ['ev2', 'ev1'] as const) {
    it(`changes keys of another key set in an ${generation} session, which goes on; the active key set is untouched`, async () => {
      const reader = await withKeySets();
      expect(await auth(reader, generation, 'aes', 0)).toBe(Status.OPERATION_OK);
      expect(await initialize(reader, 2, 0x02)).toBe(Status.OPERATION_OK);
      expect(await changeKeyEv2(reader, 2, { keyNo: 0, newKey: key(0x20), newKeyType: 'aes', newKeyVersion: 0x20, oldKey: ZERO_KEY.aes })).toBe(Status.OPERATION_OK);
      expect(await changeKeyEv2(reader, 2, { keyNo: 2, newKey: key(0x22), newKeyType: 'aes', newKeyVersion: 0x22, oldKey: ZERO_KEY.aes })).toBe(Status.OPERATION_OK);
      expect(await keySetVersion(reader, 0, 2)).toBe('20');
      expect(await keySetVersion(reader, 2, 2)).toBe('22');
      expect(await keySetVersion(reader, 2, 0)).toBe('00');
      // A key of a finalized key set can still be changed.
      expect(await finalize(reader, 2, 9)).toBe(Status.OPERATION_OK);
      expect(await changeKeyEv2(reader, 2, { keyNo: 1, newKey: key(0x21), newKeyType: 'aes', newKeyVersion: 0x21, oldKey: ZERO_KEY.aes })).toBe(Status.OPERATION_OK);
      expect(await auth(reader, generation, 'aes', 0)).toBe(Status.OPERATION_OK);
      expect(await auth(reader, 'ev2', 'aes', 2, key(0x22))).toBe(Status.AUTHENTICATION_ERROR);
    });
  }

  it('changes a key of a DES key set in a d40 session', async () => {
    const reader = await withKeySets({ keyType: '2k3des' });
    expect(await auth(reader, 'd40', '2k3des', 0)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x00)).toBe(Status.OPERATION_OK);
    expect(await changeKeyEv2(reader, 1, { keyNo: 1, newKey: key3des(0x10), newKeyType: '2k3des', newKeyVersion: 0x05, oldKey: ZERO_KEY['2k3des'] })).toBe(Status.OPERATION_OK);
    expect(await keySetVersion(reader, 1, 1)).toBe('05');
  });

  it("changes the session's own key in key set 0 like ChangeKey: no MAC on the answer, the session ends", async () => {
    const reader = await withKeySets();
    expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await changeKeyEv2(reader, 0, { keyNo: 0, newKey: key(0x0a), newKeyType: 'aes', newKeyVersion: 3 }, true)).toBe(Status.OPERATION_OK);
    expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.AUTHENTICATION_ERROR);
    expect(await auth(reader, 'ev1', 'aes', 0, key(0x0a))).toBe(Status.OPERATION_OK);
    // In an EV1 session too; another key of key set 0 keeps the session.
    expect(await changeKeyEv2(reader, 0, { keyNo: 1, newKey: key(0x0b), newKeyType: 'aes', newKeyVersion: 4, oldKey: ZERO_KEY.aes })).toBe(Status.OPERATION_OK);
    expect(await keySetVersion(reader, 1, 0)).toBe('04');
  });

  it('changes a PICC key with key set 0 and refuses another key set at PICC level', async () => {
    const reader = new TestReader();
    expect(await auth(reader, 'd40', 'des', 0)).toBe(Status.OPERATION_OK);
    expect(await changeKeyEv2(reader, 1, { keyNo: 0x80, newKey: key(1), newKeyType: 'aes', newKeyVersion: 1 }, true)).toBe(Status.PARAMETER_ERROR);
    expect(await auth(reader, 'd40', 'des', 0)).toBe(Status.OPERATION_OK);
    expect(await changeKeyEv2(reader, 0, { keyNo: 0x80, newKey: key(1), newKeyType: 'aes', newKeyVersion: 1 }, true)).toBe(Status.OPERATION_OK);
    expect(await auth(reader, 'ev2', 'aes', 0, key(1))).toBe(Status.OPERATION_OK);
  });

  const change = (keyNo: number, oldKey: Uint8Array = ZERO_KEY.aes): KeyChange => ({ keyNo, newKey: key(0x55), newKeyType: 'aes', newKeyVersion: 1, oldKey });
  const cases: readonly { name: string; setup: (r: TestReader) => Promise<unknown>; keySetNo: number; change: KeyChange; expected: number }[] = [
    { name: 'a key set not initialized', setup: (r) => auth(r, 'ev2', 'aes', 0), keySetNo: 2, change: change(1), expected: Status.PERMISSION_DENIED },
    { name: 'a key set beyond NoKeySets', setup: (r) => auth(r, 'ev2', 'aes', 0), keySetNo: 3, change: change(1), expected: Status.PARAMETER_ERROR },
    { name: 'a key beyond the keys', setup: (r) => auth(r, 'ev2', 'aes', 0), keySetNo: 1, change: change(3), expected: Status.NO_SUCH_KEY },
    { name: 'another key than the change key (access nibble 0: the master key)', setup: (r) => auth(r, 'ev2', 'aes', 2), keySetNo: 1, change: change(1), expected: Status.PERMISSION_DENIED },
    { name: 'a cryptogram made with another old key (CRC of the new key)', setup: (r) => auth(r, 'ev2', 'aes', 0), keySetNo: 1, change: change(1, key(0x66)), expected: Status.INTEGRITY_ERROR },
    {
      name: 'key set 1 in an application without key sets',
      setup: async (r) => {
        await select(r, PLAIN_APP);
        return auth(r, 'ev2', 'aes', 0);
      },
      keySetNo: 1,
      change: change(1),
      expected: Status.PARAMETER_ERROR,
    },
  ];
  for (const { name, setup, keySetNo, change: c, expected } of cases) {
    it(`refuses ${name}`, async () => {
      const reader = await withKeySets();
      expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
      expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
      await setup(reader);
      expect(await changeKeyEv2(reader, keySetNo, c)).toBe(expected);
      expect(reader.card.state.applications.get(APP)?.keySets?.others.get(1)?.keys[1]?.version).toBe(0);
    });
  }

  it('refuses without authentication', async () => {
    const reader = await withKeySets();
    expect((await reader.send(CommandCode.ChangeKeyEV2, concat(bytes(1, 1), new Uint8Array(32)))).status).toBe(Status.AUTHENTICATION_ERROR);
  });

  it("in EV1 sessions covers C6 || KeySetNo || KeyNo with its first CRC32, so ChangeKey's cryptogram is refused", async () => {
    const reader = await withKeySets();
    expect(await auth(reader, 'ev1', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
    const c: KeyChange = { keyNo: 1, newKey: key(0x71), newKeyType: 'aes', newKeyVersion: 7, oldKey: ZERO_KEY.aes };
    // The layout, written out: (NewKey ⊕ OldKey) || KeyVer || CRC32(C6 || KeySetNo || KeyNo || those) || CRC32(NewKey).
    const body = concat(key(0x71), bytes(7));
    const expected = concat(body, crc32Desfire(concat(bytes(0xc6, 1, 1), body)), crc32Desfire(key(0x71)));
    expect(toHex(changeKeyEv2Cryptogram('ev1', { ...c, keySetNo: 1 }))).toBe(toHex(expected));
    const channel = reader.channel;
    if (!channel) throw new Error('no session');
    const asChangeKey = channel.wrapCryptogram(CommandCode.ChangeKeyEV2, bytes(1, 1), changeKeyCryptogram('ev1', c));
    expect((await reader.send(CommandCode.ChangeKeyEV2, asChangeKey)).status).toBe(Status.INTEGRITY_ERROR);
    expect(await auth(reader, 'ev1', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await changeKeyEv2(reader, 1, c)).toBe(Status.OPERATION_OK);
    expect(await keySetVersion(reader, 1, 1)).toBe('07');
  });
});

describe('FinalizeKeySet (0x57)', () => {
  for (const generation of ['ev2', 'ev1'] as const) {
    it(`gives an initialized key set its version in an ${generation} session`, async () => {
      const reader = await withKeySets({ aksVersion: 0x10, count: 4 });
      expect(await auth(reader, generation, 'aes', 0)).toBe(Status.OPERATION_OK);
      expect(await initialize(reader, 2, 0x02)).toBe(Status.OPERATION_OK);
      expect(await finalize(reader, 2, 0x12)).toBe(Status.OPERATION_OK);
      expect(await keySetVersions(reader)).toBe('10001200');
    });
  }

  const cases: readonly { name: string; setup: (r: TestReader) => Promise<unknown>; data: Uint8Array; expected: number }[] = [
    { name: 'without authentication', setup: async (r) => select(r, APP), data: bytes(1, 2), expected: Status.AUTHENTICATION_ERROR },
    { name: 'with another key than the master key', setup: (r) => auth(r, 'ev2', 'aes', 2), data: bytes(1, 2), expected: Status.PERMISSION_DENIED },
    { name: 'a key set not initialized', setup: async () => {}, data: bytes(2, 2), expected: Status.PERMISSION_DENIED },
    { name: 'key set 0', setup: async () => {}, data: bytes(0, 2), expected: Status.PARAMETER_ERROR },
    { name: 'a key set beyond NoKeySets', setup: async () => {}, data: bytes(3, 2), expected: Status.PARAMETER_ERROR },
    { name: 'a wrong length', setup: async () => {}, data: bytes(1), expected: Status.LENGTH_ERROR },
    {
      name: 'in an application without key sets',
      setup: async (r) => {
        await select(r, PLAIN_APP);
        return auth(r, 'ev2', 'aes', 0);
      },
      data: bytes(1, 2),
      expected: Status.PERMISSION_DENIED,
    },
  ];
  for (const { name, setup, data, expected } of cases) {
    it(`refuses ${name}`, async () => {
      const reader = await withKeySets();
      expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
      expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
      await setup(reader);
      expect(await status(reader, CommandCode.FinalizeKeySet, data)).toBe(expected);
      expect(reader.card.state.applications.get(APP)?.keySets?.others.get(1)?.finalized).toBe(false);
    });
  }

  it('refuses a key set already finalized', async () => {
    const reader = await withKeySets();
    expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
    expect(await finalize(reader, 1, 2)).toBe(Status.OPERATION_OK);
    expect(await finalize(reader, 1, 3)).toBe(Status.PERMISSION_DENIED);
    expect(await keySetVersions(reader)).toBe('010200');
  });
});

describe('RollKeySet (0x55)', () => {
  it('rotates the key sets as liblogicalaccess reads them on a card, and the new active key set authenticates, also of another key type', async () => {
    // A DES application, four key sets, roll key 2 (liblogicalaccess ev2Test: createApplication 0x777 ... 4, 0, 1, 2).
    const reader = await withKeySets({ keyType: '2k3des', keyCount: 3, count: 4, rollKey: 2 });
    expect(await auth(reader, 'ev1', '2k3des', 0)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x00)).toBe(Status.OPERATION_OK);
    expect(await changeKeyEv2(reader, 1, { keyNo: 0, newKey: key3des(0x10), newKeyType: '2k3des', newKeyVersion: 0, oldKey: ZERO_KEY['2k3des'] })).toBe(Status.OPERATION_OK);
    expect(await finalize(reader, 1, 2)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 2, 0x02)).toBe(Status.OPERATION_OK);
    expect(await changeKeyEv2(reader, 2, { keyNo: 0, newKey: key(0x20), newKeyType: 'aes', newKeyVersion: 0, oldKey: ZERO_KEY.aes })).toBe(Status.OPERATION_OK);
    expect(await finalize(reader, 2, 4)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 3, 0x02)).toBe(Status.OPERATION_OK);
    expect(await finalize(reader, 3, 3)).toBe(Status.OPERATION_OK);
    expect(await keySetVersions(reader)).toBe('01020403');

    expect(await auth(reader, 'ev1', '2k3des', 2)).toBe(Status.OPERATION_OK);
    expect(await roll(reader, 1)).toBe(Status.OPERATION_OK);
    expect(await keySetVersions(reader)).toBe('02040301');
    expect(await auth(reader, 'ev1', '2k3des', 0)).toBe(Status.AUTHENTICATION_ERROR);
    expect(await auth(reader, 'ev1', '2k3des', 0, key3des(0x10))).toBe(Status.OPERATION_OK);

    // Roll to key set 2, now the AES one of version 3: the application becomes an AES application.
    expect(await auth(reader, 'ev1', '2k3des', 2)).toBe(Status.OPERATION_OK);
    expect(await roll(reader, 2)).toBe(Status.OPERATION_OK);
    expect(await keySetVersions(reader)).toBe('03010204');
    expect(toHex((await reader.send(CommandCode.GetKeySettings)).data)).toBe('0f8303041002');
    expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);

    expect(await auth(reader, 'ev2', 'aes', 2)).toBe(Status.OPERATION_OK);
    expect(await roll(reader, 3)).toBe(Status.OPERATION_OK);
    expect(await keySetVersions(reader)).toBe('04030102');
    expect(await auth(reader, 'ev2', 'aes', 0, key(0x20))).toBe(Status.OPERATION_OK);
    // The old active DES key set went round and is key set 2 now, with its keys.
    expect(reader.card.state.applications.get(APP)?.keySets?.others.get(2)?.keyType).toBe('2k3des');
  });

  it('works in an EV1 AES session; the session ends and its answer has no MAC', async () => {
    const reader = await withKeySets({ rollKey: 1 });
    expect(await auth(reader, 'ev1', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
    expect(await changeKeyEv2(reader, 1, { keyNo: 1, newKey: key(0x11), newKeyType: 'aes', newKeyVersion: 0x11, oldKey: ZERO_KEY.aes })).toBe(Status.OPERATION_OK);
    expect(await finalize(reader, 1, 2)).toBe(Status.OPERATION_OK);
    expect(await auth(reader, 'ev1', 'aes', 1)).toBe(Status.OPERATION_OK);
    expect(await roll(reader, 1)).toBe(Status.OPERATION_OK);
    // No session any more: a command that needs one is refused.
    expect((await reader.send(CommandCode.GetCardUID)).status).toBe(Status.AUTHENTICATION_ERROR);
    expect(await auth(reader, 'ev1', 'aes', 1)).toBe(Status.AUTHENTICATION_ERROR);
    expect(await auth(reader, 'ev1', 'aes', 1, key(0x11))).toBe(Status.OPERATION_OK);
    expect(await keySetVersion(reader, 1, 0)).toBe('11');
  });

  const cases: readonly { name: string; setup: (r: TestReader) => Promise<unknown>; data: Uint8Array; expected: number }[] = [
    { name: 'without authentication', setup: (r) => select(r, APP), data: bytes(1), expected: Status.AUTHENTICATION_ERROR },
    { name: 'with the master key when the roll key is key 2', setup: (r) => auth(r, 'ev2', 'aes', 0), data: bytes(1), expected: Status.PERMISSION_DENIED },
    { name: 'a key set initialized but not finalized', setup: (r) => auth(r, 'ev2', 'aes', 2), data: bytes(2), expected: Status.PERMISSION_DENIED },
    { name: 'a key set not initialized', setup: (r) => auth(r, 'ev2', 'aes', 2), data: bytes(3), expected: Status.PERMISSION_DENIED },
    { name: 'key set 0', setup: (r) => auth(r, 'ev2', 'aes', 2), data: bytes(0), expected: Status.PARAMETER_ERROR },
    { name: 'a key set beyond NoKeySets', setup: (r) => auth(r, 'ev2', 'aes', 2), data: bytes(4), expected: Status.PARAMETER_ERROR },
    { name: 'a wrong length', setup: (r) => auth(r, 'ev2', 'aes', 2), data: bytes(1, 0), expected: Status.LENGTH_ERROR },
    {
      name: 'in an application without key sets',
      setup: async (r) => {
        await select(r, PLAIN_APP);
        return auth(r, 'ev2', 'aes', 0);
      },
      data: bytes(1),
      expected: Status.PERMISSION_DENIED,
    },
  ];
  for (const { name, setup, data, expected } of cases) {
    it(`refuses ${name}`, async () => {
      const reader = await withKeySets({ count: 4, rollKey: 2 });
      expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
      expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
      expect(await finalize(reader, 1, 2)).toBe(Status.OPERATION_OK);
      expect(await initialize(reader, 2, 0x02)).toBe(Status.OPERATION_OK);
      await setup(reader);
      expect(await status(reader, CommandCode.RollKeySet, data)).toBe(expected);
      expect(reader.card.state.applications.get(APP)?.keySets?.activeVersion).toBe(1);
    });
  }

  it('is one persistent write: a power loss at it leaves the key sets as they were', async () => {
    const reader = await withKeySets();
    expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
    expect(await finalize(reader, 1, 2)).toBe(Status.OPERATION_OK);
    expect(await auth(reader, 'ev2', 'aes', 2)).toBe(Status.OPERATION_OK);
    const before = JSON.stringify(exportImage(reader.card.state));
    reader.card.tearAtWrite(1);
    await expect(roll(reader, 1)).rejects.toBeInstanceOf(CardPowerLost);
    expect(JSON.stringify(exportImage(reader.card.state))).toBe(before);
    reader.card.powerOn();
    reader.channel = undefined;
    await select(reader, APP);
    expect(await auth(reader, 'ev2', 'aes', 2)).toBe(Status.OPERATION_OK);
    expect(await roll(reader, 1)).toBe(Status.OPERATION_OK);
    expect(await keySetVersions(reader)).toBe('020001');
  });
});

describe('GetKeyVersion with the key-set option', () => {
  const cases: readonly { name: string; aid?: number; data: Uint8Array; expected: number }[] = [
    { name: 'KeyNo bit 6 without KeySetNo', data: bytes(0x41), expected: Status.LENGTH_ERROR },
    { name: 'KeySetNo without KeyNo bit 6', data: bytes(0x01, 0x00), expected: Status.LENGTH_ERROR },
    { name: 'the option at PICC level', aid: 0, data: bytes(0x40, 0x00), expected: Status.PARAMETER_ERROR },
    { name: 'a key set beyond NoKeySets', data: bytes(0x41, 0x03), expected: Status.PARAMETER_ERROR },
    { name: 'a key set not initialized', data: bytes(0x41, 0x02), expected: Status.PERMISSION_DENIED },
    { name: 'a key beyond the keys', data: bytes(0x43, 0x00), expected: Status.NO_SUCH_KEY },
    { name: 'the key set versions of an application without key sets', aid: PLAIN_APP, data: bytes(0x40, 0x80), expected: Status.PERMISSION_DENIED },
  ];
  for (const { name, aid, data, expected } of cases) {
    it(`refuses ${name}`, async () => {
      const reader = await withKeySets();
      if (aid !== undefined) await select(reader, aid);
      expect((await reader.send(CommandCode.GetKeyVersion, data)).status).toBe(expected);
    });
  }

  it('reads key set 0 of an application without key sets, and answers MACed in an EV2 session', async () => {
    const reader = await withKeySets();
    await select(reader, PLAIN_APP);
    expect(toHex((await reader.send(CommandCode.GetKeyVersion, bytes(0x42, 0x00))).data)).toBe('00');
    expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await keySetVersion(reader, 2, 0)).toBe('00');
  });
});

describe('card images with key sets', () => {
  it('save and reload to an equal card that goes on rolling', async () => {
    const reader = await withKeySets({ count: 3, rollKey: 0 });
    expect(await auth(reader, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 1, 0x02)).toBe(Status.OPERATION_OK);
    expect(await changeKeyEv2(reader, 1, { keyNo: 0, newKey: key(0x10), newKeyType: 'aes', newKeyVersion: 1, oldKey: ZERO_KEY.aes })).toBe(Status.OPERATION_OK);
    expect(await finalize(reader, 1, 2)).toBe(Status.OPERATION_OK);
    expect(await initialize(reader, 2, 0x02)).toBe(Status.OPERATION_OK);
    const image = JSON.parse(JSON.stringify(exportImage(reader.card.state)));
    // Version 2 images carry key sets, an optional field of the application.
    expect(image.version).toBe(2);
    const saved = image.applications.find((a: { aid: number }) => a.aid === APP);
    expect(saved.keySets).toMatchObject({ count: 3, maxKeySize: 16, rollKey: 0, activeVersion: 1 });
    expect(saved.keySets.others.map((s: { keySetNo: number; finalized: boolean }) => [s.keySetNo, s.finalized])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(image.applications.find((a: { aid: number }) => a.aid === PLAIN_APP).keySets).toBeUndefined();
    const card = new VirtualCard(importImage(image));
    expect(exportImage(card.state)).toEqual(image);

    // The same reader on the reloaded card (TestReader makes its own card; its field is replaced here).
    const reloaded = Object.assign(new TestReader(), { card });
    card.powerOn();
    await select(reloaded, APP);
    expect(await auth(reloaded, 'ev2', 'aes', 0)).toBe(Status.OPERATION_OK);
    expect(await roll(reloaded, 1)).toBe(Status.OPERATION_OK);
    expect(await auth(reloaded, 'ev2', 'aes', 0, key(0x10))).toBe(Status.OPERATION_OK);
  });

  it('refuse malformed key sets with the field named', async () => {
    const reader = await withKeySets();
    const valid = JSON.parse(JSON.stringify(exportImage(reader.card.state)));
    const imageWith = (keySets: unknown) => ({
      ...valid,
      applications: valid.applications.map((a: { aid: number }) => (a.aid === APP ? { ...a, keySets } : a)),
    });
    const base = valid.applications.find((a: { aid: number }) => a.aid === APP).keySets;
    expect(() => importImage(imageWith({ ...base, count: 1 }))).toThrow(/keySets\.count/);
    expect(() => importImage(imageWith({ ...base, maxKeySize: 20 }))).toThrow(/keySets\.maxKeySize/);
    expect(() => importImage(imageWith({ ...base, rollKey: 3 }))).toThrow(/keySets\.rollKey/);
    const set = { keySetNo: 1, keyType: 'aes', version: 0, finalized: false, keys: [{ key: toHex(ZERO_KEY.aes), version: 0 }] };
    expect(() => importImage(imageWith({ ...base, others: [set] }))).toThrow(/others\[0\]\.keys/);
    expect(() => importImage(imageWith({ ...base, others: [{ ...set, keySetNo: 3 }] }))).toThrow(/others\[0\]\.keySetNo/);
  });
});
