import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { CardPowerLost } from '../../src/emulator/card-endpoint.js';
import { factoryState } from '../../src/emulator/factory.js';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';

const UID = fromHex('04010203040506');

describe('in-process transport', () => {
  it('powers the card when placed, reports UID and ATR, and relays APDUs', async () => {
    const transport = new InProcessTransport(new VirtualCard(factoryState({ uid: UID })));
    expect(toHex(transport.card?.uid ?? new Uint8Array())).toBe(toHex(UID));
    expect(toHex(transport.card?.atr ?? new Uint8Array())).toBe('3b8180018080');
    expect(toHex(await transport.transceive(fromHex('9060000000')))).toBe('04010133001a0591af');
  });

  it('waits for the card\'s answer delay (relay simulation)', async () => {
    const card = new VirtualCard(factoryState({ uid: UID }));
    card.answerDelayMs = 40;
    const transport = new InProcessTransport(card);
    const start = performance.now();
    await transport.transceive(fromHex('6e'));
    expect(performance.now() - start).toBeGreaterThanOrEqual(35);
  });

  it('a power loss rejects the transceive and empties the field; the card can be placed again', async () => {
    const card = new VirtualCard(factoryState({ uid: UID }));
    const transport = new InProcessTransport(card);
    // Authenticate with the factory key is not needed: CreateApplication is free on a factory card.
    card.tearAtWrite(1);
    await expect(transport.transceive(fromHex('ca0100000f81'))).rejects.toBeInstanceOf(CardPowerLost);
    expect(transport.card).toBeUndefined();
    expect(card.powered).toBe(false);
    await expect(transport.transceive(fromHex('60'))).rejects.toThrow(/no card/);
    transport.place(card);
    expect(toHex(await transport.transceive(fromHex('6a')))).toBe('00'); // the application was never written
  });
});
