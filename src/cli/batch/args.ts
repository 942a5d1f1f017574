import type { ClientTls } from '../../server/grpc/client.js';
import { clientTls, TLS_OPTIONS, tlsUsage } from '../client-tls.js';
import { UsageError } from '../usage-error.js';
import { parseArgs } from 'node:util';
import { fromJson } from '@bufbuild/protobuf';
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt';
import { BatchStateSchema, CardStateSchema } from '../../gen/desfirepacs/v1/encoder_pb.js';
import { MAX_BATCH_CARDS, type CardDefaults } from './card-source.js';
import { parseState, stateNames } from './states.js';

/** Where the service is when neither --server nor this variable says. */
export const SERVER_ENV = 'DESFIRE_PACS_SERVER';
export const DEFAULT_SERVER = '127.0.0.1:50051';

export const BATCH_USAGE = `usage: desfire-pacs batch <command> [options]

Batches of cards for the encoding stations of a running service (npm start), over gRPC.

commands:
  create --profile <name> (--count <n> --first-number <n> | --cards <file>) [options]
                              a batch of cards to encode; prints its id
      --key-set <name>        the key set to encode with (default: the one the profile names)
      --id <id>               the batch's id (default: a random UUID from the service)
      --count <n>             n cards (1..${MAX_BATCH_CARDS}) numbered from --first-number
      --first-number <n>      the first card number (at least 1)
      --cards <file>          the cards from a file: .csv with a header line naming the columns
                              card_number, valid_from, valid_to, site_code; or .json / .yaml with
                              a list of cards under "cards" (fields as in a card data file)
      --valid-from <time>     first valid second, RFC 3339 (2026-01-01T00:00:00Z)
      --valid-to <time>       last valid second, RFC 3339
      --site-code <n>         site code (default: the profile's)
                              these three go to every numbered card; with --cards, to the cards
                              that leave them out
      --watch                 then watch it
  watch <id>                  the batch's progress until it ends; Ctrl-C stops watching, not the batch
  list                        batches, newest first
      --state <state>         only batches in this state: ${stateNames(BatchStateSchema).join(', ')}
  cancel <id>                 stop handing out the batch's card numbers (cards on a station are finished)
  cards <id>                  the batch's cards: card number, UID, state, detail
      --state <state>         only cards in this state: ${stateNames(CardStateSchema).join(', ')}

options:
  --server <host:port>        the service (default: $${SERVER_ENV}, else ${DEFAULT_SERVER})
${tlsUsage(30)}
  -h, --help                  this help

exit codes: 0 done; 1 failed (watch: the batch completed with failed cards); 2 usage error,
invalid request or unknown batch; 4 (watch) the batch was cancelled; 130 watching stopped by Ctrl-C
`;

export type CardsSpec =
  | { readonly kind: 'numbered'; readonly count: number; readonly first: bigint; readonly defaults: CardDefaults }
  | { readonly kind: 'file'; readonly path: string; readonly defaults: CardDefaults };

export type BatchCommand =
  | { readonly name: 'create'; readonly profile: string; readonly keySet: string; readonly batchId: string; readonly cards: CardsSpec; readonly watch: boolean }
  | { readonly name: 'watch'; readonly batchId: string }
  | { readonly name: 'list'; readonly state: number }
  | { readonly name: 'cancel'; readonly batchId: string }
  | { readonly name: 'cards'; readonly batchId: string; readonly state: number };

export interface BatchOptions {
  readonly command: BatchCommand;
  readonly server: string;
  /** Unset: plaintext. */
  readonly tls?: ClientTls;
}

const OPTIONS = {
  server: { type: 'string' },
  profile: { type: 'string' },
  'key-set': { type: 'string' },
  id: { type: 'string' },
  count: { type: 'string' },
  'first-number': { type: 'string' },
  cards: { type: 'string' },
  'valid-from': { type: 'string' },
  'valid-to': { type: 'string' },
  'site-code': { type: 'string' },
  watch: { type: 'boolean' },
  state: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...TLS_OPTIONS,
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** Options that belong to one command only (--server, the TLS options and --help go with all). */
const COMMAND_OPTIONS: Readonly<Record<BatchCommand['name'], readonly (keyof Values)[]>> = {
  create: ['profile', 'key-set', 'id', 'count', 'first-number', 'cards', 'valid-from', 'valid-to', 'site-code', 'watch'],
  watch: [],
  list: ['state'],
  cancel: [],
  cards: ['state'],
};

const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT32 = 2 ** 32 - 1;

const COMMON_OPTIONS: readonly (keyof Values)[] = ['server', 'help', ...(Object.keys(TLS_OPTIONS) as (keyof typeof TLS_OPTIONS)[])];

/** The command line after `batch`, or 'help'; TLS files are resolved from `cwd`. */
export function parseBatchArgs(args: string[], env: Readonly<Record<string, string | undefined>>, cwd: string = process.cwd()): BatchOptions | 'help' {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError(`a command is needed: ${Object.keys(COMMAND_OPTIONS).join(', ')}`);
  if (!(name in COMMAND_OPTIONS)) throw new UsageError(`unknown command "${name}"`);
  const commandName = name as BatchCommand['name'];
  const foreign = (Object.keys(OPTIONS) as (keyof Values)[]).find((o) => values[o] !== undefined && !COMMON_OPTIONS.includes(o) && !COMMAND_OPTIONS[commandName].includes(o));
  if (foreign !== undefined) throw new UsageError(`--${foreign} does not apply to "${name}"`);
  const server = values.server ?? (env[SERVER_ENV] || DEFAULT_SERVER);
  if (server === '') throw new UsageError('--server needs an address, host:port');
  const tls = clientTls(values, env, cwd);
  return { command: command(commandName, rest, values), server, ...(tls === undefined ? {} : { tls }) };
}

function command(name: BatchCommand['name'], rest: string[], values: Values): BatchCommand {
  const batchId = () => {
    if (rest.length !== 1 || rest[0] === '') throw new UsageError(`"${name}" takes one batch id`);
    return rest[0];
  };
  switch (name) {
    case 'create':
      if (rest.length > 0) throw new UsageError(`"create" takes options only, got "${rest[0]}"`);
      if (!values.profile) throw new UsageError('create needs --profile');
      return { name, profile: values.profile, keySet: values['key-set'] ?? '', batchId: values.id ?? '', cards: cardsSpec(values), watch: values.watch ?? false };
    case 'watch':
    case 'cancel':
      return { name, batchId: batchId() };
    case 'list':
      if (rest.length > 0) throw new UsageError(`"list" takes no arguments, got "${rest[0]}"`);
      return { name, state: state(values.state, BatchStateSchema) };
    case 'cards':
      return { name, batchId: batchId(), state: state(values.state, CardStateSchema) };
  }
}

function cardsSpec(values: Values): CardsSpec {
  const defaults: CardDefaults = {
    ...(values['valid-from'] !== undefined ? { validFrom: time(values['valid-from'], '--valid-from') } : {}),
    ...(values['valid-to'] !== undefined ? { validTo: time(values['valid-to'], '--valid-to') } : {}),
    ...(values['site-code'] !== undefined ? { siteCode: Number(integer(values['site-code'], '--site-code', 0n, BigInt(MAX_UINT32))) } : {}),
  };
  if (values.cards !== undefined) {
    if (values.count !== undefined || values['first-number'] !== undefined) throw new UsageError('give --cards, or --count with --first-number, not both');
    if (values.cards === '') throw new UsageError('--cards needs a file name');
    return { kind: 'file', path: values.cards, defaults };
  }
  if (values.count === undefined || values['first-number'] === undefined) throw new UsageError('create needs --count and --first-number, or --cards');
  if (defaults.validFrom === undefined || defaults.validTo === undefined) throw new UsageError('numbered cards need --valid-from and --valid-to');
  const count = Number(integer(values.count, '--count', 1n, BigInt(MAX_BATCH_CARDS)));
  const first = integer(values['first-number'], '--first-number', 1n, MAX_UINT64);
  if (first + BigInt(count) - 1n > MAX_UINT64) throw new UsageError(`--first-number ${first} leaves no room for ${count} card numbers (at most ${MAX_UINT64})`);
  return { kind: 'numbered', count, first, defaults };
}

function integer(text: string, option: string, min: bigint, max: bigint): bigint {
  const value = /^\d+$/.test(text) ? BigInt(text) : undefined;
  if (value === undefined || value < min || value > max) throw new UsageError(`${option} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

function time(text: string, option: string): Timestamp {
  try {
    return fromJson(TimestampSchema, text);
  } catch {
    throw new UsageError(`${option} must be an RFC 3339 time such as 2026-01-01T00:00:00Z, got "${text}"`);
  }
}

function state(text: string | undefined, schema: typeof BatchStateSchema | typeof CardStateSchema): number {
  if (text === undefined) return 0;
  const value = parseState(schema, text);
  if (value === undefined) throw new UsageError(`--state must be one of ${stateNames(schema).join(', ')}, got "${text}"`);
  return value;
}
