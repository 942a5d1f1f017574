import { describe, expect, it } from 'vitest';
import { ev1Scheme, ev2Scheme, legacyScheme } from '../../src/desfire/auth/schemes.js';
import { changeKeyCryptogram, type KeyChange } from '../../src/desfire/change-key.js';
import { concat, EMPTY, fromHex, toHex, uintLE } from '../../src/desfire/bytes.js';
import { CommandCode } from '../../src/desfire/commands.js';
import { Status } from '../../src/desfire/status.js';
import { maced, TestReader } from './support/harness.js';

const DES_ZERO = new Uint8Array(8);
const AES_ZERO = new Uint8Array(16);
const NEW_PICC_KEY = fromHex('00112233445566778899aabbccddeeff');
const APP = 0xa1b2c3;

/** Sends ChangeKey; `sameKey` answers carry no MAC (the session ended). Returns the status. */
async function changeKey(reader: TestReader, change: KeyChange, sameKey: boolean): Promise<number> {
  const channel = reader.channel;
  if (!channel) throw new Error('ChangeKey needs a session');
  const body = channel.wrapCryptogram(CommandCode.ChangeKey, Uint8Array.of(change.keyNo), changeKeyCryptogram(channel.generation, change));
  const answer = await reader.send(CommandCode.ChangeKey, body);
  if (answer.status === Status.OPERATION_OK && !sameKey) {
    channel.unwrapResponse(answer.status, answer.data, channel.generation === 'ev2' ? 'mac' : 'plain');
  } else if (answer.status === Status.OPERATION_OK) {
    expect(answer.data.length).toBe(0);
    reader.channel = undefined;
  }
  return answer.status;
}

async function withAesApplication(keySettings = 0x0f): Promise<TestReader> {
  const reader = new TestReader();
  expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
  await reader.ok(CommandCode.CreateApplication, EMPTY, concat(uintLE(APP, 3), Uint8Array.of(keySettings, 0x83)), maced(reader.channel));
  expect((await reader.send(CommandCode.SelectApplication, uintLE(APP, 3))).status).toBe(Status.OPERATION_OK);
  return reader;
}

describe('ChangeKey on the card', () => {
  it('turns the factory DES PICC master key into an AES key (key byte 0x80) in a d40 session, then EV2 works with it', async () => {
    const reader = new TestReader();
    expect(await reader.authenticate(legacyScheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    expect(await changeKey(reader, { keyNo: 0x80, newKey: NEW_PICC_KEY, newKeyType: 'aes', newKeyVersion: 7 }, true)).toBe(Status.OPERATION_OK);
    expect(reader.card.state.masterKeyType).toBe('aes');
    expect(await reader.authenticate(legacyScheme('des', DES_ZERO), 0)).toBe(Status.AUTHENTICATION_ERROR);
    expect(await reader.authenticate(ev2Scheme('aes', NEW_PICC_KEY), 0)).toBe(Status.OPERATION_OK);
    expect(toHex(await reader.ok(CommandCode.GetKeyVersion, EMPTY, Uint8Array.of(0), maced(reader.channel)))).toBe('07');
    expect(toHex(await reader.ok(CommandCode.GetKeySettings, EMPTY, EMPTY, maced(reader.channel)))).toBe('0f81');
  });

  it('changes another application key with the master key in EV2 (XOR with the old key) and its own key with itself', async () => {
    const reader = await withAesApplication();
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 0)).toBe(Status.OPERATION_OK);
    const key1 = fromHex('11111111111111111111111111111111');
    expect(await changeKey(reader, { keyNo: 1, newKey: key1, newKeyType: 'aes', newKeyVersion: 1, oldKey: AES_ZERO }, false)).toBe(Status.OPERATION_OK);
    // The session survives a change of another key.
    expect(toHex(await reader.ok(CommandCode.GetKeyVersion, EMPTY, Uint8Array.of(1), maced(reader.channel)))).toBe('01');
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 1)).toBe(Status.AUTHENTICATION_ERROR);
    expect(await reader.authenticate(ev1Scheme('aes', key1), 1)).toBe(Status.OPERATION_OK);
    // Default ChangeKey access (0x0_): only the master key changes keys.
    expect(await changeKey(reader, { keyNo: 2, newKey: key1, newKeyType: 'aes', newKeyVersion: 1, oldKey: AES_ZERO }, false)).toBe(Status.PERMISSION_DENIED);
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 0)).toBe(Status.OPERATION_OK);
    const key0 = fromHex('00000000000000000000000000000001');
    expect(await changeKey(reader, { keyNo: 0, newKey: key0, newKeyType: 'aes', newKeyVersion: 3 }, true)).toBe(Status.OPERATION_OK);
    expect(await reader.authenticate(ev2Scheme('aes', key0), 0)).toBe(Status.OPERATION_OK);
  });

  it('enforces the ChangeKey access nibble and the frozen master key', async () => {
    // 0xE0 | 0x0E: keys change themselves; master key not changeable (bit 0 clear).
    const reader = await withAesApplication(0xee);
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 2)).toBe(Status.OPERATION_OK);
    const key2 = fromHex('22222222222222222222222222222222');
    expect(await changeKey(reader, { keyNo: 2, newKey: key2, newKeyType: 'aes', newKeyVersion: 2 }, true)).toBe(Status.OPERATION_OK);
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 0)).toBe(Status.OPERATION_OK);
    expect(await changeKey(reader, { keyNo: 0, newKey: key2, newKeyType: 'aes', newKeyVersion: 2 }, true)).toBe(Status.PERMISSION_DENIED);
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 0)).toBe(Status.OPERATION_OK);
    expect(await changeKey(reader, { keyNo: 1, newKey: key2, newKeyType: 'aes', newKeyVersion: 2, oldKey: AES_ZERO }, false)).toBe(Status.PERMISSION_DENIED);
  });

  it('ChangeKeySettings freezes the configuration, GetKeySettings reports it', async () => {
    const reader = await withAesApplication();
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 0)).toBe(Status.OPERATION_OK);
    const full = { command: 'full', answer: 'mac' } as const;
    await reader.ok(CommandCode.ChangeKeySettings, EMPTY, Uint8Array.of(0x01), full);
    expect(toHex(await reader.ok(CommandCode.GetKeySettings, EMPTY, EMPTY, maced(reader.channel)))).toBe('0183');
    expect((await reader.secure(CommandCode.ChangeKeySettings, EMPTY, Uint8Array.of(0x0f), full)).status).toBe(Status.PERMISSION_DENIED);
    // The refusal ended the session, and listing is no longer free (bit 1 clear): GetKeySettings needs the master key.
    expect((await reader.send(CommandCode.GetKeySettings)).status).toBe(Status.AUTHENTICATION_ERROR);
  });
});
