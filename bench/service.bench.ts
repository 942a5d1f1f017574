import type { BatchRow } from './service/batch-throughput.js';
import { DEFAULT_TOLERANCE_MS, type DoorAuthRow } from './service/door-auth.js';

export { batchBenchmarks } from './service/batch-throughput.js';
export { assembledServiceBenchmark } from './service/assembled-service.js';
export { doorAuthBenchmarks } from './service/door-auth.js';

const ms = (value: number) => (value >= 10 ? value.toFixed(0) : value.toFixed(value >= 1 ? 1 : 2));

function tallyText(tally: ReadonlyMap<string, number>): string {
  return [...tally].map(([what, n]) => `${n} ${what}`).join(', ');
}

/**
 * Two lines per row: rate, latency and every verdict that was not a grant, by reason; then where
 * the time goes. A row at another tolerance than the service's default says why it is there.
 */
export function printDoorAuthRows(rows: readonly DoorAuthRow[], write: (line: string) => void): void {
  for (const row of rows) {
    if (row.toleranceMs !== DEFAULT_TOLERANCE_MS) {
      write(`(the default ${DEFAULT_TOLERANCE_MS} ms proximity tolerance denied cards above; again with ${row.toleranceMs} ms, the margin the tests allow in-process cards sharing the CPU:)`);
    }
    const total = row.granted + [...row.denied.values(), ...row.failed.values()].reduce((a, b) => a + b, 0);
    const name = `${row.streams} reader stream${row.streams === 1 ? '' : 's'}, tolerance ${row.toleranceMs} ms`;
    const verdicts = `granted ${row.granted}/${total}${row.denied.size > 0 ? `; DENIED ${tallyText(row.denied)}` : ''}${row.failed.size > 0 ? `; FAILED ${tallyText(row.failed)}` : ''}`;
    write(`${name.padEnd(40)} ${row.perSecond.toFixed(0).padStart(6)} /s  p50 ${ms(row.p50Ms).padStart(5)} ms  p99 ${ms(row.p99Ms).padStart(5)} ms  ${verdicts}`);
    const { inside } = row;
    const cpu = `CPU per authentication, both ends: ${ms(row.cpuMsPerAuth)} ms`;
    if (inside === undefined) {
      write(`${''.padEnd(40)} ${cpu}`);
      continue;
    }
    write(
      `${''.padEnd(40)} handler time per relayed message: mean ${ms(inside.serverMeanMs)} ms, p99 ${ms(inside.serverP99Ms)} ms (${inside.messagesPerAuth.toFixed(0)} messages per authentication); ` +
        `key-use audit: ${inside.auditRowsPerAuth.toFixed(1)} rows, ${ms(inside.auditMsPerAuth)} ms per authentication; ${cpu}`,
    );
  }
}

/** One line per run: cards per second, and the batch's cards by state (every one should be encoded). */
export function printBatchRows(rows: readonly BatchRow[], write: (line: string) => void): void {
  for (const row of rows) {
    const journal = { durable: 'journal in a file (synchronous=FULL)', memory: "journal ':memory:'", service: 'the assembled service (startService)' }[row.journal];
    const name = `${row.cards} cards, ${row.stations} station${row.stations === 1 ? '' : 's'}, ${journal}`;
    const { encoded, failed, refused, pending, encoding } = row.counts;
    const others = Object.entries({ failed, refused, pending, encoding }).filter(([, n]) => n > 0);
    const state = row.completed ? 'completed' : 'NOT COMPLETED within the cap, cancelled';
    write(
      `${name.padEnd(62)} ${row.perSecond.toFixed(0).padStart(5)} cards/s  (${row.seconds.toFixed(1)} s; ${state}: encoded ${encoded}/${row.cards}` +
        `${others.length > 0 ? `, ${others.map(([what, n]) => `${what} ${n}`).join(', ')}` : ''})`,
    );
    for (const [detail, n] of row.failures) write(`${''.padEnd(62)} ${n} × ${detail}`);
  }
}
