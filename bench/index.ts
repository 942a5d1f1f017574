import { cpus } from 'node:os';
import { cryptoBenchmarks } from './crypto.bench.js';
import { emulatorBenchmarks, emulatorReadBenchmarks } from './emulator.bench.js';
import { encoderBenchmarks } from './encoder.bench.js';
import { printComparison, printRates } from './harness.js';
import { assembledServiceBenchmark, batchBenchmarks, doorAuthBenchmarks, printBatchRows, printDoorAuthRows } from './service.bench.js';

/** `npm run bench`: every benchmark of the project in one run, side by side with its baselines. */
const write = (line: string) => process.stdout.write(`${line}\n`);
write(`# desfire-pacs benchmarks — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`);
write('ratio = baseline time / our time (higher is better for us)');
printComparison('crypto (src/desfire)', cryptoBenchmarks(), write);
printRates('virtual card (src/emulator), commands per second on one core', [...emulatorBenchmarks(), ...emulatorReadBenchmarks()], write);

write('\n## reader side + virtual card (src/encoder over src/emulator, in process)');
for (const row of await encoderBenchmarks()) {
  const perSecond = 1e9 / row.measurement.nsPerOp;
  write(`${row.name.padEnd(56)} ${perSecond.toFixed(0).padStart(7)} /s  (${(row.measurement.nsPerOp / 1000).toFixed(0)} µs each; reader side ${(100 * row.readerShare).toFixed(0)}%)`);
}

write('\n## door authentications relayed over gRPC on loopback (AuthService, journal in a file auditing key uses; reader hosts with virtual cards in the same process)');
printDoorAuthRows(await doorAuthBenchmarks({ streams: [1, 16, 64], windowMs: 3000, fallbackToleranceMs: 50 }), write);

write('\n## batch throughput (CreateBatch over gRPC until completed; emulated stations, virtual cards in a file)');
printBatchRows(await batchBenchmarks({ cards: 200, stations: [1, 2], journals: ['durable', 'memory'], capMs: 5000 }), write);

write('\n## the assembled service (startService: data directory, key file, info logs to /dev/null, 2 emulated stations)');
const assembled = await assembledServiceBenchmark({ cards: 200, stations: 2, streams: 16, windowMs: 3000, capMs: 5000 });
printBatchRows([assembled.batch], write);
printDoorAuthRows([assembled.doors], write);
