import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { runNode, transpileForChild } from '../../support/child-node.js';
import { ADDITIONAL_FRAME, AID, GET_VERSION, readTestFile, tempDir, testData, writeTestFile } from './support.js';

let dir: ReturnType<typeof tempDir>;
const stores: VirtualCardStore[] = [];
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  dir.cleanup();
});

const open = (options: { cacheSize?: number } = {}): VirtualCardStore => {
  const store = VirtualCardStore.open({ path: join(dir.dir, 'virtual-cards.db'), ...options });
  stores.push(store);
  return store;
};

describe('VirtualCardStore: persistence', () => {
  it('gives back the same cards, faults and card state after close and reopen', async () => {
    const first = open();
    const blank = first.create({ capacityBytes: 2048, stationId: 'station-1' });
    const encoded = first.create({ randomUid: true });
    await writeTestFile(first.transport(encoded.id), testData(3));
    first.setFaults(blank.id, { tearAtWrite: 5, delayMs: 20 });
    const cards = first.list().cards;
    const images = cards.map((c) => first.exportImage(c.id));
    const version = await first.transceive(blank.id, GET_VERSION);
    first.close();

    const second = open();
    expect(second.list().cards).toEqual(cards);
    expect(cards.map((c) => second.exportImage(c.id))).toEqual(images);
    expect(second.get(encoded.id).applicationIds).toEqual([AID]);
    expect(await readTestFile(second.transport(encoded.id))).toEqual(testData(3));
    expect(await second.transceive(blank.id, GET_VERSION)).toEqual(version);
  });

  it('has every answered write on disk: a second store on the file sees it while the first is still open', async () => {
    const first = open();
    const card = first.create();
    await writeTestFile(first.transport(card.id), testData(9));
    // No close, no checkpoint: only what each answered APDU committed.
    const second = open();
    expect(second.get(card.id).applicationIds).toEqual([AID]);
    expect(second.exportImage(card.id)).toBe(first.exportImage(card.id));
    expect(await readTestFile(second.transport(card.id))).toEqual(testData(9));
  });

  it('loses nothing a reader saw when the process is killed (SIGKILL) right after the last answer', async () => {
    const child = await transpileForChild('test/server/emulator/sigkill-child.ts', 'virtual-cards-sigkill');
    try {
      const path = join(dir.dir, 'virtual-cards.db');
      const outcome = await runNode(join(child.dir, 'test/server/emulator/sigkill-child.js'), [path], 30_000);
      expect(outcome.stderr).toBe('');
      const id = outcome.stdout.trim();
      expect(id).not.toBe('');
      const store = open();
      expect(store.get(id).applicationIds).toEqual([AID]);
      expect(await readTestFile(store.transport(id))).toEqual(testData(42));
    } finally {
      await child.remove();
    }
  });

  it('keeps a card evicted from memory as it was; the eviction ends its session, as taking it out of the field would', async () => {
    const store = open({ cacheSize: 2 });
    const [a, b, c] = [store.create(), store.create(), store.create()];
    await writeTestFile(store.transport(a.id), testData(5));
    const moreFrames = Uint8Array.of(0x91, 0xaf);

    // Within the cache, a chained answer goes on across APDUs to other cards.
    expect((await store.transceive(a.id, GET_VERSION)).subarray(-2)).toEqual(moreFrames);
    await store.transceive(b.id, GET_VERSION);
    expect((await store.transceive(a.id, ADDITIONAL_FRAME)).subarray(-2)).toEqual(moreFrames);

    // Two other cards later, a has left memory: its chain is gone, its files are not.
    await store.transceive(b.id, GET_VERSION);
    await store.transceive(c.id, GET_VERSION);
    expect((await store.transceive(a.id, ADDITIONAL_FRAME)).subarray(-2)).not.toEqual(moreFrames);
    expect(await readTestFile(store.transport(a.id))).toEqual(testData(5));
  });
});
