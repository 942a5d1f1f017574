import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/desfire/bytes.js';
import { factoryState } from '../../../src/emulator/factory.js';
import { VirtualCard } from '../../../src/emulator/virtual-card.js';
import { DesfireClient } from '../../../src/encoder/client/desfire-client.js';
import { TransportError } from '../../../src/encoder/transport-error.js';
import { listPcscReaders, PcscTransport } from '../../../src/encoder/transports/index.js';
import { nfcPcscSkipReason, PcscTestStack, reportPcscSkip, usePcscStack } from '../../support/pcsc.js';
import { STUB_ATR, StubCard } from '../../support/stub-card.js';
import { runNode, transpileForChild } from '../../support/child-node.js';
import { doorConfigOf, planCard } from '../../../src/encoder/card-plan.js';
import { authenticateAtDoor, doorCheck } from '../../../src/encoder/door/authenticator.js';
import { MemoryKeyStore } from '../../../src/encoder/keys/index.js';
import { personalize } from '../../../src/encoder/personalize/personalizer.js';
import { loadProfileFile, parseCardData, validateProfile } from '../../../src/encoder/profile/index.js';

/**
 * The PC/SC transport through the real stack: DesfireClient -> PcscTransport -> nfc-pcsc ->
 * libpcsclite -> pcscd -> vpcd -> our vpcd client -> the virtual card. Skipped, with the reason on
 * one line, where pcscd, vpcd, pcsc-tools or nfc-pcsc's native addon are missing. The stack holds
 * the vpcd slot lock, so these tests never share slot 0 with the vpcd end-to-end tests.
 */
const skip = await nfcPcscSkipReason();

/** A whole program: open, take the card, one APDU, close; it must then end by itself (no process.exit). */
const EXIT_CHECK = `
import { PcscTransport } from './src/encoder/transports/pcsc-transport.js';
const transport = await PcscTransport.open(process.argv[2]);
const card = await transport.waitForCard({ timeoutMs: 10000 });
const answer = await transport.transceive(Uint8Array.of(0x90, 0x60, 0x00, 0x00, 0x00));
process.stdout.write(Buffer.from(card.uid).toString('hex') + ' ' + Buffer.from(answer).toString('hex') + '\\n');
await transport.close();
`;
reportPcscSkip(skip, 'PC/SC transport end-to-end tests');

describe.skipIf(skip !== undefined)(`PcscTransport through nfc-pcsc, pcscd and vpcd${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const pcsc = usePcscStack();
  let stack: PcscTestStack;
  beforeEach(() => {
    stack = pcsc();
  });

  it('lists the vpcd reader; a name matching no reader, or several, is refused with the readers named', async () => {
    const readers = await listPcscReaders();
    expect(readers).toContain(stack.reader);
    const refused = PcscTransport.open('no such reader', { timeoutMs: 300 });
    await expect(refused).rejects.toBeInstanceOf(TransportError);
    await expect(refused).rejects.toThrow(`no PC/SC reader matches "no such reader" within 300 ms (readers: ${readers.map((r) => JSON.stringify(r)).join(', ')})`);
    const slots = readers.filter((name) => name.startsWith(stack.config.friendlyName));
    if (slots.length > 1) {
      await expect(PcscTransport.open(stack.config.friendlyName.toLowerCase())).rejects.toThrow(`matches ${slots.length} readers`);
    }
  });

  it('a virtual card: UID and ATR, then GetVersion, EV1 authentication with the factory DES key and GetCardUID', async () => {
    const uid = fromHex('04a1b2c3d4e5f6');
    const attached = await stack.attach(new VirtualCard(factoryState({ uid })));
    const transport = await PcscTransport.open(stack.reader);
    try {
      expect(transport.readerName).toBe(stack.reader);
      const presence = await transport.waitForCard({ timeoutMs: 10_000 });
      expect(toHex(presence.uid)).toBe('04a1b2c3d4e5f6');
      expect(toHex(presence.atr!)).toBe(STUB_ATR);
      expect(transport.card).toEqual(presence);

      const client = new DesfireClient(transport);
      const version = await client.getVersion(); // three frames: 91AF chaining reaches the client as sent
      expect(version.hardware).toMatchObject({ vendor: 0x04, type: 0x01, major: 0x33 });
      expect(toHex(version.uid)).toBe('04a1b2c3d4e5f6');
      await client.authenticate('ev1', 0, { type: 'des', key: new Uint8Array(8) });
      expect(client.session?.generation).toBe('ev1');
      expect(toHex(await client.getCardUid())).toBe('04a1b2c3d4e5f6');
    } finally {
      await transport.close();
      await attached.detach();
    }
  });

  it('encodes a factory card with generic-pacs-v1 and a door then grants it, all through pcscd', async () => {
    const uid = fromHex('04a7a7a7a7a7a7');
    const card = new VirtualCard(factoryState({ uid }));
    const attached = await stack.attach(card);
    const transport = await PcscTransport.open(stack.reader);
    try {
      await transport.waitForCard({ timeoutMs: 10_000 });
      const profile = validateProfile(await loadProfileFile('profiles/generic-pacs-v1.yaml'));
      const keyStore = new MemoryKeyStore([{ name: 'pacs', versions: [{ version: 1, picc: new Uint8Array(16).fill(7), applicationKeys: [8, 9, 10].map((b) => new Uint8Array(16).fill(b)) }] }]);
      const cardData = parseCardData('card_number: 77\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: 2099-01-01T00:00:00Z\n', 'yaml');
      // pcscd adds milliseconds per exchange: the proximity rounds get a generous tolerance here.
      const door = doorConfigOf(profile, keyStore, { proximityToleranceNs: 500_000_000n });
      const plan = await planCard(profile, cardData, keyStore, uid);
      const steps: string[] = [];
      await personalize({
        client: new DesfireClient(transport),
        uid,
        ...plan,
        journal: { record: (e) => void steps.push(`${e.step}:${e.phase}`) },
        verify: doorCheck(new DesfireClient(transport), uid, door),
      });
      expect(steps.filter((s) => s.endsWith(':completed')).length).toBe(9);
      const result = await authenticateAtDoor(new DesfireClient(transport), uid, door);
      expect(result.granted ? result.credential.cardNumber : result.reason).toBe(77n);
    } finally {
      await transport.close();
      await attached.detach();
    }
  }, 60_000);

  it('waiting for a card in an empty slot times out, or stops when aborted; a card attached later is found', async () => {
    await stack.waitForNoCard();
    const transport = await PcscTransport.open(stack.reader.slice(-5)); // "00 00": a part of the name
    try {
      expect(transport.readerName).toBe(stack.reader);
      await expect(transport.waitForCard({ timeoutMs: 300 })).rejects.toThrow(`no card in PC/SC reader "${stack.reader}" within 300 ms`);
      const controller = new AbortController();
      const aborted = transport.waitForCard({ signal: controller.signal });
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
      await expect(transport.transceive(fromHex('9060000000'))).rejects.toThrow('call waitForCard() first');

      const waiting = transport.waitForCard({ timeoutMs: 15_000 });
      const attached = await stack.attach(new StubCard({ uid: '04b0b0b0b0b0b0', answers: { '9060000000': '91af' } }));
      try {
        expect(toHex((await waiting).uid)).toBe('04b0b0b0b0b0b0');
        expect(toHex(await transport.transceive(fromHex('9060000000')))).toBe('91af');
      } finally {
        await attached.detach();
      }
      await transport.waitForRemoval({ timeoutMs: 10_000 });
      expect(transport.card).toBeUndefined();
      await expect(transport.transceive(fromHex('9060000000'))).rejects.toThrow(/left PC\/SC reader .* or lost power/);
    } finally {
      await transport.close();
    }
    await expect(transport.waitForCard()).rejects.toThrow('is closed');
  });

  it('a card pulled mid-command: the empty answer is a TransportError, and nothing goes through until the card is taken again', async () => {
    const card = new StubCard({ uid: '04c1c1c1c1c1c1', answers: { '9060000000': '91af' }, tearOn: ['903d000000'] });
    const attached = await stack.attach(card, { removalMs: 1500 });
    const transport = await PcscTransport.open(stack.reader);
    try {
      await transport.waitForCard({ timeoutMs: 10_000 });
      const client = new DesfireClient(transport);
      await expect(client.send(0x3d, new Uint8Array(0), new Uint8Array(0))).rejects.toThrow(
        new TransportError(`empty answer from PC/SC reader "${stack.reader}": the card left the field or lost power mid-command`),
      );
      expect(transport.card).toBeUndefined();
      await expect(transport.transceive(fromHex('9060000000'))).rejects.toBeInstanceOf(TransportError);
      // vpcd presents the card again after removalMs: pcscd sees it leave, then a new card.
      const again = await transport.waitForCard({ timeoutMs: 15_000 });
      expect(toHex(again.uid)).toBe('04c1c1c1c1c1c1');
      expect(toHex(await transport.transceive(fromHex('9060000000')))).toBe('91af');
    } finally {
      await transport.close();
      await attached.detach();
    }
    expect(card.log.filter((line) => line.startsWith('>'))).toEqual(['> 903d000000', '> 9060000000']); // nothing of nfc-pcsc's own
  });

  it('a process that took a card and closed the transport exits on its own: nothing of nfc-pcsc keeps it alive', async () => {
    const attached = await stack.attach(new StubCard({ uid: '04e0e0e0e0e0e0', answers: { '9060000000': '91af' } }));
    const child = await transpileForChild('src/encoder/transports/pcsc-transport.ts', 'pcsc-exit');
    try {
      const script = join(child.dir, 'exit-check.mjs');
      await writeFile(script, EXIT_CHECK);
      const outcome = await runNode(script, [stack.reader], 20_000);
      expect(outcome, 'code undefined: still running 20 s after close()').toMatchObject({ code: 0, stdout: '04e0e0e0e0e0e0 91af\n' });
    } finally {
      await child.remove();
      await attached.detach();
    }
  });
});
