/**
 * A small benchmark harness: warm up, then time batches until a minimum duration, and report
 * nanoseconds per operation. Cases meant to be compared run in the same process, one after the
 * other, and are printed side by side with their ratio.
 */

export interface Measurement {
  readonly nsPerOp: number;
  readonly ops: number;
}

export function measure(fn: () => unknown, minTimeMs = 400): Measurement {
  for (let i = 0; i < 500; i++) fn();
  let ops = 0;
  let batch = 64;
  const start = process.hrtime.bigint();
  const budget = BigInt(minTimeMs) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    batch = Math.min(batch * 2, 65_536);
    elapsed = process.hrtime.bigint() - start;
  }
  return { nsPerOp: Number(elapsed) / ops, ops };
}

/** `measure` for asynchronous operations (awaited one after the other). */
export async function measureAsync(fn: () => Promise<unknown>, minTimeMs = 1500): Promise<Measurement> {
  for (let i = 0; i < 20; i++) await fn();
  let ops = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(minTimeMs) * 1_000_000n;
  while (process.hrtime.bigint() - start < budget) {
    await fn();
    ops++;
  }
  return { nsPerOp: Number(process.hrtime.bigint() - start) / ops, ops };
}

export interface ComparisonRow {
  readonly name: string;
  readonly ours: Measurement;
  readonly baselines: Record<string, Measurement>;
}

function format(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}

/** Prints rows as a fixed-width table: our figure, then each baseline with its ratio to ours. */
export function printComparison(title: string, rows: ComparisonRow[], write: (line: string) => void): void {
  write(`\n## ${title}`);
  for (const row of rows) {
    const parts = [`${row.name.padEnd(48)} ours ${format(row.ours.nsPerOp).padStart(10)}`];
    for (const [label, m] of Object.entries(row.baselines)) {
      parts.push(`${label} ${format(m.nsPerOp).padStart(10)} (${(m.nsPerOp / row.ours.nsPerOp).toFixed(1)}x)`);
    }
    write(parts.join('  |  '));
  }
}

/** Prints operations per second, for throughput figures that have no baseline. */
export function printRates(title: string, rows: { name: string; measurement: Measurement }[], write: (line: string) => void): void {
  write(`\n## ${title}`);
  for (const { name, measurement } of rows) {
    const perSecond = 1e9 / measurement.nsPerOp;
    write(`${name.padEnd(48)} ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} /s  (${format(measurement.nsPerOp)} each)`);
  }
}
