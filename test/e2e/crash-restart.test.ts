import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/desfire/bytes.js';
import { BatchState, CardState } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { cliScript, startServeChild } from './serve-child.js';
import { allCards, clientsOf, doorVerdict, localCopiesOfVirtualCards, numberedCards, tempDir, waitForEncoded, watchToEnd, type Cleanup } from './support.js';

/**
 * Issue 5 acceptance: `desfire-pacs serve` killed with SIGKILL in the middle of a batch, then
 * started again on the same data directory. The batch completes; every card number is on exactly
 * one card; every card passes the door flow; the journal and the cards agree.
 */
const BATCH_SIZE = 120;
const STATIONS = { DESFIRE_PACS_EMULATED_STATIONS: '2' };

const cleanups: Cleanup[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

describe('the service killed mid-batch', () => {
  it('finishes the batch after a restart, each number once, journal and cards in agreement', async () => {
    const script = await cliScript(cleanups);
    const dataDir = await tempDir(cleanups);

    const first = await startServeChild(script, dataDir, STATIONS, cleanups);
    const before = clientsOf(first.address, cleanups);
    const { batch } = await before.encoder.createBatch({ profile: 'generic-pacs-v1', cards: numberedCards(7001, BATCH_SIZE) });
    const batchId = batch!.id;
    const atKill = await waitForEncoded(before, batchId, 30);
    first.process.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    expect(atKill.counts!.encoded).toBeLessThan(BATCH_SIZE);

    const second = await startServeChild(script, dataDir, STATIONS, cleanups);
    const after = clientsOf(second.address, cleanups);
    const progress = await watchToEnd(after, batchId);
    const final = progress[progress.length - 1].batch!;
    expect(final.state).toBe(BatchState.COMPLETED);
    expect(final.counts).toMatchObject({ total: BATCH_SIZE, encoded: BATCH_SIZE, pending: 0, encoding: 0, failed: 0 });

    // Every number exactly once, each on its own card.
    const journal = await allCards(after, batchId);
    expect(journal.map((c) => c.cardNumber).sort((a, b) => Number(a - b))).toEqual(numberedCards(7001, BATCH_SIZE).map((c) => c.cardNumber));
    expect(journal.every((c) => c.state === CardState.ENCODED)).toBe(true);
    expect(new Set(journal.map((c) => toHex(c.uid))).size).toBe(BATCH_SIZE);

    // Journal and cards agree: the card holding each journal UID opens the door with that number;
    // any other virtual card is one the kill caught before it got a number, and is still blank.
    const cards = await localCopiesOfVirtualCards(after);
    for (const record of journal) {
      const card = cards.get(toHex(record.uid));
      expect(card, `no virtual card ${toHex(record.uid)}`).toBeDefined();
      const verdict = await doorVerdict(after, card!);
      expect(verdict.granted, `${record.cardNumber}: ${verdict.detail}`).toBe(true);
      expect(verdict.credential!.cardNumber).toBe(record.cardNumber);
      cards.delete(toHex(record.uid));
    }
    for (const [uid, card] of cards) expect(card.state.applications.size, `virtual card ${uid} holds no number but is not blank`).toBe(0);

    // Every card's steps are journalled to the end (the last is a completed verification), and
    // the kill did catch cards mid-way: personalization started on them twice (the second run
    // re-inspects the card and finishes what the first left).
    let interrupted = 0;
    for (const record of journal) {
      const { steps } = await after.encoder.getCard({ key: { case: 'cardId', value: record.id } });
      expect(steps.at(-1)).toMatchObject({ step: 'verify', phase: 'completed' });
      if (steps.filter((s) => s.step === 'inspect' && s.phase === 'started').length > 1) interrupted++;
    }
    expect(interrupted).toBeGreaterThan(0);
  });
});
