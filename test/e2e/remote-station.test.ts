import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchState, CardState, StationKind } from '../../src/gen/desfirepacs/v1/encoder_pb.js';
import { runNode } from '../support/child-node.js';
import { cliScript } from './serve-child.js';
import { allCards, clientsOf, numberedCards, startInProcess, tempDir, watchToEnd, type Cleanup } from './support.js';

/**
 * Issue 5 acceptance: a remote station agent (`desfire-pacs station`, its own process) encodes
 * a batch's cards through the relay; the keys never leave the service. Its cards then open the
 * door through `desfire-pacs door`, another process acting as a door's reader host.
 */
const cleanups: Cleanup[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

describe('a remote station agent', () => {
  it('encodes a batch through the relay, and its cards pass the door', async () => {
    const service = await startInProcess(cleanups, { stations: { emulated: 0, pcscReaders: [] } });
    const clients = clientsOf(service.address, cleanups);
    const { batch } = await clients.encoder.createBatch({ profile: 'generic-pacs-v1', cards: numberedCards(900, 4) });
    const script = await cliScript(cleanups);
    const out = await tempDir(cleanups);

    const station = await runNode(script, ['station', '--server', service.address, '--virtual', '--count', '4', '--batch', batch!.id, '--station-id', 'agent-1', '--out', out], 120_000);
    expect(station.code, station.stderr).toBe(0);

    const progress = await watchToEnd(clients, batch!.id);
    expect(progress.at(-1)!.batch).toMatchObject({ state: BatchState.COMPLETED, counts: { encoded: 4, total: 4 } });
    const cards = await allCards(clients, batch!.id);
    expect(cards.every((c) => c.state === CardState.ENCODED)).toBe(true);
    const { stations } = await clients.encoder.listStations({});
    expect(stations).toEqual([expect.objectContaining({ id: 'agent-1', kind: StationKind.REMOTE, cardsEncoded: 4n })]);

    const images = (await readdir(out)).filter((f) => f.endsWith('.json'));
    expect(images).toHaveLength(4);
    const door = await runNode(script, ['door', '--server', service.address, '--image', join(out, images[0])], 60_000);
    expect(door.code, door.stderr).toBe(0);
    expect(door.stdout).toMatch(/GRANTED/);
    const relayed = await runNode(script, ['door', '--server', service.address, '--image', join(out, images[1]), '--delay-ms', '50'], 60_000);
    expect(relayed.code).toBe(3);
    expect(relayed.stdout + relayed.stderr).toMatch(/relay/i);
  });
});
