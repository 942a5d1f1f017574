import { describe, expect, it } from 'vitest';
import { ev1Scheme, ev2Scheme } from '../../src/desfire/auth/schemes.js';
import { concat, EMPTY, fromHex, toHex, uintLE } from '../../src/desfire/bytes.js';
import { CommandCode } from '../../src/desfire/commands.js';
import { Status } from '../../src/desfire/status.js';
import { exportImage, ImageError, importImage } from '../../src/emulator/image.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { maced, TestReader } from './support/harness.js';

const DES_ZERO = new Uint8Array(8);
const UID = fromHex('04a1a2a3a4a5a6');
const FULL = { command: 'full', answer: 'plain' } as const;

async function setConfiguration(reader: TestReader, option: number, data: Uint8Array): Promise<number> {
  const modes = reader.channel?.generation === 'ev2' ? { command: 'full', answer: 'mac' } as const : FULL;
  return (await reader.secure(CommandCode.SetConfiguration, Uint8Array.of(option), data, modes)).status;
}

describe('SetConfiguration and random UID', () => {
  it('random UID: a fresh 08-prefixed ID each power-up, the real UID only through GetCardUID', async () => {
    const reader = new TestReader({ uid: UID });
    expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    expect(await setConfiguration(reader, 0x00, Uint8Array.of(0x02))).toBe(Status.OPERATION_OK);
    const ids = new Set<string>();
    for (let i = 0; i < 4; i++) {
      reader.card.powerOn();
      expect(reader.card.uid.length).toBe(4);
      expect(reader.card.uid[0]).toBe(0x08);
      ids.add(toHex(reader.card.uid));
    }
    expect(ids.size).toBeGreaterThan(1);
    expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    expect(toHex(await reader.ok(CommandCode.GetCardUID, EMPTY, EMPTY, { command: 'plain', answer: 'full', answerLength: 7 }))).toBe(toHex(UID));
  });

  it('disables FormatPICC for good, sets the default key of new applications, refuses unknown options', async () => {
    const reader = new TestReader();
    expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    const defaultKey = fromHex('0102030405060708090a0b0c0d0e0f100000000000000000');
    expect(await setConfiguration(reader, 0x01, concat(defaultKey, Uint8Array.of(0x05)))).toBe(Status.OPERATION_OK);
    expect(await setConfiguration(reader, 0x00, Uint8Array.of(0x01))).toBe(Status.OPERATION_OK);
    expect((await reader.secure(CommandCode.FormatPICC, EMPTY, EMPTY, maced(reader.channel))).status).toBe(Status.PERMISSION_DENIED);
    expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    await reader.ok(CommandCode.CreateApplication, EMPTY, concat(uintLE(0x000042, 3), Uint8Array.of(0x0f, 0x81)), maced(reader.channel));
    expect(await setConfiguration(reader, 0x09, Uint8Array.of(0))).toBe(Status.PARAMETER_ERROR);
    expect((await reader.send(CommandCode.SelectApplication, uintLE(0x000042, 3))).status).toBe(Status.OPERATION_OK);
    expect(await reader.authenticate(ev2Scheme('aes', defaultKey.subarray(0, 16)), 0)).toBe(Status.OPERATION_OK);
    expect(toHex(await reader.ok(CommandCode.GetKeyVersion, EMPTY, Uint8Array.of(0), maced(reader.channel)))).toBe('05');
  });

  it('SetConfiguration needs the PICC master key', async () => {
    const reader = new TestReader();
    expect(await setConfiguration(reader, 0x00, Uint8Array.of(0x02))).toBe(Status.AUTHENTICATION_ERROR);
  });
});

describe('card images', () => {
  it('a saved image reloads to an equal card that still works', async () => {
    const reader = new TestReader({ uid: UID, capacity: '4k' });
    expect(await reader.authenticate(ev1Scheme('des', DES_ZERO), 0)).toBe(Status.OPERATION_OK);
    await reader.ok(CommandCode.CreateApplication, EMPTY, concat(uintLE(0x010203, 3), Uint8Array.of(0x0b, 0xa2), uintLE(0xe110, 2), fromHex('d2760000850101')), maced(reader.channel));
    const image = JSON.parse(JSON.stringify(exportImage(reader.card.state)));
    const reloaded = new VirtualCard(importImage(image));
    expect(exportImage(reloaded.state)).toEqual(image);
    reloaded.powerOn();
    // GetDFNames: status 00, AID 010203 (LSB first), ISO FID E110 (LSB first), the DF name.
    expect(toHex(reloaded.transceive(Uint8Array.of(0x6d)))).toBe('0003020110e1d2760000850101');
  });

  it('a malformed image is refused with the field named', () => {
    const valid = JSON.parse(JSON.stringify(exportImage(new TestReader().card.state)));
    expect(() => importImage({ ...valid, version: 3 })).toThrow(/version/);
    expect(importImage({ ...valid, version: 1 }).uid).toEqual(importImage(valid).uid); // version 1 images still load
    expect(() => importImage({ ...valid, capacity: '16k' })).toThrow(/capacity/);
    expect(() => importImage({ ...valid, uid: '0411' })).toThrow(/uid/);
    const image = { ...valid };
    image.applications = [{ aid: 5, keySettings: 15, keyType: 'aes', keys: [{ key: '00', version: 0 }], files: [] }];
    expect(() => importImage(image)).toThrow(ImageError);
    expect(() => importImage(image)).toThrow(/applications\[0\]\.keys\[0\]\.key/);
  });
});
