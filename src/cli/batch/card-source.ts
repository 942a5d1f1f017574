import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { create, type JsonValue } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { CreateBatchRequestSchema } from '../../gen/desfirepacs/v1/encoder_pb.js';
import { CardDataSchema, type CardData } from '../../gen/desfirepacs/v1/profile_pb.js';
import { messageFromJson, parseSource, ProfileError, type ProfileIssue, type SourceFormat } from '../../encoder/profile/index.js';

/** The most cards one batch takes (CreateBatchRequest.cards in encoder.proto). */
export const MAX_BATCH_CARDS = 50_000;

/** The cards of a batch to create, and where each came from (for the operator's messages). */
export interface CardSource {
  readonly cards: readonly CardData[];
  /** `card number 1042 (line 43 of cards.csv)`: which card `cards[index]` is. */
  describe(index: number): string;
}

/** Values for cards that give none (all of them, for numbered cards). */
export interface CardDefaults {
  readonly validFrom?: Timestamp;
  readonly validTo?: Timestamp;
  readonly siteCode?: number;
}

/** `count` cards numbered from `first`, all with the same validity and site code. */
export function numberedCards(count: number, first: bigint, defaults: CardDefaults): CardSource {
  const cards = Array.from({ length: count }, (_, i) => withDefaults(create(CardDataSchema, { cardNumber: first + BigInt(i) }), defaults));
  return { cards, describe: (index) => `card number ${first + BigInt(index)}` };
}

const FORMATS: Readonly<Record<string, 'csv' | SourceFormat>> = { '.csv': 'csv', '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml' };

/** The columns a cards CSV may have: CardData's scalar fields, by their proto names. */
const CSV_COLUMNS = ['card_number', 'valid_from', 'valid_to', 'site_code'] as const;

/**
 * Cards from a file: `.csv` (a header line naming the columns, then one card a line; empty cells
 * take the defaults), or `.json` / `.yaml` / `.yml` (a mapping whose only field, `cards`, is a
 * list of CardData in the protobuf JSON mapping, as profile files are written). Problems are a
 * ProfileError naming the line or field (`cards[3].valid_to`, the path the service uses too).
 */
export async function cardsFromFile(path: string, defaults: CardDefaults): Promise<CardSource> {
  const ext = extname(path).toLowerCase();
  const subject = `cards file ${path}`;
  const format = FORMATS[ext];
  if (format === undefined) throw new ProfileError(subject, [{ path: '', message: `unknown extension "${ext}": use .csv, .json, .yaml or .yml` }]);
  const text = await readFile(path, 'utf8');
  const parsed = format === 'csv' ? parseCsv(text, subject) : parseDocument(text, format, subject);
  if (parsed.cards.length === 0) throw new ProfileError(subject, [{ path: '', message: 'no cards' }]);
  if (parsed.cards.length > MAX_BATCH_CARDS) throw new ProfileError(subject, [{ path: '', message: `${parsed.cards.length} cards; a batch takes at most ${MAX_BATCH_CARDS}` }]);
  const name = basename(path);
  const cards = parsed.cards.map((card) => withDefaults(card, defaults));
  return {
    cards,
    describe: (index) => `card number ${cards[index]?.cardNumber} (${parsed.where(index)} of ${name})`,
  };
}

interface Parsed {
  readonly cards: CardData[];
  /** `line 43`, `cards[41]`. */
  where(index: number): string;
}

function parseDocument(text: string, format: SourceFormat, subject: string): Parsed {
  const json = parseSource(text, format, subject) as { readonly [key: string]: JsonValue };
  const extra = Object.keys(json).find((key) => key !== 'cards');
  if (extra !== undefined) throw new ProfileError(subject, [{ path: extra, message: 'unknown field; a cards file has one field, "cards", a list of cards' }]);
  if (json.cards === undefined) throw new ProfileError(subject, [{ path: 'cards', message: 'is required: a list of cards' }]);
  // Read as the request's `cards` field, so a problem is named as the service would name it.
  const { cards } = messageFromJson(CreateBatchRequestSchema, { cards: json.cards }, subject);
  return { cards, where: (index) => `cards[${index}]` };
}

function parseCsv(text: string, subject: string): Parsed {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const rows = lines.map((line, i) => ({ number: i + 1, line: line.trim() })).filter((r) => r.line !== '' && !r.line.startsWith('#'));
  const header = rows.shift();
  if (header === undefined) return { cards: [], where: () => '' };
  const columns = cells(header.line);
  const issues: ProfileIssue[] = [];
  columns.forEach((column, i) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(column)) issues.push({ path: `line ${header.number}`, message: `unknown column "${column}": the columns are ${CSV_COLUMNS.join(', ')}` });
    else if (columns.indexOf(column) !== i) issues.push({ path: `line ${header.number}`, message: `column "${column}" twice` });
  });
  if (!columns.includes('card_number')) issues.push({ path: `line ${header.number}`, message: 'the header line must name the card_number column' });
  if (issues.length > 0) throw new ProfileError(subject, issues);
  const cards = rows.map((row) => {
    const values = cells(row.line);
    if (values.length !== columns.length) throw new ProfileError(subject, [{ path: `line ${row.number}`, message: `${values.length} values for ${columns.length} columns (${columns.join(',')})` }]);
    const json: Record<string, string> = {};
    columns.forEach((column, i) => {
      if (values[i] !== '') json[column] = values[i];
    });
    return messageFromJson(CardDataSchema, json, `${subject}, line ${row.number}`);
  });
  return { cards, where: (index) => `line ${rows[index]?.number}` };
}

/**
 * A CSV line's cells, trimmed; a cell in double quotes (as spreadsheets write them) is unquoted.
 * Card data holds numbers and times only, so no cell has a comma of its own.
 */
function cells(line: string): string[] {
  return line.split(',').map((cell) => {
    const trimmed = cell.trim();
    return /^".*"$/.test(trimmed) ? trimmed.slice(1, -1).replaceAll('""', '"') : trimmed;
  });
}

function withDefaults(card: CardData, defaults: CardDefaults): CardData {
  if (card.validFrom === undefined && defaults.validFrom !== undefined) card.validFrom = defaults.validFrom;
  if (card.validTo === undefined && defaults.validTo !== undefined) card.validTo = defaults.validTo;
  if (card.siteCode === undefined && defaults.siteCode !== undefined) card.siteCode = defaults.siteCode;
  return card;
}
