import { VirtualCardStore } from '../../../../src/server/emulator/virtual-card-store.js';
import { Journal } from '../../../../src/server/journal/index.js';
import { EmulatedStation } from '../../../../src/server/stations/emulated-station.js';
import { StationRegistry } from '../../../../src/server/stations/station-registry.js';
import { keyStoreFor, runnerFor, silentLogger } from '../../batches/support.js';

/**
 * A service's batch work in a child process, to be killed (SIGKILL) mid-batch: two emulated
 * stations over the journal and the virtual card store at the paths given. Every card's APDUs are
 * answered a little late, so a kill lands mid-card. Prints one line per card change:
 * "<state> <card number>".
 */
const [journalPath, storePath] = process.argv.slice(2);
const journal = Journal.open({ path: journalPath });
const store = VirtualCardStore.open({ path: storePath });
const runner = await runnerFor(journal, keyStoreFor(journal));
runner.events.subscribe((event) => {
  if (event.kind === 'card') process.stdout.write(`${event.card.state} ${event.card.cardNumber}\n`);
});
const slowCards = {
  create: (input: { stationId: string }) => {
    const card = store.create(input);
    store.setFaults(card.id, { tearAtWrite: 0, delayMs: 3 });
    return card;
  },
  findByUid: (uid: Uint8Array) => store.findByUid(uid),
  transport: (id: string) => store.transport(id),
};
const registry = new StationRegistry();
for (const id of ['emu-a', 'emu-b']) {
  new EmulatedStation({ id, runner, journal, cards: slowCards, registry, logger: silentLogger }).start();
}
