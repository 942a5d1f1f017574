import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromHex } from '../../../src/desfire/bytes.js';
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { EmulatedStation, type VirtualCardPool } from '../../../src/server/stations/emulated-station.js';
import { StationRegistry } from '../../../src/server/stations/station-registry.js';
import { Journal } from '../../../src/server/journal/index.js';
import { steppingClock } from '../journal/support.js';
import { atDoor, batchCards, genericPacs, keyStoreFor, runnerFor, silentLogger } from '../batches/support.js';
import { completion, nextEvent } from './support/events.js';

const PROFILE = 'generic-pacs-v1';

describe('EmulatedStation', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function setUp(options: { idlePollMs?: number; pool?: (store: VirtualCardStore) => VirtualCardPool } = {}) {
    const journal = Journal.open({ path: ':memory:', now: steppingClock() });
    const store = VirtualCardStore.open({ path: ':memory:' });
    stops.push(() => journal.close(), () => store.close());
    const keyStore = keyStoreFor(journal);
    const runner = await runnerFor(journal, keyStore);
    const registry = new StationRegistry();
    registry.follow(runner.events);
    const station = (id: string) => {
      const s = new EmulatedStation({ id, runner, journal, cards: options.pool?.(store) ?? store, registry, logger: silentLogger, idlePollMs: options.idlePollMs ?? 60_000 });
      stops.push(() => s.stop());
      return s;
    };
    return { journal, store, keyStore, runner, registry, station };
  }

  it('two stations encode a batch together: each number once, on the stations\' own virtual cards, every card opens the door', async () => {
    const { journal, store, keyStore, runner, registry, station } = await setUp();
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(100, 20) });
    const done = completion(runner.events, batch.id);
    const a = station('emu-a');
    const b = station('emu-b');
    a.start();
    b.start();
    await done;
    await Promise.all([a.stop(), b.stop()]);

    expect(journal.getBatch(batch.id).counts).toMatchObject({ total: 20, encoded: 20, failed: 0, refused: 0 });
    const records = journal.listCards({ batchId: batch.id }).cards;
    expect(new Set(records.map((c) => c.cardNumber)).size).toBe(20);
    const profile = await genericPacs();
    for (const record of records) {
      const card = store.findByUid(fromHex(record.uid!))!;
      expect(['emu-a', 'emu-b']).toContain(card.stationId);
      const door = await atDoor(profile, keyStore, store.transport(card.id), card.uid);
      if (!door.granted) throw new Error(`denied: ${door.reason}`);
      expect(door.credential.cardNumber).toBe(record.cardNumber);
    }
    const stations = registry.list();
    expect(stations.map((s) => [s.id, s.kind, s.activity])).toEqual([
      ['emu-a', 'emulated', 'stopped'],
      ['emu-b', 'emulated', 'stopped'],
    ]);
    expect(stations[0].cardsEncoded + stations[1].cardsEncoded).toBe(20);
    // every virtual card a station took holds a card of the batch: none wasted
    expect(store.list({}, {}).cards.length).toBe(20);
  });

  it('waits idle without polling, and wakes for a new batch', async () => {
    const { journal, runner, registry, station } = await setUp();
    const s = station('emu-a');
    s.start();
    await vi.waitFor(() => expect(registry.get('emu-a')?.activity).toBe('idle'));
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1, 3) });
    const done = completion(runner.events, batch.id);
    runner.events.publish({ kind: 'batch', batch }); // as CreateBatch announces it
    await done;
    expect(journal.getBatch(batch.id).counts.encoded).toBe(3);
  });

  it('tries a torn card again until it is encoded', async () => {
    let torn = 0;
    const { journal, store, runner, station } = await setUp({
      // every card the station takes loses power at its 5th write once
      pool: (s) => ({
        create: (input) => {
          const card = s.create(input);
          s.setFaults(card.id, { tearAtWrite: 5, delayMs: 0 });
          torn++;
          return card;
        },
        findByUid: (uid) => s.findByUid(uid),
        transport: (id) => s.transport(id),
      }),
    });
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1, 2) });
    const done = completion(runner.events, batch.id);
    station('emu-a').start();
    await done;
    expect(torn).toBe(2);
    expect(journal.getBatch(batch.id).counts).toMatchObject({ encoded: 2, failed: 0 });
    for (const record of journal.listCards({ batchId: batch.id }).cards) {
      const phases = journal.steps(record.id).map((s) => s.phase);
      expect(phases).toContain('failed');
      expect(phases.at(-1)).toBe('completed');
    }
    expect(store.list().cards.every((c) => c.faults.tearAtWrite === 0)).toBe(true);
  });

  it('stops after the card in hand; a new station with its id finishes the batch, starting with its own unfinished cards', async () => {
    const { journal, store, runner, station } = await setUp();
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1, 6) });
    const first = station('emu-a');
    const encoding = nextEvent(runner.events, (e) => e.kind === 'card' && e.card.state === 'encoding' && e.card.cardNumber === 3n);
    first.start();
    await encoding;
    await first.stop();
    const afterStop = journal.getBatch(batch.id).counts;
    expect(afterStop.encoding).toBe(0); // the card in hand was finished
    expect(afterStop.encoded).toBe(3);

    // a card of the station left claimed but unstarted, as a kill between claim and first step leaves it
    const left = store.create({ stationId: 'emu-a' });
    expect(journal.claimCard(batch.id, { uid: left.uid, keySet: 'pacs', keyVersion: 1 })!.cardNumber).toBe(4n);
    const done = completion(runner.events, batch.id);
    const second = station('emu-a');
    const firstEncoding = nextEvent(runner.events, (e) => e.kind === 'card' && e.card.state === 'encoding');
    second.start();
    expect(await firstEncoding).toMatchObject({ card: { cardNumber: 4n } }); // resumed before any new card
    await done;
    const records = journal.listCards({ batchId: batch.id }).cards;
    expect(records.map((c) => [c.cardNumber, c.state])).toEqual([1n, 2n, 3n, 4n, 5n, 6n].map((n) => [n, 'encoded']));
    expect(journal.getCardByUid(left.uid).cardNumber).toBe(4n);
    expect(store.list().cards.length).toBe(6);
  });
});
