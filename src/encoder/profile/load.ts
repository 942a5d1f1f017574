import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fromJson, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { parseDocument } from 'yaml';
import { CardDataSchema, ProfileSchema, type CardData, type Profile } from '../../gen/desfirepacs/v1/profile_pb.js';
import { at, ProfileError, type ProfileIssue } from './profile-error.js';
import { validateProfile } from './validate.js';

/**
 * Profile and card-data files: the protobuf JSON mapping of `Profile` / `CardData`
 * (proto/desfirepacs/v1/profile.proto), written as JSON or YAML. Field names may be proto names
 * (`comm_mode`) or JSON names (`commMode`); enums are written by name; `bytes` in base64;
 * timestamps in RFC 3339 (`2026-01-01T00:00:00Z`). YAML 1.2 is read with its core schema, so
 * `aid: 0xF52A01` is a number and `2026-01-01` stays a string; integers beyond 2^53 keep every
 * digit (they reach the protobuf reader as decimal strings, which it takes for 64-bit fields).
 * Unknown fields, duplicate keys and values of the wrong type are errors naming the field.
 */

export type SourceFormat = 'json' | 'yaml';

/** The format a file name implies: .json, or .yaml / .yml. */
export function formatOfPath(path: string): SourceFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  throw new ProfileError(`file ${path}`, [{ path: '', message: `unknown extension "${ext}": use .json, .yaml or .yml` }]);
}

/** Reads JSON or YAML text into a JSON value; syntax errors become a ProfileError at the document. */
export function parseSource(text: string, format: SourceFormat, subject: string): JsonValue {
  if (format === 'json') {
    try {
      JSON.parse(text); // strict JSON syntax first, with JSON's own error messages
    } catch (e) {
      throw new ProfileError(subject, [{ path: '', message: `not JSON: ${(e as Error).message}` }]);
    }
  }
  const doc = parseDocument(text, { schema: format === 'json' ? 'json' : 'core', intAsBigInt: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ProfileError(
      subject,
      doc.errors.map((e) => ({ path: '', message: `not ${format === 'json' ? 'JSON' : 'YAML'}: ${e.message}` })),
    );
  }
  const value = toJsonValue(doc.toJS({ maxAliasCount: 100 }));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProfileError(subject, [{ path: '', message: 'the document must be a mapping (an object) of fields' }]);
  }
  return value;
}

/** YAML's JavaScript values as JSON values: bigints become numbers when exact, else decimal strings. */
function toJsonValue(value: unknown): JsonValue {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJsonValue(v);
    return out;
  }
  return value as JsonValue;
}

/**
 * A message from its JSON mapping; a field the protobuf reader refuses is reported with its path
 * (unknown field, wrong type, unknown enum value, two members of a oneof).
 */
export function messageFromJson<Desc extends DescMessage>(schema: Desc, json: JsonValue, subject: string): MessageShape<Desc> {
  try {
    return fromJson(schema, json);
  } catch (e) {
    throw new ProfileError(subject, [locate(schema, json, '', e)]);
  }
}

/** Walks the JSON beside the descriptor to find the field the reader refused. */
function locate(desc: DescMessage, json: JsonValue, path: string, error: unknown): ProfileIssue {
  if (desc.typeName.startsWith('google.protobuf.')) return { path, message: wellKnownReason(desc, error) };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { path, message: `expected a mapping of ${desc.name} fields, got ${Array.isArray(json) ? 'a list' : JSON.stringify(json)}` };
  }
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.name === key || f.jsonName === key);
    if (!field) return { path: at(path, key), message: `unknown field; ${desc.name} has ${desc.fields.map((f) => f.name).join(', ')}` };
    try {
      fromJson(desc, { [key]: value });
      continue;
    } catch (e) {
      const sub = at(path, field.name);
      if (field.fieldKind === 'message' && value !== null) return locate(field.message, value, sub, e);
      if (field.fieldKind === 'list' && Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          try {
            fromJson(desc, { [key]: [value[i]] });
          } catch (itemError) {
            if (field.listKind === 'message' && value[i] !== null) return locate(field.message, value[i], at(sub, i), itemError);
            return { path: at(sub, i), message: reason(itemError) };
          }
        }
      }
      if (field.fieldKind === 'enum') {
        const names = field.enum.values.filter((v) => v.number !== 0).map((v) => v.name);
        return { path: sub, message: `unknown value ${JSON.stringify(value)}: one of ${names.join(', ')}` };
      }
      return { path: sub, message: reason(e) };
    }
  }
  return { path, message: reason(error) };
}

/** The protobuf reader's reason without its "cannot decode field X from JSON:" preamble. */
function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/^cannot decode \w+ \S+ from JSON: /, '')
    .replace(/^oneof set multiple times by (\w+) and (\w+)$/, 'both $1 and $2 are set: give exactly one');
}

function wellKnownReason(desc: DescMessage, error: unknown): string {
  if (desc.typeName === 'google.protobuf.Timestamp') return `${reason(error)}: expected an RFC 3339 time such as "2026-01-01T00:00:00Z"`;
  return reason(error);
}

/** A profile from JSON or YAML text, not yet validated. Throws ProfileError. */
export function parseProfile(text: string, format: SourceFormat, subject = 'profile'): Profile {
  return messageFromJson(ProfileSchema, parseSource(text, format, subject), subject);
}

/** A profile from JSON or YAML text, validated. Throws ProfileError listing every problem. */
export function loadProfile(text: string, format: SourceFormat, subject?: string): Profile {
  return validateProfile(parseProfile(text, format, subject), subject);
}

/** A profile from its JSON mapping (the API's form), validated. */
export function profileFromJson(json: JsonValue): Profile {
  return validateProfile(messageFromJson(ProfileSchema, json, 'profile'));
}

/** A profile file (.json, .yaml, .yml), validated. */
export async function loadProfileFile(path: string): Promise<Profile> {
  const format = formatOfPath(path);
  return loadProfile(await readFile(path, 'utf8'), format, `profile file ${path}`);
}

/**
 * One card's data from JSON or YAML text. Only the form is checked here; whether it suits the
 * profile's credential (site code, lengths) is checked when the credential is encoded.
 */
export function parseCardData(text: string, format: SourceFormat, subject = 'card data'): CardData {
  return messageFromJson(CardDataSchema, parseSource(text, format, subject), subject);
}
