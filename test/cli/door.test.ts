import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/desfire/bytes.js';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import type { VirtualCard } from '../../src/emulator/virtual-card.js';
import { DOOR_DENIED, DOOR_USAGE, runDoor } from '../../src/cli/door.js';
import type { CardReader } from '../../src/relay/card-reader.js';
import { blankCard, cloneOf, encodedCard } from '../server/relay/support/cards.js';
import { startRelayService, type RelayService } from '../server/relay/support/relay-service.js';

let service: RelayService;
let dir: string;
beforeAll(async () => {
  service = await startRelayService();
  dir = await mkdtemp(join(tmpdir(), 'door-'));
});
afterAll(() => service.close());

function io(openReader?: (name: string) => Promise<CardReader>) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { write: (l: string) => void out.push(l), error: (l: string) => void err.push(l), env: {}, cwd: dir, ...(openReader ? { openReader } : {}) } };
}

async function saved(card: VirtualCard, name: string): Promise<string> {
  await writeFile(join(dir, name), JSON.stringify(card.exportImage()));
  return name;
}

describe('desfire-pacs door', () => {
  it('grants an encoded card and prints its credential (exit 0)', async () => {
    const { card } = await encodedCard(service.profile, service.keyStore);
    const run = io();
    expect(await runDoor(['--server', service.server.address, '--image', await saved(card, 'good.json'), '--door-id', 'front-door'], run.io)).toBe(0);
    expect(run.out).toEqual([
      `card ${toHex(card.uid).toUpperCase()}: GRANTED (key set pacs v1)`,
      '  card number 4711, issuer example-issuer, site 1, valid 2026-01-01T00:00:00Z .. 2099-01-01T00:00:00Z',
    ]);
    expect(service.journal.auditEvents({ uid: card.uid }).some((a) => a.actor === 'front-door' && a.purpose === 'authenticate')).toBe(true);
  });

  it('denies (exit 3) a blank card, a clone, and a card answering late as through a relay, saying why', async () => {
    const { card } = await encodedCard(service.profile, service.keyStore);
    const good = await saved(card, 'relayed.json');
    const cases: [string[], RegExp][] = [
      [['--image', await saved(blankCard().card, 'blank.json')], /DENIED \(not-encoded\)/],
      [['--image', await saved(cloneOf(card, 0xf52a01).card, 'clone.json')], /DENIED \(authentication-failed\)/],
      [['--image', good, '--delay-ms', '80'], /DENIED \(relay-suspected\): proximity check round 1 took/],
    ];
    for (const [args, expected] of cases) {
      const run = io();
      expect(await runDoor(['--server', service.server.address, ...args], run.io)).toBe(DOOR_DENIED);
      expect(run.out.join('\n')).toMatch(expected);
    }
  });

  it('takes the card from a PC/SC reader: waits for it, then lets go of the reader', async () => {
    const { card } = await encodedCard(service.profile, service.keyStore);
    const transport = new InProcessTransport(card);
    const events: string[] = [];
    const reader: CardReader = {
      readerName: 'Door Reader 01',
      get card() {
        return transport.card;
      },
      transceive: (apdu) => transport.transceive(apdu),
      waitForCard: async () => (events.push('wait'), transport.card!),
      waitForRemoval: async () => undefined,
      close: async () => void events.push('close'),
    };
    const run = io(async (name) => (events.push(`open ${name}`), reader));
    expect(await runDoor(['--server', service.server.address, '--reader', 'Door', '--profile', 'generic-pacs-v1'], run.io)).toBe(0);
    expect(run.out[0]).toBe('place a card on Door Reader 01');
    expect(run.out[1]).toMatch(/GRANTED/);
    expect(events).toEqual(['open Door', 'wait', 'close']);
  });

  it('an unknown profile is the service\'s NOT_FOUND (exit 2); a missing image, an unreachable service exit 1', async () => {
    const { card } = await encodedCard(service.profile, service.keyStore);
    const image = await saved(card, 'p.json');
    const unknown = io();
    expect(await runDoor(['--server', service.server.address, '--image', image, '--profile', 'other-profile'], unknown.io)).toBe(2);
    expect(unknown.err.join('\n')).toMatch(/NOT_FOUND.*other-profile/);
    const missing = io();
    expect(await runDoor(['--server', service.server.address, '--image', 'nope.json'], missing.io)).toBe(1);
    expect(missing.err.join('\n')).toMatch(/ENOENT/);
    const away = io();
    expect(await runDoor(['--server', '127.0.0.1:1', '--image', image], away.io)).toBe(1);
    expect(away.err.join('\n')).toMatch(/not reachable at 127\.0\.0\.1:1/);
  });

  it('usage: exactly one of --reader and --image, --delay-ms with --image only and whole; --help', async () => {
    for (const args of [[], ['--reader', 'R', '--image', 'x.json'], ['--reader', 'R', '--delay-ms', '5'], ['--image', 'x.json', '--delay-ms', '-1'], ['--image', 'x.json', '--delay-ms', '1.5'], ['extra']]) {
      const run = io();
      expect(await runDoor(args, run.io)).toBe(2);
      expect(run.err.at(-1)).toBe(DOOR_USAGE.trimEnd());
    }
    const help = io();
    expect(await runDoor(['-h'], help.io)).toBe(0);
    expect(help.out.join('\n')).toMatch(/^usage: desfire-pacs door/);
  });
});
