import { beforeEach, describe, expect, it } from 'vitest';
import { runDoor } from '../../src/cli/door.js';
import { runStation } from '../../src/cli/station.js';
import { fromHex } from '../../src/desfire/bytes.js';
import { factoryState } from '../../src/emulator/factory.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { BatchState } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { nfcPcscSkipReason, reportPcscSkip, usePcscStack, type PcscTestStack } from '../support/pcsc.js';
import { clientsOf, numberedCards, startInProcess, watchToEnd, type Cleanup } from './support.js';

/**
 * A card producer's station as in production: `desfire-pacs station --reader` beside a PC/SC
 * encoder (here pcscd's vpcd reader holding a virtual card) relays the card to the service, then
 * `desfire-pacs door --reader` checks it through the service. Skipped, with the reason, where the
 * PC/SC stack is missing (CI installs it).
 */
const skip = await nfcPcscSkipReason();
reportPcscSkip(skip, 'PC/SC station end-to-end test');

describe.skipIf(skip !== undefined)(`a remote station on a PC/SC reader${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const pcsc = usePcscStack();
  let stack: PcscTestStack;
  beforeEach(() => {
    stack = pcsc();
  });
  const cleanups: Cleanup[] = [];

  it('encodes the card on the reader for a batch, and the door grants it through the service', async () => {
    try {
      // pcscd and vpcd add milliseconds per exchange, and the virtual card behind vpcd is served by
      // this busy test process: doors of this service allow 500 ms per proximity round (relay
      // timing is tested with in-process cards; this test is about the PC/SC path).
      const service = await startInProcess(cleanups, { stations: { emulated: 0, pcscReaders: [] }, relay: { apduTimeoutMs: 5000, streamTimeoutMs: 30_000, proximityToleranceMs: 500 } });
      const clients = clientsOf(service.address, cleanups);
      const { batch } = await clients.encoder.createBatch({ profile: 'generic-pacs-v1', cards: numberedCards(4242, 1) });
      const attached = await stack.attach(new VirtualCard(factoryState({ uid: fromHex('04ca4d5e6f7a8b') })));
      cleanups.push(() => attached.detach());
      const io = () => {
        const lines: string[] = [];
        return { lines, io: { write: (l: string) => lines.push(l), error: (l: string) => lines.push(l) } };
      };

      const station = io();
      expect(await runStation(['--server', service.address, '--reader', stack.reader, '--count', '1', '--batch', batch!.id, '--station-id', 'encoder-1'], station.io), station.lines.join('\n')).toBe(0);
      expect(station.lines.join('\n')).toMatch(/card 04CA4D5E6F7A8B: encoded, card number 4242/);
      expect((await watchToEnd(clients, batch!.id)).at(-1)!.batch).toMatchObject({ state: BatchState.COMPLETED, counts: { encoded: 1 } });

      const door = io();
      expect(await runDoor(['--server', service.address, '--reader', stack.reader, '--door-id', 'lobby'], door.io), door.lines.join('\n')).toBe(0);
      expect(door.lines.join('\n')).toMatch(/GRANTED[\s\S]*card number 4242/);
    } finally {
      for (const step of cleanups.splice(0).reverse()) await step();
    }
  }, 120_000);
});
