/**
 * Run by persistence.test.ts in a child process: encodes a stored virtual card through its
 * transport, prints the card's id once the last answer is back, then kills itself with SIGKILL
 * (no close, no exit handlers), as a crashed or killed service would die.
 */
import { VirtualCardStore } from '../../../src/server/emulator/virtual-card-store.js';
import { testData, writeTestFile } from './support.js';

const store = VirtualCardStore.open({ path: process.argv[2] });
const card = store.create();
await writeTestFile(store.transport(card.id), testData(42));
process.stdout.write(`${card.id}\n`, () => process.kill(process.pid, 'SIGKILL'));
