import { status as GrpcStatus } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../src/desfire/bytes.js';
import { factoryState } from '../../../src/emulator/factory.js';
import { InProcessTransport } from '../../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../../src/emulator/virtual-card.js';
import { CardDataSchema } from '../../../src/gen/desfirepacs/v1/profile_pb.js';
import type { BatchEvent } from '../../../src/server/batches/batch-events.js';
import { BatchRunner } from '../../../src/server/batches/batch-runner.js';
import { cardDataText } from '../../../src/server/batches/card-data.js';
import { profileForCard } from '../../../src/server/batches/card-profile.js';
import { NoCardLeft } from '../../../src/server/batches/no-card-left.js';
import { isJournalError, Journal } from '../../../src/server/journal/index.js';
import { steppingClock } from '../journal/support.js';
import { atDoor, batchCards, DOOR_OPTIONS, genericPacs, keyStoreFor, profileSource, runnerFor, silentLogger } from './support.js';

const PROFILE = 'generic-pacs-v1';
const never = new AbortController().signal;
const journalInMemory = () => Journal.open({ path: ':memory:', now: steppingClock() });

function blankCard(n: number): { card: VirtualCard; transport: InProcessTransport } {
  const card = new VirtualCard(factoryState({ uid: fromHex(`04${n.toString(16).padStart(12, '0')}`) }));
  return { card, transport: new InProcessTransport(card) };
}

/** A station as a loop: blank cards until no number is left. */
async function station(runner: BatchRunner, stationId: string, firstUid: number, cards: VirtualCard[]): Promise<void> {
  for (let n = firstUid; ; n++) {
    const { card, transport } = blankCard(n);
    try {
      const outcome = await runner.encodeCard({ transport, uid: card.uid, stationId, signal: never });
      expect(outcome.failure).toBeUndefined();
      cards.push(card);
    } catch (e) {
      if (e instanceof NoCardLeft) return;
      throw e;
    }
  }
}

describe('BatchRunner: cards for a batch', () => {
  it('encodes a 20-card batch on two stations at once: each number once, every card opens the door', async () => {
    const journal = journalInMemory();
    const keyStore = keyStoreFor(journal);
    const runner = await runnerFor(journal, keyStore);
    const events: BatchEvent[] = [];
    runner.events.subscribe((e) => events.push(e));
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1000, 20) });
    const cards: VirtualCard[] = [];
    await Promise.all([station(runner, 'station-a', 1, cards), station(runner, 'station-b', 1001, cards)]);

    expect(journal.getBatch(batch.id)).toMatchObject({ state: 'completed', counts: { total: 20, encoded: 20, pending: 0, failed: 0, refused: 0 } });
    const records = journal.listCards({ batchId: batch.id }).cards;
    expect(new Set(records.map((c) => c.cardNumber)).size).toBe(20);
    expect(new Set(records.map((c) => c.uid)).size).toBe(20);
    // both stations worked, and each key use is audited as its station's
    const actors = new Set(journal.auditEvents().map((a) => `${a.actor}/${a.purpose}`));
    expect(actors).toEqual(new Set(['station-a/encode', 'station-b/encode']));
    const profile = await genericPacs();
    for (const card of cards) {
      const record = journal.getCardByUid(card.uid);
      const door = await atDoor(profile, keyStore, new InProcessTransport(card), card.uid);
      if (!door.granted) throw new Error(`denied: ${door.reason} ${door.detail}`);
      expect(door.credential.cardNumber).toBe(record.cardNumber);
      expect(record).toMatchObject({ state: 'encoded', keySet: 'pacs', keyVersion: 1 });
    }
    // one event per card state change, then the batch's completion
    const cardEvents = events.filter((e) => e.kind === 'card');
    expect(cardEvents.map((e) => e.card.state).sort()).toEqual([...Array(20).fill('encoded'), ...Array(20).fill('encoding')]);
    expect(events.at(-1)).toMatchObject({ kind: 'batch', batch: { id: batch.id, state: 'completed' } });
  });

  it('leaves a card torn mid-personalization failed with its number, and finishes it when it comes back', async () => {
    const journal = journalInMemory();
    const keyStore = keyStoreFor(journal);
    const runner = await runnerFor(journal, keyStore);
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1, 2) });
    const { card, transport } = blankCard(7);
    card.tearAtWrite(4);
    const torn = await runner.encodeCard({ transport, uid: card.uid, stationId: 's', signal: never });
    expect(torn.card).toMatchObject({ state: 'failed', cardNumber: 1n });
    expect(torn.failure).toBeTruthy();
    expect(journal.getBatch(batch.id).counts).toMatchObject({ failed: 1, pending: 1 });

    transport.place(card); // presented again
    const resumed = await runner.encodeCard({ transport, uid: card.uid, stationId: 's', signal: never });
    expect(resumed.card).toMatchObject({ id: torn.card.id, state: 'encoded', cardNumber: 1n });
    expect(resumed.changed.length).toBeGreaterThan(0);
    expect(resumed.changed).not.toContain('picc-master-key'); // done before the tear
    const door = await atDoor(await genericPacs(), keyStore, transport, card.uid);
    expect(door.granted).toBe(true);

    // an encoded card presented again keeps its number and is left as it is
    transport.place(card);
    const again = await runner.encodeCard({ transport, uid: card.uid, stationId: 's', signal: never });
    expect(again).toMatchObject({ card: { id: torn.card.id, state: 'encoded' }, changed: [] });
    expect(again.failure).toBeUndefined();
  });

  it('leaves a card that refuses a command mid-way failed with the card\'s status, and finishes it later', async () => {
    const journal = journalInMemory();
    const runner = await runnerFor(journal);
    journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1, 1) });
    const { card, transport } = blankCard(6);
    // the card answers CreateStdDataFile (0xCD) with "out of EEPROM" once, as a full card would
    let full = true;
    const refusing = {
      get card() {
        return transport.card;
      },
      transceive: async (apdu: Uint8Array) => {
        if (!full || apdu[1] !== 0xcd) return transport.transceive(apdu);
        full = false;
        return Uint8Array.of(0x91, 0x0e);
      },
    };
    const failed = await runner.encodeCard({ transport: refusing, uid: card.uid, stationId: 's', signal: never });
    expect(failed.card).toMatchObject({ state: 'failed', cardNumber: 1n });
    expect(failed.desfire).toMatchObject({ statusName: 'OUT_OF_EEPROM_ERROR', origin: 'card', command: 0xcd });
    expect(failed.card.detail).toMatch(/OUT_OF_EEPROM_ERROR/);
    transport.place(card);
    const resumed = await runner.encodeCard({ transport: refusing, uid: card.uid, stationId: 's', signal: never });
    expect(resumed).toMatchObject({ card: { state: 'encoded', cardNumber: 1n } });
    expect(resumed.changed[0]).toBe('create-files');
  });

  it('tries a card again when asked while its final door check fails, as a proximity round slowed by load makes it', async () => {
    const journal = journalInMemory();
    let slowRounds = 0;
    let ticks = 0;
    // The door's clock, read before and after each proximity round: while slowRounds > 0, the next round ends a second late.
    const timer = () => {
      const now = process.hrtime.bigint();
      if (slowRounds === 0 || ++ticks % 2 === 1) return now;
      slowRounds--;
      return now + 1_000_000_000n;
    };
    const runner = new BatchRunner({ journal, profiles: profileSource(await genericPacs()), keyStore: keyStoreFor(journal), logger: silentLogger, door: { ...DOOR_OPTIONS, timer } });
    journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1, 2) });
    const once = blankCard(8);
    slowRounds = 1;
    const failed = await runner.encodeCard({ transport: once.transport, uid: once.card.uid, stationId: 's', signal: never });
    expect(failed.card.state).toBe('failed');
    expect(failed.failure).toMatch(/verification-failed.*relay-suspected/);
    // presented again in the same field, still in the door check's session: finished
    expect((await runner.encodeCard({ transport: once.transport, uid: once.card.uid, stationId: 's', signal: never })).card.state).toBe('encoded');

    const twice = blankCard(9);
    slowRounds = 1;
    const outcome = await runner.encodeCard({ transport: twice.transport, uid: twice.card.uid, stationId: 's', signal: never, attempts: 2 });
    expect(outcome.card).toMatchObject({ state: 'encoded', cardNumber: 2n });
    const verify = journal.steps(outcome.card.id).filter((s) => s.step === 'verify').map((s) => s.phase);
    expect(verify).toEqual(['started', 'failed', 'started', 'completed']);
  });

  it('refuses a card of another system untouched and gives its number to the next card', async () => {
    const journal = journalInMemory();
    const runner = await runnerFor(journal);
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(500, 1) });
    const { card: foreign, transport } = blankCard(1);
    foreign.state.masterKeyType = 'aes';
    foreign.state.masterKey = { key: new Uint8Array(16).fill(0xee), version: 3 };
    const image = JSON.stringify(foreign.exportImage());
    const refused = await runner.encodeCard({ transport, uid: foreign.uid, stationId: 's', signal: never });
    expect(refused.card).toMatchObject({ state: 'refused', cardNumber: 500n });
    expect(refused.failure).toMatch(/unknown-picc-key/);
    expect(JSON.stringify(foreign.exportImage())).toBe(image);
    expect(journal.getBatch(batch.id)).toMatchObject({ state: 'running', counts: { total: 1, pending: 1, refused: 1 } });

    const next = blankCard(2);
    const outcome = await runner.encodeCard({ transport: next.transport, uid: next.card.uid, stationId: 's', signal: never });
    expect(outcome.card).toMatchObject({ state: 'encoded', cardNumber: 500n });
    expect(journal.getBatch(batch.id).state).toBe('completed');
  });

  it('finishes a card with the key version it was started with, after the key set was rotated', async () => {
    const journal = journalInMemory();
    const keyStore = keyStoreFor(journal);
    const runner = await runnerFor(journal, keyStore);
    journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1, 1) });
    const { card, transport } = blankCard(3);
    card.tearAtWrite(6);
    expect((await runner.encodeCard({ transport, uid: card.uid, stationId: 's', signal: never })).card.state).toBe('failed');
    await keyStore.addVersion('pacs', { makeCurrent: true });
    transport.place(card);
    const resumed = await runner.encodeCard({ transport, uid: card.uid, stationId: 's', signal: never });
    expect(resumed.card).toMatchObject({ state: 'encoded', keyVersion: 1 });
    expect(card.state.masterKey.version).toBe(1);
  });

  it('encodes with the batch\'s key set when it names another than the profile\'s', async () => {
    const journal = journalInMemory();
    const keyStore = keyStoreFor(journal);
    const runner = await runnerFor(journal, keyStore);
    journal.createBatch({ profile: PROFILE, keySet: 'site-b', cards: batchCards(1, 1) });
    const { card, transport } = blankCard(4);
    const outcome = await runner.encodeCard({ transport, uid: card.uid, stationId: 's', signal: never });
    expect(outcome.card).toMatchObject({ state: 'encoded', keySet: 'site-b' });
    const profile = await genericPacs();
    expect((await atDoor(profile, keyStore, transport, card.uid)).granted).toBe(false); // a "pacs" door
    const siteB = await atDoor(profileForCard(profile, 'site-b', 1), keyStore, transport, card.uid);
    expect(siteB).toMatchObject({ granted: true, keySet: 'site-b' });
  });

  it('encodes cards whose validity starts later (the verification checks the card within its validity)', async () => {
    const journal = journalInMemory();
    const keyStore = keyStoreFor(journal);
    const runner = await runnerFor(journal, keyStore);
    const later = create(CardDataSchema, { cardNumber: 1n, validFrom: timestampFromDate(new Date('2035-01-01T00:00:00Z')), validTo: timestampFromDate(new Date('2040-01-01T00:00:00Z')) });
    journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: [{ cardNumber: 1n, data: cardDataText(later) }] });
    const { card, transport } = blankCard(5);
    expect((await runner.encodeCard({ transport, uid: card.uid, stationId: 's', signal: never })).card.state).toBe('encoded');
    // a door in 2027 says so
    expect(await atDoor(await genericPacs(), keyStore, transport, card.uid)).toMatchObject({ granted: false, reason: 'not-yet-valid' });
  });

  it('takes the named batch, else the card\'s own, else the oldest open batch with numbers left', async () => {
    const journal = journalInMemory();
    const runner = await runnerFor(journal);
    const older = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1, 1), id: 'older' });
    const newer = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(10, 2), id: 'newer' });
    const a = blankCard(1);
    expect((await runner.encodeCard({ ...a, uid: a.card.uid, batchId: newer.id, stationId: 's', signal: never })).card.batchId).toBe('newer');
    const b = blankCard(2);
    expect((await runner.encodeCard({ ...b, uid: b.card.uid, stationId: 's', signal: never })).card.batchId).toBe('older');
    // the card of "newer" presented without a batch is still that batch's card
    expect((await runner.encodeCard({ ...a, uid: a.card.uid, stationId: 's', signal: never })).card).toMatchObject({ batchId: 'newer', cardNumber: 10n });
    const c = blankCard(3);
    expect((await runner.encodeCard({ ...c, uid: c.card.uid, stationId: 's', signal: never })).card.batchId).toBe('newer');
    // nothing left anywhere
    const d = blankCard(4);
    const none = await runner.encodeCard({ ...d, uid: d.card.uid, stationId: 's', signal: never }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(NoCardLeft);
    expect((none as NoCardLeft).code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(journal.getBatch(older.id).state).toBe('completed');
  });

  it('throws before taking a number: unknown batch, cancelled batch, aborted signal', async () => {
    const journal = journalInMemory();
    const runner = await runnerFor(journal);
    const batch = journal.createBatch({ profile: PROFILE, keySet: 'pacs', cards: batchCards(1, 2) });
    const { card, transport } = blankCard(1);
    const attempt = (batchId: string | undefined, signal = never) =>
      runner.encodeCard({ transport, uid: card.uid, stationId: 's', signal, ...(batchId ? { batchId } : {}) }).catch((e: unknown) => e);
    expect(isJournalError(await attempt('nope'), 'UNKNOWN_BATCH')).toBe(true);
    const aborted = new AbortController();
    aborted.abort(new Error('stopping'));
    expect(await attempt(batch.id, aborted.signal)).toMatchObject({ message: 'stopping' });
    journal.setBatchState(batch.id, 'cancelled');
    expect(isJournalError(await attempt(batch.id), 'INVALID_TRANSITION')).toBe(true);
    expect(await attempt(undefined)).toBeInstanceOf(NoCardLeft);
    expect(journal.getBatch(batch.id).counts.pending).toBe(2);
  });
});
