import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromHex } from '../../../src/desfire/bytes.js';
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { Journal } from '../../../src/server/journal/index.js';
import { EmulatedStation } from '../../../src/server/stations/emulated-station.js';
import { StationRegistry } from '../../../src/server/stations/station-registry.js';
import { transpileForChild } from '../../support/child-node.js';
import { atDoor, batchCards, genericPacs, keyStoreFor, runnerFor, silentLogger } from '../batches/support.js';
import { tempDir } from '../journal/support.js';
import { completion } from './support/events.js';

/** Runs the child and kills it with SIGKILL once it printed `killAt` lines "encoding <n>"; resolves when it is gone. */
function runUntilKilled(script: string, args: string[], killAt: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      buffered += text;
      const complete = buffered.split('\n');
      buffered = complete.pop()!;
      lines.push(...complete);
      if (lines.filter((l) => l.startsWith('encoding ')).length >= killAt) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve(lines) : reject(new Error(`child exited with ${code}: ${stderr}`))));
  });
}

describe('emulated stations after a killed service', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('resume the batch where the kill left it: every number encoded once, on a card that opens the door', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const paths = [join(dir, 'journal.db'), join(dir, 'cards.db')];
    const setup = Journal.open({ path: paths[0] });
    const batch = setup.createBatch({ profile: 'generic-pacs-v1', keySet: 'pacs', cards: batchCards(1, 12) });
    setup.close();

    const child = await transpileForChild('test/server/stations/support/crash-child.ts', 'crash-child');
    cleanups.push(() => child.remove());
    const printed = await runUntilKilled(join(child.dir, 'test/server/stations/support/crash-child.js'), paths, 5);
    expect(printed.filter((l) => l.startsWith('encoding ')).length).toBeGreaterThanOrEqual(5);

    const journal = Journal.open({ path: paths[0] });
    const store = VirtualCardStore.open({ path: paths[1] });
    cleanups.push(() => journal.close(), () => store.close());
    expect(journal.getBatch(batch.id).state).toBe('running');
    const interrupted = journal.resumableCards();
    expect(interrupted.length).toBeGreaterThanOrEqual(1); // the kill left cards mid-way

    const keyStore = keyStoreFor(journal);
    const runner = await runnerFor(journal, keyStore);
    const registry = new StationRegistry();
    const done = completion(runner.events, batch.id);
    const stations = ['emu-a', 'emu-b'].map((id) => new EmulatedStation({ id, runner, journal, cards: store, registry, logger: silentLogger }));
    stations.forEach((s) => s.start());
    cleanups.push(() => Promise.all(stations.map((s) => s.stop())).then(() => undefined));
    await done;

    expect(journal.getBatch(batch.id).counts).toMatchObject({ total: 12, encoded: 12, failed: 0, refused: 0, pending: 0, encoding: 0 });
    const records = journal.listCards({ batchId: batch.id }).cards;
    expect(records.map((c) => c.cardNumber).sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(i + 1)));
    for (const record of interrupted) expect(journal.getCard(record.id)).toMatchObject({ uid: record.uid, cardNumber: record.cardNumber, state: 'encoded' });
    const profile = await genericPacs();
    for (const record of records) {
      const card = store.findByUid(fromHex(record.uid!))!;
      const door = await atDoor(profile, keyStore, store.transport(card.id), card.uid);
      if (!door.granted) throw new Error(`card ${record.cardNumber} denied: ${door.reason} ${door.detail}`);
      expect(door.credential.cardNumber).toBe(record.cardNumber);
    }
    // virtual cards the kill left blank (taken, never given a number) are the only ones without a card
    const holders = new Set(records.map((r) => r.uid));
    for (const card of store.list().cards) {
      if (!holders.has(Buffer.from(card.uid).toString('hex').toUpperCase())) expect(card.applicationIds).toEqual([]);
    }
  });
});
