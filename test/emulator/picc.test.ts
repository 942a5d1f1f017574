import { describe, expect, it } from 'vitest';
import { ev1Scheme, ev2Scheme, legacyScheme } from '../../src/desfire/auth/schemes.js';
import { concat, EMPTY, fromHex, toHex, uintLE } from '../../src/desfire/bytes.js';
import { CommandCode } from '../../src/desfire/commands.js';
import { Status } from '../../src/desfire/status.js';
import { maced, PLAIN, TestReader } from './support/harness.js';

const UID = fromHex('04112233445566');
const AES_APP = 0x123456;
const DES_ZERO = new Uint8Array(8);
const AES_ZERO = new Uint8Array(16);

describe('PICC level', () => {
  it('answers GetVersion as an EV3 in three frames, natively and ISO-wrapped', async () => {
    for (const style of ['native', 'wrapped'] as const) {
      const reader = new TestReader({ uid: UID, capacity: '8k' });
      reader.style = style;
      const first = await reader.send(CommandCode.GetVersion, EMPTY, false);
      expect(first.status).toBe(Status.ADDITIONAL_FRAME);
      expect(toHex(first.data)).toBe('04010133001a05');
      const second = await reader.send(0xaf, EMPTY, false);
      expect(toHex(second.data)).toBe('04010103001a05');
      const third = await reader.send(0xaf, EMPTY, false);
      expect(third.status).toBe(Status.OPERATION_OK);
      expect(toHex(third.data.subarray(0, 7))).toBe(toHex(UID));
      expect(third.data.length).toBe(14);
    }
  });

  it('authenticates with the factory DES key in d40 and EV1 modes, and refuses AES and EV2 for a DES key', async () => {
    const reader = new TestReader();
    expect(await reader.authenticate(legacyScheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    expect(await reader.authenticate(ev1Scheme('des', fromHex('0102030405060708')), 0)).toBe(Status.AUTHENTICATION_ERROR);
    expect(await reader.authenticate(ev1Scheme('aes', AES_ZERO), 0)).toBe(Status.AUTHENTICATION_ERROR);
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 0)).toBe(Status.AUTHENTICATION_ERROR);
    expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 1)).toBe(Status.NO_SUCH_KEY);
  });

  it('creates, lists, selects and deletes an AES application with the PICC master key', async () => {
    const reader = new TestReader();
    expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    const create = concat(uintLE(AES_APP, 3), Uint8Array.of(0x0f, 0x83));
    await reader.ok(CommandCode.CreateApplication, EMPTY, create, maced(reader.channel));
    expect((await reader.secure(CommandCode.CreateApplication, EMPTY, create, maced(reader.channel))).status).toBe(Status.DUPLICATE_ERROR);
    // The error ended the session: listing (free by default) still works without it.
    expect(toHex((await reader.secure(CommandCode.GetApplicationIDs, EMPTY, EMPTY, PLAIN)).data)).toBe('563412');
    expect((await reader.send(CommandCode.SelectApplication, uintLE(AES_APP, 3))).status).toBe(Status.OPERATION_OK);
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 2)).toBe(Status.OPERATION_OK);
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 3)).toBe(Status.NO_SUCH_KEY);
    expect((await reader.send(CommandCode.SelectApplication, uintLE(0x999999, 3))).status).toBe(Status.APPLICATION_NOT_FOUND);
    expect((await reader.send(CommandCode.SelectApplication, uintLE(0, 3))).status).toBe(Status.OPERATION_OK);
    expect((await reader.send(CommandCode.DeleteApplication, uintLE(AES_APP, 3))).status).toBe(Status.AUTHENTICATION_ERROR);
    expect(await reader.authenticate(legacyScheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    await reader.ok(CommandCode.DeleteApplication, EMPTY, uintLE(AES_APP, 3), maced(reader.channel));
    expect(toHex(await reader.ok(CommandCode.GetApplicationIDs, EMPTY, EMPTY, maced(reader.channel)))).toBe('');
  });

  it('returns the real UID enciphered with GetCardUID, only when authenticated', async () => {
    const reader = new TestReader({ uid: UID });
    expect((await reader.send(CommandCode.GetCardUID)).status).toBe(Status.AUTHENTICATION_ERROR);
    expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    const uid = await reader.ok(CommandCode.GetCardUID, EMPTY, EMPTY, { command: 'plain', answer: 'full', answerLength: 7 });
    expect(toHex(uid)).toBe(toHex(UID));
  });
});

describe('PICC-level refusals', () => {
  const create = (aid: number, ks2 = 0x81, extra: Uint8Array = EMPTY) => concat(uintLE(aid, 3), Uint8Array.of(0x0f, ks2), extra);
  // `before` applications are created first, with `beforeKeys` keys each.
  const cases: { name: string; data: Uint8Array; expected: number; capacity?: '2k' | '4k' | '8k'; before?: number; beforeKeys?: number }[] = [
    { name: 'AID 000000 is the PICC', data: create(0), expected: Status.PARAMETER_ERROR },
    { name: 'no keys', data: create(1, 0x80), expected: Status.PARAMETER_ERROR },
    { name: '15 keys', data: create(1, 0x8f), expected: Status.PARAMETER_ERROR },
    { name: 'crypto method 11', data: create(1, 0xc1), expected: Status.PARAMETER_ERROR },
    { name: 'too short', data: uintLE(1, 3), expected: Status.LENGTH_ERROR },
    { name: 'ISO parameters sent but not announced', data: create(1, 0x81, Uint8Array.of(0x10, 0xe1)), expected: Status.LENGTH_ERROR },
    { name: 'DF name longer than 16 bytes', data: create(1, 0xa1, concat(uintLE(0xe110, 2), new Uint8Array(17).fill(1))), expected: Status.LENGTH_ERROR },
    { name: 'the 29th application', data: create(0x1d), expected: Status.COUNT_ERROR, before: 28, beforeKeys: 1 },
    // Capacity model (memory.ts): a 14-key AES application takes 320 bytes, a 2K card has 1792 for applications.
    { name: 'no memory left on a 2K card', data: create(0x0e, 0x8e), expected: Status.OUT_OF_EEPROM_ERROR, capacity: '2k', before: 5, beforeKeys: 14 },
  ];
  it.each(cases)('CreateApplication: $name', async ({ data, expected, capacity, before, beforeKeys }) => {
    const reader = new TestReader({ capacity });
    for (let aid = 1; aid <= (before ?? 0); aid++) {
      expect((await reader.send(CommandCode.CreateApplication, create(aid, 0x80 | (beforeKeys ?? 1)))).status).toBe(Status.OPERATION_OK);
    }
    expect((await reader.send(CommandCode.CreateApplication, data)).status).toBe(expected);
  });

  it('refuses PICC-level commands inside an application and unknown AIDs', async () => {
    const reader = new TestReader();
    expect((await reader.send(CommandCode.CreateApplication, create(7))).status).toBe(Status.OPERATION_OK);
    expect((await reader.send(CommandCode.SelectApplication, uintLE(7, 3))).status).toBe(Status.OPERATION_OK);
    expect((await reader.send(CommandCode.GetApplicationIDs)).status).toBe(Status.PERMISSION_DENIED);
    expect((await reader.send(CommandCode.CreateApplication, create(8))).status).toBe(Status.PERMISSION_DENIED);
    expect((await reader.send(CommandCode.SelectApplication, uintLE(7, 2))).status).toBe(Status.LENGTH_ERROR);
    expect((await reader.send(CommandCode.DeleteApplication, uintLE(9, 3))).status).toBe(Status.APPLICATION_NOT_FOUND);
    expect((await reader.send(CommandCode.GetVersion, Uint8Array.of(1))).status).toBe(Status.LENGTH_ERROR);
    expect((await reader.send(0x99)).status).toBe(Status.ILLEGAL_COMMAND_CODE);
    // Delegated applications are a feature this card does not have: answered as such a card would.
    expect((await reader.send(CommandCode.CreateDelegatedApplication, uintLE(9, 3))).status).toBe(Status.ILLEGAL_COMMAND_CODE);
  });
});
