import { mkdir } from 'node:fs/promises';
import { saveImage } from './image-file.js';
import { stopSignals } from './stop-signals.js';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../desfire/bytes.js';
import type { Transport } from '../desfire/transport.js';
import { factoryState } from '../emulator/factory.js';
import { InProcessTransport } from '../emulator/in-process-transport.js';
import { VirtualCard } from '../emulator/virtual-card.js';
import { CardState, EncoderService, type EncodeResult } from '../gen/desfirepacs/v1/encoder_pb.js';
import { openPcscReader, type CardReader } from '../relay/card-reader.js';
import { encodeCard } from '../relay/encode-card.js';
import { serviceClient, type ClientTls, type ServiceClient } from '../server/grpc/client.js';
import { DEFAULT_SERVER, SERVER_ENV } from './batch/args.js';
import { TLS_OPTIONS, tlsUsage } from './client-tls.js';
import { failure, integerOption, serverAddress, serviceTls, usageFailure, type ReaderHostIo } from './door.js';
import { UsageError } from './usage-error.js';

/** `desfire-pacs station`: a remote encoding station, relaying each card to the service's EncoderService.Encode. */

export const STATION_USAGE = `usage: desfire-pacs station (--reader <name> | --virtual) [options]

A remote encoding station: each card placed on the PC/SC reader is encoded by the service for a
batch, the card's APDUs relayed over gRPC (EncoderService.Encode; the keys stay in the service).
One line per card; then it waits for the card to be taken away and for the next one, until
--count cards or Ctrl-C (SIGINT) / SIGTERM; a card being encoded is finished first.
Exit code: 0 when every card was encoded, 1 when one was not or the station failed, 2 usage error.

options:
  --server <host:port>   the service (default: $${SERVER_ENV}, else ${DEFAULT_SERVER})
${tlsUsage(25)}
  --reader <name>        the PC/SC reader, by (part of) its name
  --virtual              encode factory-fresh virtual cards made in this process instead (tests, demos)
  --out <dir>            with --virtual: save each card's image as <dir>/<UID>.json
  --batch <id>           the batch to take card numbers from (default: the oldest with cards left)
  --station-id <id>      this station's name, 1..64 of [A-Za-z0-9._-] (default: the host's name)
  --count <n>            stop after n cards (default: 1 with --virtual, no limit with --reader)
  -h, --help             this help
`;

const MAX_COUNT = 1_000_000;

export interface StationIo extends ReaderHostIo {
  /** Stops the station between cards (default: the first SIGINT or SIGTERM). */
  readonly stop?: AbortSignal;
}

interface StationOptions {
  readonly server: string;
  /** Unset: plaintext. */
  readonly tls?: ClientTls;
  readonly reader?: string;
  readonly out?: string;
  readonly batchId?: string;
  readonly stationId: string;
  readonly count: number;
}

function parse(args: string[], io: StationIo): StationOptions | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      reader: { type: 'string' },
      virtual: { type: 'boolean' },
      out: { type: 'string' },
      batch: { type: 'string' },
      'station-id': { type: 'string' },
      count: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...TLS_OPTIONS,
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if ((values.reader === undefined) === (values.virtual !== true)) throw new UsageError('give exactly one of --reader and --virtual');
  if (values.out !== undefined && values.virtual !== true) throw new UsageError('--out saves virtual cards: it goes with --virtual');
  const unlimited = values.reader !== undefined ? Number.POSITIVE_INFINITY : 1;
  return {
    server: serverAddress(values.server, io),
    ...serviceTls(values, io),
    ...(values.reader !== undefined ? { reader: values.reader } : {}),
    ...(values.out !== undefined ? { out: resolve(io.cwd ?? process.cwd(), values.out) } : {}),
    ...(values.batch !== undefined ? { batchId: values.batch } : {}),
    stationId: values['station-id'] ?? defaultStationId(),
    count: values.count === undefined ? unlimited : integerOption('--count', values.count, 1, MAX_COUNT),
  };
}

/** The host's name, in the characters a station id allows. */
function defaultStationId(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'station';
}

/**
 * Runs `desfire-pacs station ...` and returns the exit code. The service checks the station id
 * and batch id (an invalid one ends the first card with exit code 2).
 */
export async function runStation(args: string[], io: StationIo): Promise<number> {
  let options: StationOptions | 'help';
  try {
    options = parse(args, io);
  } catch (e) {
    return usageFailure(e, io, STATION_USAGE);
  }
  if (options === 'help') {
    io.write(STATION_USAGE.trimEnd());
    return 0;
  }
  const signals = io.stop === undefined ? stopSignals() : undefined;
  const stop = io.stop ?? signals!.signal;
  const client = serviceClient(EncoderService, options.server, { tls: options.tls });
  try {
    const station = new Station(client, options, io);
    return await (options.reader === undefined ? station.virtualCards(stop) : station.readerCards(options.reader, stop));
  } catch (e) {
    return failure(e, options.server, io);
  } finally {
    client.grpc.close();
    signals?.dispose();
  }
}

class Station {
  #failed = 0;

  constructor(
    readonly client: ServiceClient<typeof EncoderService>,
    readonly options: StationOptions,
    readonly io: StationIo,
  ) {}

  /** Factory-fresh virtual cards, one after the other, each saved when --out asks. */
  async virtualCards(stop: AbortSignal): Promise<number> {
    const { out, count } = this.options;
    if (out !== undefined) await mkdir(out, { recursive: true });
    for (let done = 0; done < count && !stop.aborted; done++) {
      const card = new VirtualCard(factoryState());
      await this.#encode(new InProcessTransport(card), 'virtual card');
      if (out !== undefined) await saveImage(join(out, `${toHex(card.uid).toUpperCase()}.json`), card.exportImage());
    }
    return this.#exitCode();
  }

  /** The cards placed on the reader, each encoded, then waited away; a stop ends the waits. */
  async readerCards(name: string, stop: AbortSignal): Promise<number> {
    const reader: CardReader = await (this.io.openReader ?? openPcscReader)(name);
    try {
      this.io.write(`station ${this.options.stationId}: place cards on ${reader.readerName}`);
      for (let done = 0; done < this.options.count; done++) {
        await reader.waitForCard({ signal: stop });
        await this.#encode(reader, reader.readerName);
        if (done + 1 < this.options.count) await reader.waitForRemoval({ signal: stop });
      }
    } catch (e) {
      if (!stop.aborted || e !== stop.reason) throw e;
    } finally {
      await reader.close();
    }
    return this.#exitCode();
  }

  /** One card through the service; its line says what became of it. */
  async #encode(transport: Transport, readerId: string): Promise<void> {
    const uid = toHex(transport.card?.uid ?? new Uint8Array(0)).toUpperCase();
    const { batchId, stationId } = this.options;
    const result = await encodeCard(this.client, transport, { stationId, readerId, ...(batchId === undefined ? {} : { batchId }) });
    if (result.failure !== '') this.#failed++;
    this.io.write(`card ${uid}: ${outcome(result)}`);
  }

  #exitCode(): number {
    return this.#failed === 0 ? 0 : 1;
  }
}

function outcome(result: EncodeResult): string {
  const card = result.card;
  const number = card === undefined ? '' : `card number ${card.cardNumber}${card.batchId ? ` of batch ${card.batchId}` : ''}`;
  if (result.failure === '') {
    return result.changedSteps.length === 0 ? `already encoded, ${number}` : `encoded, ${number} (${result.changedSteps.length} steps changed the card)`;
  }
  const state = card === undefined ? 'FAILED' : (CardState[card.state] ?? 'FAILED');
  return `${state}${number ? ` (${number})` : ''}: ${result.failure}`;
}

