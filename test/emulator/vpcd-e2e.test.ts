import { beforeEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { PcscTestStack, pcscSkipReason, reportPcscSkip, usePcscStack } from '../support/pcsc.js';
import { StubCard } from '../support/stub-card.js';
import { factoryState } from '../../src/emulator/factory.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';

/**
 * The virtual card through the real stack: our vpcd client -> vpcd (pcscd's driver) -> pcscd ->
 * libpcsclite -> scriptor. Skipped, with the reason on one line, where pcscd, vpcd or pcsc-tools
 * are missing; CI installs and starts them (.ci/install-pcsc.sh, .ci/start-pcscd.sh).
 */
const skip = pcscSkipReason();
reportPcscSkip(skip, 'vpcd end-to-end tests');

describe.skipIf(skip !== undefined)(`vpcd with pcscd and a PC/SC application${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const pcsc = usePcscStack();
  let stack: PcscTestStack;
  beforeEach(() => {
    stack = pcsc();
  });

  it('scriptor sends 90 60 00 00 00 through pcscd and gets the card\'s answer; FF CA gives the UID', async () => {
    const card = new StubCard({ uid: '04e2e2e2e2e2e2', answers: { '9060000000': '0401013300160591af', '60': '0401013300160591af' } });
    const attached = await stack.attach(card);
    const reader = await stack.connect();
    try {
      expect(toHex(await reader.transceive(fromHex('9060000000')))).toBe('0401013300160591af');
      expect(await reader.identify()).toEqual({ uid: fromHex('04e2e2e2e2e2e2') });
      expect(toHex(await reader.transceive(fromHex('ffca000004')))).toBe('6c07');
      // A native (unwrapped) 1-byte DESFire command goes through too, though vpcd frames it like a control code.
      expect(toHex(await reader.transceive(fromHex('60')))).toBe('0401013300160591af');
    } finally {
      await reader.close();
      await attached.detach();
    }
    expect(card.log).toContain('> 9060000000');
    expect(card.log).not.toContain('> ffca000000'); // the reader answers it, the card never sees it
    expect(attached.events.filter((e) => e.type === 'connected')).toHaveLength(1); // in the field the whole time
  });

  it('the real virtual card answers GetVersion as a DESFire EV3 through pcscd (ISO-wrapped, three frames)', async () => {
    const card = new VirtualCard(factoryState({ uid: fromHex('04a5a5a5a5a5a5'), capacity: '8k' }));
    const attached = await stack.attach(card);
    const reader = await stack.connect();
    try {
      expect(toHex(await reader.transceive(fromHex('9060000000')))).toBe('04010133001a0591af');
      expect(toHex(await reader.transceive(fromHex('90af000000')))).toBe('04010103001a0591af');
      const last = toHex(await reader.transceive(fromHex('90af000000')));
      expect(last.slice(0, 14)).toBe('04a5a5a5a5a5a5');
      expect(last.slice(-4)).toBe('9100');
      expect(await reader.identify()).toEqual({ uid: fromHex('04a5a5a5a5a5a5') });
    } finally {
      await reader.close();
      await attached.detach();
    }
  });

  it('the answer delay reaches the PC/SC application', async () => {
    const card = new StubCard({ uid: '04d1d1d1d1d1d1', answers: { '9060000000': '91af' }, answerDelayMs: 300 });
    const attached = await stack.attach(card);
    const reader = await stack.connect();
    try {
      const start = performance.now();
      expect(toHex(await reader.transceive(fromHex('9060000000')))).toBe('91af');
      expect(performance.now() - start).toBeGreaterThanOrEqual(290);
    } finally {
      await reader.close();
      await attached.detach();
    }
  });

  it('a power loss looks like a card pulled mid-command: empty answer, card removed, then inserted again', async () => {
    const card = new StubCard({ uid: '04c0c0c0c0c0c0', answers: { '9060000000': '91af' }, tearOn: ['903d000000'] });
    const attached = await stack.attach(card, { removalMs: 2000 });
    const reader = await stack.connect();
    try {
      // pcscd reports the torn command as a successful transmit with no bytes (vpcd reads EOF).
      expect(toHex(await reader.transceive(fromHex('903d000000')))).toBe('');
      // The next command on the same PC/SC handle fails: the card is gone.
      await expect(reader.transceive(fromHex('9060000000'))).rejects.toThrow(/Transaction failed|Card was removed|not transacted/i);
    } finally {
      await reader.close();
    }
    await stack.waitForNoCard();
    await stack.waitForCard(card.uid); // back after removalMs, as a new card
    const again = await stack.connect();
    try {
      expect(toHex(await again.transceive(fromHex('9060000000')))).toBe('91af');
    } finally {
      await again.close();
      await attached.detach();
    }
    expect(attached.events.map((e) => e.type)).toContain('card-lost');
  });
});
