import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromHex } from '../../../src/desfire/bytes.js';
import type { CardPresence } from '../../../src/desfire/transport.js';
import type { CardEndpoint } from '../../../src/emulator/card-endpoint.js';
import { factoryState } from '../../../src/emulator/factory.js';
import { InProcessTransport } from '../../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../../src/emulator/virtual-card.js';
import { waitUntil, type WaitOptions } from '../../../src/encoder/transports/wait.js';
import { Journal } from '../../../src/server/journal/index.js';
import { PcscStation, type CardReader } from '../../../src/server/stations/pcsc-station.js';
import { StationRegistry } from '../../../src/server/stations/station-registry.js';
import { steppingClock } from '../journal/support.js';
import { atDoor, batchCards, genericPacs, keyStoreFor, runnerFor, silentLogger } from '../batches/support.js';
import { nextEvent } from './support/events.js';

/** A reader slot an operator puts cards in and takes them out of (a card that loses power leaves the slot). */
class OperatorReader implements CardReader {
  readonly #slot = new InProcessTransport();
  readonly #listeners = new Set<() => void>();

  place(card: CardEndpoint): void {
    this.#slot.place(card);
    this.#notify();
  }

  remove(): void {
    this.#slot.remove();
    this.#notify();
  }

  get card(): CardPresence | undefined {
    return this.#slot.card;
  }

  async transceive(apdu: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.#slot.transceive(apdu);
    } finally {
      this.#notify();
    }
  }

  waitForCard(options: WaitOptions = {}): Promise<CardPresence> {
    return waitUntil(options, (n) => this.#subscribe(n), () => this.#slot.card, () => new Error('no card'));
  }

  waitForRemoval(options: WaitOptions = {}): Promise<void> {
    return waitUntil(options, (n) => this.#subscribe(n), () => (this.#slot.card === undefined ? true : undefined), () => new Error('card stays')).then(() => undefined);
  }

  #subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

const blank = (n: number) => new VirtualCard(factoryState({ uid: fromHex(`04${n.toString(16).padStart(12, '0')}`) }));

describe('PcscStation', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('encodes each card put on the reader, finishes a pulled one when it is back, refuses a foreign one, and stops while waiting', async () => {
    const journal = Journal.open({ path: ':memory:', now: steppingClock() });
    stops.push(() => journal.close());
    const keyStore = keyStoreFor(journal);
    const runner = await runnerFor(journal, keyStore);
    const registry = new StationRegistry();
    registry.follow(runner.events);
    const batch = journal.createBatch({ profile: 'generic-pacs-v1', keySet: 'pacs', cards: batchCards(1, 3) });
    const reader = new OperatorReader();
    const station = new PcscStation({ id: 'desk-1', reader, runner, registry, logger: silentLogger, batchId: batch.id });
    stops.push(() => station.stop());
    const settled = (state: string) => nextEvent(runner.events, (e) => e.kind === 'card' && e.card.state === state);
    const activity = () => registry.get('desk-1')?.activity;
    station.start();
    await vi.waitFor(() => expect(activity()).toBe('waiting for a card'));

    const first = blank(1);
    let encoded = settled('encoded');
    reader.place(first);
    expect(await encoded).toMatchObject({ card: { cardNumber: 1n }, stationId: 'desk-1' });
    await vi.waitFor(() => expect(activity()).toBe('card 1 encoded: take the card away'));
    reader.remove();
    expect((await atDoor(await genericPacs(), keyStore, new InProcessTransport(first), first.uid)).granted).toBe(true);

    // pulled out mid-way: the card powers off at a write, the slot is empty
    const pulled = blank(2);
    pulled.tearAtWrite(5);
    const failed = settled('failed');
    reader.place(pulled);
    expect(await failed).toMatchObject({ card: { cardNumber: 2n } });
    await vi.waitFor(() => expect(activity()).toBe('waiting for a card'));
    encoded = settled('encoded');
    reader.place(pulled);
    expect(await encoded).toMatchObject({ card: { cardNumber: 2n } });
    await vi.waitFor(() => expect(activity()).toBe('card 2 encoded: take the card away'));
    reader.remove();
    await vi.waitFor(() => expect(activity()).toBe('waiting for a card'));

    const foreign = blank(3);
    foreign.state.masterKeyType = 'aes';
    foreign.state.masterKey = { key: new Uint8Array(16).fill(0xee), version: 1 };
    const refused = settled('refused');
    reader.place(foreign);
    expect(await refused).toMatchObject({ card: { cardNumber: 3n } });
    await vi.waitFor(() => expect(activity()).toMatch(/^card 3 refused \(unknown-picc-key: .*\): take the card away$/));
    reader.remove();
    await vi.waitFor(() => expect(activity()).toBe('waiting for a card'));

    await station.stop();
    expect(registry.get('desk-1')).toMatchObject({ kind: 'pcsc', activity: 'stopped', cardsEncoded: 2 });
    expect(journal.getBatch(batch.id).counts).toMatchObject({ encoded: 2, pending: 1, refused: 1 });
  });
});
