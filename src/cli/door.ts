import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { toHex } from '../desfire/bytes.js';
import type { Transport } from '../desfire/transport.js';
import { ImageError, importImage } from '../emulator/image.js';
import { InProcessTransport } from '../emulator/in-process-transport.js';
import { VirtualCard } from '../emulator/virtual-card.js';
import { PcscUnavailableError } from '../encoder/transports/index.js';
import { TransportError } from '../encoder/transport-error.js';
import { AuthService, DenialReason, type AuthenticationResult } from '../gen/desfirepacs/v1/auth_pb.js';
import { authenticateCard } from '../relay/authenticate-card.js';
import { openPcscReader, type CardReader } from '../relay/card-reader.js';
import { serviceClient, type ClientTls } from '../server/grpc/client.js';
import { DEFAULT_SERVER, SERVER_ENV } from './batch/args.js';
import { describeCallFailure, isServiceError } from './batch/call-failure.js';
import { clientTls, TLS_OPTIONS, tlsUsage, type TlsValues } from './client-tls.js';
import { copyOfServiceCard } from './service-virtual-card.js';
import { UsageError } from './usage-error.js';

/** `desfire-pacs door`: one card authenticated as a door's reader host does, through the service's AuthService. */

/** The exit code of a denied card. */
export const DOOR_DENIED = 3;

export const DOOR_USAGE = `usage: desfire-pacs door (--reader <name> | --image <file> | --virtual-card <uid>) [options]

Authenticates one card as a door's reader host does: the card stays here, the service holds the
keys and decides (AuthService.Authenticate, the APDUs relayed over gRPC, the proximity rounds
timed here). Prints GRANTED with the credential, or DENIED with the reason.
Exit code: 0 granted, ${DOOR_DENIED} denied, 1 failure, 2 usage error.

options:
  --server <host:port>   the service (default: $${SERVER_ENV}, else ${DEFAULT_SERVER})
${tlsUsage(25)}
  --reader <name>        a PC/SC reader, by (part of) its name; waits up to 60 s for a card
  --image <file>         a virtual card's image (e.g. one "station --virtual --out" saved); not changed
  --virtual-card <uid>   a copy of one of the service's virtual cards (e.g. an emulated station's),
                         held here: the service reaches it only through the relay
  --profile <name>       the profile whose door policy applies (default: the service's default)
  --door-id <id>         this door, for the service's audit trail
  --delay-ms <n>         a virtual card answers n ms late, as through a relay (0..10000)
  -h, --help             this help
`;

const CARD_WAIT_MS = 60_000;
const MAX_DELAY_MS = 10_000;

export interface ReaderHostIo {
  write(line: string): void;
  error(line: string): void;
  /** Where DESFIRE_PACS_SERVER is read from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Resolves file arguments (default `process.cwd()`); DESFIRE_PACS_TLS_* are read from `env`. */
  readonly cwd?: string;
  /** Opens a PC/SC reader by name (default: through nfc-pcsc). */
  readonly openReader?: (name: string) => Promise<CardReader>;
}

interface DoorOptions {
  readonly server: string;
  /** Unset: plaintext. */
  readonly tls?: ClientTls;
  readonly reader?: string;
  readonly image?: string;
  readonly virtualCard?: string;
  readonly profile?: string;
  readonly doorId?: string;
  readonly delayMs: number;
}

function parse(args: string[], io: ReaderHostIo): DoorOptions | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      reader: { type: 'string' },
      image: { type: 'string' },
      'virtual-card': { type: 'string' },
      profile: { type: 'string' },
      'door-id': { type: 'string' },
      'delay-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...TLS_OPTIONS,
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const sources = [values.reader, values.image, values['virtual-card']].filter((v) => v !== undefined);
  if (sources.length !== 1) throw new UsageError('give exactly one of --reader, --image and --virtual-card');
  if (values['delay-ms'] !== undefined && values.reader !== undefined) throw new UsageError('--delay-ms delays a virtual card: it goes with --image or --virtual-card');
  return {
    server: serverAddress(values.server, io),
    ...serviceTls(values, io),
    ...(values.reader !== undefined ? { reader: values.reader } : {}),
    ...(values.image !== undefined ? { image: resolve(io.cwd ?? process.cwd(), values.image) } : {}),
    ...(values['virtual-card'] !== undefined ? { virtualCard: values['virtual-card'] } : {}),
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
    ...(values['door-id'] !== undefined ? { doorId: values['door-id'] } : {}),
    delayMs: values['delay-ms'] === undefined ? 0 : integerOption('--delay-ms', values['delay-ms'], 0, MAX_DELAY_MS),
  };
}

/** --server, else $DESFIRE_PACS_SERVER, else the default address. */
export function serverAddress(option: string | undefined, io: ReaderHostIo): string {
  const server = option ?? ((io.env ?? process.env)[SERVER_ENV] || DEFAULT_SERVER);
  if (server === '') throw new UsageError('--server needs an address, host:port');
  return server;
}

/** The TLS the options or DESFIRE_PACS_TLS_* ask for, as a spread: nothing for plaintext. */
export function serviceTls(values: TlsValues, io: ReaderHostIo): { tls?: ClientTls } {
  const tls = clientTls(values, io.env ?? process.env, io.cwd ?? process.cwd());
  return tls === undefined ? {} : { tls };
}

/** A whole number option in min..max. */
export function integerOption(name: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`${name} takes a whole number ${min}..${max}, got "${text}"`);
  return value;
}

/** The card to authenticate: a virtual card from its image, or the next card on a PC/SC reader. */
async function openCard(options: DoorOptions, io: ReaderHostIo): Promise<{ transport: Transport; readerId: string; close(): Promise<void> }> {
  if (options.image !== undefined || options.virtualCard !== undefined) {
    const card =
      options.image !== undefined ? new VirtualCard(importImage(JSON.parse(await readFile(options.image, 'utf8')))) : await copyOfServiceCard(options.server, options.virtualCard!, { tls: options.tls });
    card.answerDelayMs = options.delayMs;
    return { transport: new InProcessTransport(card), readerId: 'virtual card', close: async () => undefined };
  }
  const reader = await (io.openReader ?? openPcscReader)(options.reader as string);
  try {
    io.write(`place a card on ${reader.readerName}`);
    await reader.waitForCard({ timeoutMs: CARD_WAIT_MS });
  } catch (e) {
    await reader.close();
    throw e;
  }
  return { transport: reader, readerId: reader.readerName, close: () => reader.close() };
}

/**
 * Runs `desfire-pacs door ...`: exit 0 granted, 3 denied, 1 when the card, the reader or the
 * service failed, 2 for a usage error (or a request the service calls invalid).
 */
export async function runDoor(args: string[], io: ReaderHostIo): Promise<number> {
  let options: DoorOptions | 'help';
  try {
    options = parse(args, io);
  } catch (e) {
    return usageFailure(e, io, DOOR_USAGE);
  }
  if (options === 'help') {
    io.write(DOOR_USAGE.trimEnd());
    return 0;
  }
  const client = serviceClient(AuthService, options.server, { tls: options.tls });
  try {
    const card = await openCard(options, io);
    try {
      const uid = toHex(card.transport.card?.uid ?? new Uint8Array(0)).toUpperCase();
      const result = await authenticateCard(client, card.transport, { readerId: card.readerId, ...(options.profile ? { profile: options.profile } : {}), ...(options.doorId ? { doorId: options.doorId } : {}) });
      for (const line of verdictLines(uid, result)) io.write(line);
      return result.granted ? 0 : DOOR_DENIED;
    } finally {
      await card.close();
    }
  } catch (e) {
    return failure(e, options.server, io);
  } finally {
    client.grpc.close();
  }
}

function verdictLines(uid: string, result: AuthenticationResult): string[] {
  if (!result.granted) return [`card ${uid}: DENIED (${reasonName(result.reason)}): ${result.detail}`];
  const c = result.credential;
  const lines = [`card ${uid}: GRANTED (key set ${result.keySet} v${result.keyVersion})`];
  if (c) lines.push(`  card number ${c.cardNumber}, issuer ${c.issuer}, site ${c.siteCode}, valid ${time(c.validFrom)} .. ${time(c.validTo)}`);
  return lines;
}

/** The door's own spelling of a reason (RELAY_SUSPECTED → relay-suspected), as `verify` prints it. */
function reasonName(reason: DenialReason): string {
  return (DenialReason[reason] ?? `reason ${reason}`).toLowerCase().replaceAll('_', '-');
}

function time(ts: Timestamp | undefined): string {
  return ts === undefined ? '-' : timestampDate(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A bad command line: one line and the usage, exit 2. */
export function usageFailure(e: unknown, io: ReaderHostIo, usage: string): number {
  if (!(e instanceof UsageError) && !(e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) throw e;
  io.error(`desfire-pacs: ${e.message}`);
  io.error(usage.trimEnd());
  return 2;
}

/**
 * A failure the operator is told of in one line, with its exit code: a call the service refused
 * (its status), a card or reader that failed, an image that could not be read. Anything else is
 * a bug and propagates.
 */
export function failure(e: unknown, server: string, io: ReaderHostIo): number {
  if (e instanceof UsageError) {
    io.error(`desfire-pacs: ${e.message}`);
    return 2;
  }
  if (isServiceError(e)) {
    const described = describeCallFailure(e, server);
    io.error(`desfire-pacs: ${described.message}`);
    return described.exitCode;
  }
  if (e instanceof TransportError || e instanceof PcscUnavailableError || e instanceof ImageError || e instanceof SyntaxError || (e instanceof Error && 'code' in e && e.code === 'ENOENT')) {
    io.error(`desfire-pacs: ${e.message}`);
    return 1;
  }
  throw e;
}
