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
