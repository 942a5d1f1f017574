import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoor } from '../../src/cli/door.js';
import { toHex } from '../../src/desfire/bytes.js';
import { exportImage, importImage } from '../../src/emulator/image.js';
import { factoryState } from '../../src/emulator/factory.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { DenialReason } from '../../src/gen/desfirepacs/v1/auth_pb.js';
import { BatchState, CardState, type Card } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { allCards, clientsOf, doorVerdict, localCopiesOfVirtualCards, numberedCards, startInProcess, watchToEnd, type Cleanup, type ServiceClients } from './support.js';

/**
 * Issue 5 acceptance, in one service: a batch of 200 virtual cards on two emulated stations,
 * watched to the end, then every card through AuthService as a door's reader host relays it;
 * and the door's refusals (blank card, clone with a copied UID, a card behind a relay).
 */
const BATCH_SIZE = 200;
const FIRST_NUMBER = 50_001;

const cleanups: Cleanup[] = [];
let clients: ServiceClients;
let address: string;
let batchId: string;
let progress: Awaited<ReturnType<typeof watchToEnd>>;
let journalCards: Card[];
let cards: Map<string, VirtualCard>;

beforeAll(async () => {
  const service = await startInProcess(cleanups, { stations: { emulated: 2, pcscReaders: [] } });
  address = service.address;
  clients = clientsOf(address, cleanups);
  const { batch } = await clients.encoder.createBatch({ profile: 'generic-pacs-v1', cards: numberedCards(FIRST_NUMBER, BATCH_SIZE) });
  batchId = batch!.id;
  progress = await watchToEnd(clients, batchId);
  journalCards = await allCards(clients, batchId);
  cards = await localCopiesOfVirtualCards(clients);
}, 300_000);

afterAll(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

describe('a batch of 200 virtual cards on two emulated stations', () => {
  it('completes, the progress stream counting up to 200 and ending with the batch', () => {
    const counts = progress.map((p) => p.batch!.counts!.encoded);
    expect(counts.every((n, i) => i === 0 || n >= counts[i - 1])).toBe(true);
    const last = progress[progress.length - 1].batch!;
    expect(last.state).toBe(BatchState.COMPLETED);
    expect(last.counts).toMatchObject({ total: BATCH_SIZE, encoded: BATCH_SIZE, pending: 0, encoding: 0, failed: 0 });
    // One event per card that reached ENCODED, at least.
    expect(new Set(progress.filter((p) => p.card?.state === CardState.ENCODED).map((p) => p.card!.cardNumber)).size).toBe(BATCH_SIZE);
  });

  it('puts every card number on exactly one card, and both stations took part', async () => {
    expect(journalCards).toHaveLength(BATCH_SIZE);
    expect(journalCards.every((c) => c.state === CardState.ENCODED)).toBe(true);
    expect(new Set(journalCards.map((c) => c.cardNumber))).toEqual(new Set(numberedCards(FIRST_NUMBER, BATCH_SIZE).map((c) => c.cardNumber)));
    expect(new Set(journalCards.map((c) => toHex(c.uid))).size).toBe(BATCH_SIZE);
    const { stations } = await clients.encoder.listStations({});
    expect(stations.map((s) => s.id)).toEqual(['emulated-1', 'emulated-2']);
    for (const station of stations) expect(station.cardsEncoded).toBeGreaterThan(0n);
    expect(stations.reduce((sum, s) => sum + s.cardsEncoded, 0n)).toBe(BigInt(BATCH_SIZE));
  });

  it('every card passes Authenticate, and the credential read from it is the journal\'s card number', async () => {
    for (const card of journalCards) {
      const local = cards.get(toHex(card.uid));
      expect(local, `virtual card ${toHex(card.uid)}`).toBeDefined();
      const verdict = await doorVerdict(clients, local!);
      expect(verdict.granted, `${toHex(card.uid)}: ${verdict.detail}`).toBe(true);
      expect(verdict.credential!.cardNumber).toBe(card.cardNumber);
      expect(verdict.keySet).toBe('pacs');
    }
  });
});

describe('Authenticate refuses, with its reason', () => {
  const encoded = () => cards.get(toHex(journalCards[0].uid))!;

  it('a blank card', async () => {
    const verdict = await doorVerdict(clients, new VirtualCard(factoryState({ uid: Uint8Array.of(0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66) })));
    expect(verdict).toMatchObject({ granted: false, reason: DenialReason.NOT_ENCODED });
  });

  it('a clone: the encoded card\'s UID, applications and files copied, its keys unknown', async () => {
    const image = exportImage(encoded().state) as { applications: { keys: { key: string }[] }[]; masterKey: { key: string } };
    for (const app of image.applications) for (const slot of app.keys) slot.key = 'a5'.repeat(slot.key.length / 2);
    image.masterKey.key = '5a'.repeat(image.masterKey.key.length / 2);
    const clone = new VirtualCard(importImage(image));
    expect(clone.uid).toEqual(encoded().uid);
    const verdict = await doorVerdict(clients, clone);
    expect(verdict).toMatchObject({ granted: false, reason: DenialReason.AUTHENTICATION_FAILED });
  });

  it('a genuine card behind a relay: its answers 50 ms late fail the proximity check', async () => {
    const relayed = new VirtualCard(importImage(exportImage(encoded().state)));
    relayed.answerDelayMs = 50;
    const verdict = await doorVerdict(clients, relayed);
    expect(verdict).toMatchObject({ granted: false, reason: DenialReason.RELAY_SUSPECTED });
    relayed.answerDelayMs = 0;
    expect((await doorVerdict(clients, relayed)).granted).toBe(true);
  });
});

describe('desfire-pacs door --virtual-card', () => {
  const door = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runDoor(['--server', address, ...args], { write: (l) => out.push(l), error: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it("holds a copy of a station's card and gets it granted through the relay, with the journal's card number", async () => {
    const card = journalCards[7];
    const result = await door('--virtual-card', toHex(card.uid));
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain('GRANTED');
    expect(result.out).toContain(`card number ${card.cardNumber}`);
  });

  it('denies the same card answering late, and names an unknown UID as a usage error', async () => {
    expect((await door('--virtual-card', toHex(journalCards[7].uid), '--delay-ms', '50')).code).toBe(3);
    const unknown = await door('--virtual-card', '04000000000001');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no virtual card with UID 04000000000001');
  });
});
