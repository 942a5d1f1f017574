import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/desfire/bytes.js';
import type { CardPresence } from '../../src/desfire/transport.js';
import { importImage } from '../../src/emulator/image.js';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { doorConfigOf } from '../../src/encoder/card-plan.js';
import { DesfireClient } from '../../src/encoder/client/desfire-client.js';
import { authenticateAtDoor } from '../../src/encoder/door/authenticator.js';
import { runStation, STATION_USAGE } from '../../src/cli/station.js';
import type { CardReader } from '../../src/relay/card-reader.js';
import { blankCard } from '../server/relay/support/cards.js';
import { startRelayService, type RelayService } from '../server/relay/support/relay-service.js';

let service: RelayService;
beforeAll(async () => {
  service = await startRelayService();
});
afterAll(() => service.close());

function io(extra: { stop?: AbortSignal; openReader?: (name: string) => Promise<CardReader> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { write: (l: string) => void out.push(l), error: (l: string) => void err.push(l), env: {}, ...extra } };
}

/** A reader whose cards come from a list: each waited for, then taken away when asked; `idle` is told when none is left. */
function fakeReader(cards: VirtualCard[], events: string[], idle: () => void = () => undefined): CardReader {
  const transport = new InProcessTransport();
  return {
    readerName: 'Fake Reader 00',
    get card() {
      return transport.card;
    },
    transceive: (apdu) => transport.transceive(apdu),
    waitForCard: async (options) => {
      const next = cards.shift();
      if (!next) {
        events.push('waiting');
        const waiting = new Promise<CardPresence>((_, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal!.reason)));
        idle();
        return waiting;
      }
      transport.place(next);
      events.push(`placed ${toHex(next.uid)}`);
      return transport.card!;
    },
    waitForRemoval: async () => {
      transport.remove();
      events.push('removed');
    },
    close: async () => void events.push('closed'),
  };
}

describe('desfire-pacs station', () => {
  it('--virtual encodes fresh cards through the relay, one line each, and saves their images, which doors grant', async () => {
    const batch = service.createBatch(2001, 3);
    const dir = await mkdtemp(join(tmpdir(), 'station-'));
    const run = io();
    const code = await runStation(['--server', service.server.address, '--virtual', '--count', '3', '--out', dir, '--batch', batch, '--station-id', 'line-1'], run.io);
    expect(run.err).toEqual([]);
    expect(code).toBe(0);
    expect(run.out).toHaveLength(3);
    for (const line of run.out) expect(line).toMatch(new RegExp(`^card 04[0-9A-F]{12}: encoded, card number 200[123] of batch ${batch} \\(\\d+ steps changed the card\\)$`));
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(run.out.map((l) => `${l.slice(5, 19)}.json`).sort());

    expect(service.journal.getBatch(batch)).toMatchObject({ state: 'completed', counts: { encoded: 3 } });
    expect(new Set(service.journal.auditEvents().map((a) => `${a.actor}/${a.purpose}`))).toContain('line-1/encode');
    const door = doorConfigOf(service.profile, service.keyStore, { proximityToleranceNs: 50_000_000n });
    for (const file of files) {
      const card = new VirtualCard(importImage(JSON.parse(await readFile(join(dir, file), 'utf8'))));
      const result = await authenticateAtDoor(new DesfireClient(new InProcessTransport(card)), card.uid, door);
      expect(result.granted).toBe(true);
      expect(service.journal.getCardByUid(card.uid).state).toBe('encoded');
    }
  });

  it('with a reader: waits for each card, encodes it, waits for its removal, and stops on the stop signal', async () => {
    const batch = service.createBatch(3001, 5);
    const stop = new AbortController();
    const events: string[] = [];
    const cards = [blankCard().card, blankCard().card];
    const reader = fakeReader([...cards], events, () => stop.abort(new Error('SIGINT')));
    const run = io({ stop: stop.signal, openReader: async (name) => (events.push(`open ${name}`), reader) });
    expect(await runStation(['--server', service.server.address, '--reader', 'Fake', '--batch', batch, '--station-id', 'line-2'], run.io)).toBe(0);
    expect(run.out[0]).toBe('station line-2: place cards on Fake Reader 00');
    expect(run.out.slice(1)).toEqual(cards.map((c) => expect.stringMatching(new RegExp(`^card ${toHex(c.uid).toUpperCase()}: encoded, card number 300[12] of batch`))));
    expect(events).toEqual(['open Fake', `placed ${toHex(cards[0].uid)}`, 'removed', `placed ${toHex(cards[1].uid)}`, 'removed', 'waiting', 'closed']);
  });

  it('an already encoded card is said so; --count ends a reader station without waiting for the last removal', async () => {
    const batch = service.createBatch(4001, 1);
    const { card } = blankCard();
    const events: string[] = [];
    const first = io({ openReader: async () => fakeReader([card], events) });
    expect(await runStation(['--server', service.server.address, '--reader', 'Fake', '--batch', batch, '--count', '1', '--station-id', 's'], first.io)).toBe(0);
    expect(events).toEqual([`placed ${toHex(card.uid)}`, 'closed']);
    const again = io({ openReader: async () => fakeReader([card], []) });
    expect(await runStation(['--server', service.server.address, '--reader', 'Fake', '--count', '1', '--station-id', 's'], again.io)).toBe(0);
    expect(again.out[1]).toMatch(/: already encoded, card number 4001 of batch/);
  });

  it('stops with the service\'s refusal of a card for a completed batch (exit 1), or of its station id (exit 2)', async () => {
    const empty = service.createBatch(5001, 1);
    const drain = io();
    expect(await runStation(['--server', service.server.address, '--virtual', '--batch', empty], drain.io)).toBe(0);
    const none = io();
    expect(await runStation(['--server', service.server.address, '--virtual', '--batch', empty], none.io)).toBe(1);
    expect(none.err).toEqual([`desfire-pacs: FAILED_PRECONDITION: batch ${empty} is completed`]);
    const badId = io();
    expect(await runStation(['--server', service.server.address, '--virtual', '--station-id', 'no spaces'], badId.io)).toBe(2);
    expect(badId.err.join('\n')).toMatch(/INVALID_ARGUMENT, field start.station_id/);
  });

  it('usage: exactly one of --reader and --virtual, --out with --virtual only, a whole --count; --help', async () => {
    for (const args of [[], ['--reader', 'R', '--virtual'], ['--reader', 'R', '--out', 'x'], ['--virtual', '--count', '0'], ['--virtual', '--count', 'many'], ['--virtual', '--bogus']]) {
      const run = io();
      expect(await runStation(args, run.io)).toBe(2);
      expect(run.err.at(-1)).toBe(STATION_USAGE.trimEnd());
    }
    const help = io();
    expect(await runStation(['--help'], help.io)).toBe(0);
    expect(help.out.join('\n')).toMatch(/^usage: desfire-pacs station/);
  });

  it('says where it looked when the service is not there (exit 1)', async () => {
    const run = io();
    expect(await runStation(['--server', '127.0.0.1:1', '--virtual'], run.io)).toBe(1);
    expect(run.err.join('\n')).toMatch(/not reachable at 127\.0\.0\.1:1/);
  });
});
