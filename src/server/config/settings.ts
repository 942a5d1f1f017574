import { resolve } from 'node:path';
import { PROFILE_NAME } from '../../encoder/profile/limits.js';
import { isRole, ROLES, type Role } from '../access/roles.js';
import { LOG_LEVELS, type AccessConfig, type LogLevel, type RelayConfig, type ServiceConfig, type StationsConfig } from './service-config.js';

/** A setting's value is refused; the loader adds where it came from. */
export class InvalidSetting extends Error {}

/** How one kind of value is read: from a config file (a JSON value) or from text (environment, flag). */
interface Kind<T> {
  fromFile(value: unknown, cwd: string): T;
  fromText(text: string, cwd: string): T;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The PEM files of the TLS settings, absolute paths; read once every source has had its say. */
export interface TlsFiles {
  cert?: string;
  key?: string;
  clientCa?: string;
}

/** The config as it is being built. */
export type ConfigDraft = Writable<Omit<ServiceConfig, 'relay' | 'stations' | 'tls' | 'access'>> & {
  relay: Writable<RelayConfig>;
  stations: Writable<StationsConfig>;
  tlsFiles: TlsFiles;
  access: Writable<AccessConfig>;
};

export interface Setting {
  /** In config files: sections and names in snake_case, e.g. `relay.apdu_timeout_ms`. */
  readonly key: string;
  /** The environment variable that sets it. */
  readonly env: string;
  /** The `serve` flag that sets it, without dashes. */
  readonly flag?: string;
  /** Sets the draft from a config file's value; throws InvalidSetting. */
  fromFile(draft: ConfigDraft, value: unknown, cwd: string): void;
  /** Sets the draft from an environment variable's or a flag's text; throws InvalidSetting. */
  fromText(draft: ConfigDraft, text: string, cwd: string): void;
}

function setting<T>(key: string, env: string, kind: Kind<T>, set: (draft: ConfigDraft, value: T) => void, flag?: string): Setting {
  return {
    key,
    env,
    flag,
    fromFile: (draft, value, cwd) => set(draft, kind.fromFile(value, cwd)),
    fromText: (draft, text, cwd) => set(draft, kind.fromText(text, cwd)),
  };
}

/** Text settings read the same from files and from the environment. */
function textKind<T>(what: string, parse: (text: string, cwd: string) => T): Kind<T> {
  return {
    fromFile: (value, cwd) => {
      if (typeof value !== 'string' || value === '') throw new InvalidSetting(`must be ${what}`);
      return parse(value, cwd);
    },
    fromText: parse,
  };
}

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address; port 0..65535 (0: any free port). */
const address = textKind('host:port', (text) => {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/.exec(text.trim());
  if (!match || Number(match[2]) > 65535) throw new InvalidSetting(`must be host:port (e.g. 127.0.0.1:50051, [::1]:50051, 0.0.0.0:50051; port 0..65535), got "${text}"`);
  return `${match[1]}:${Number(match[2])}`;
});

/** A directory, relative paths from the working directory. */
const directory = textKind('a directory path', (text, cwd) => resolve(cwd, text));

/** A file, relative paths from the working directory. */
const file = textKind('a file path', (text, cwd) => resolve(cwd, text));

/** true/false in files; 1/0, true/false, yes/no in text. */
const flag: Kind<boolean> = {
  fromFile: (value) => {
    if (typeof value !== 'boolean') throw new InvalidSetting(`must be true or false, got ${JSON.stringify(value) ?? String(value)}`);
    return value;
  },
  fromText: (text) => {
    const word = text.trim().toLowerCase();
    if (['1', 'true', 'yes'].includes(word)) return true;
    if (['0', 'false', 'no'].includes(word)) return false;
    throw new InvalidSetting(`must be 1 or 0 (true/false, yes/no), got "${text}"`);
  },
};

const logLevel = textKind(`one of ${LOG_LEVELS.join(', ')}`, (text): LogLevel => {
  const level = text.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new InvalidSetting(`must be one of ${LOG_LEVELS.join(', ')}, got "${text}"`);
  return level as LogLevel;
});

const profileName = textKind('a profile name', (text) => {
  if (!PROFILE_NAME.test(text)) throw new InvalidSetting(`"${text}" is not a profile name: 1..64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit`);
  return text;
});

function integer(min: number, max: number, unit = ''): Kind<number> {
  const range = `an integer from ${min} to ${max}${unit}`;
  const check = (n: number, shown: string) => {
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidSetting(`must be ${range}, got ${shown}`);
    return n;
  };
  return {
    fromFile: (value) => check(typeof value === 'number' ? value : NaN, JSON.stringify(value) ?? String(value)),
    fromText: (text) => check(/^\s*\d+\s*$/.test(text) ? Number(text) : NaN, `"${text}"`),
  };
}

/** Reader names: a list in files, comma-separated in text; each non-empty, none twice. */
const readerNames: Kind<readonly string[]> = {
  fromFile: (value) => {
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new InvalidSetting('must be a list of PC/SC reader names');
    return distinctNames(value as string[]);
  },
  fromText: (text) => distinctNames(text.split(',')),
};

function distinctNames(names: readonly string[]): readonly string[] {
  const trimmed = names.map((n) => n.trim());
  if (trimmed.some((n) => n === '')) throw new InvalidSetting('a reader name is empty');
  const twice = trimmed.find((n, i) => trimmed.indexOf(n) !== i);
  if (twice !== undefined) throw new InvalidSetting(`reader "${twice}" is named twice`);
  return trimmed;
}

/**
 * Client roles by certificate CN: a mapping of CN to a list of roles in files
 * (`door-lobby: [door]`); `CN=role,role;CN=role` in text. Each role known, each list non-empty.
 */
const clientRoles: Kind<ReadonlyMap<string, readonly Role[]>> = {
  fromFile: (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidSetting('must be a mapping of client certificate names (CN) to lists of roles');
    return roleMap(Object.entries(value as Record<string, unknown>).map(([cn, roles]) => {
      if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string')) throw new InvalidSetting(`"${cn}" must have a list of roles (${ROLES.join(', ')})`);
      return [cn, roles as string[]];
    }));
  },
  fromText: (text) =>
    roleMap(text.split(';').filter((entry) => entry.trim() !== '').map((entry) => {
      const eq = entry.lastIndexOf('=');
      if (eq < 0) throw new InvalidSetting(`"${entry}" is not CN=role[,role]`);
      return [entry.slice(0, eq).trim(), entry.slice(eq + 1).split(',').map((r) => r.trim())];
    })),
};

function roleMap(entries: readonly (readonly [string, readonly string[]])[]): ReadonlyMap<string, readonly Role[]> {
  const map = new Map<string, readonly Role[]>();
  for (const [cn, roles] of entries) {
    if (cn === '') throw new InvalidSetting('a client certificate name (CN) is empty');
    if (map.has(cn)) throw new InvalidSetting(`"${cn}" is named twice`);
    if (roles.length === 0) throw new InvalidSetting(`"${cn}" has no role; give it one of ${ROLES.join(', ')} or remove it`);
    const unknown = roles.find((r) => !isRole(r));
    if (unknown !== undefined) throw new InvalidSetting(`"${cn}" has unknown role "${unknown}"; the roles are ${ROLES.join(', ')}`);
    map.set(cn, Object.freeze([...new Set(roles as Role[])]));
  }
  return map;
}

const MAX_STATIONS = 64;

/**
 * Every setting, in the order docs/service.md lists them. Each is read from (lowest first) the
 * embedded defaults, a config file, its environment variable, its flag.
 */
export const SETTINGS: readonly Setting[] = Object.freeze([
  setting('listen', 'DESFIRE_PACS_LISTEN', address, (d, v) => (d.listen = v), 'listen'),
  setting('data_dir', 'DESFIRE_PACS_DATA_DIR', directory, (d, v) => (d.dataDir = v), 'data-dir'),
  setting('log_level', 'DESFIRE_PACS_LOG_LEVEL', logLevel, (d, v) => (d.logLevel = v)),
  setting('stations.emulated', 'DESFIRE_PACS_EMULATED_STATIONS', integer(0, MAX_STATIONS), (d, v) => (d.stations.emulated = v)),
  setting('stations.pcsc_readers', 'DESFIRE_PACS_PCSC_READERS', readerNames, (d, v) => (d.stations.pcscReaders = v)),
  setting('default_door_profile', 'DESFIRE_PACS_DEFAULT_DOOR_PROFILE', profileName, (d, v) => (d.defaultDoorProfile = v)),
  setting('relay.apdu_timeout_ms', 'DESFIRE_PACS_RELAY_APDU_TIMEOUT_MS', integer(1, 600_000, ' ms'), (d, v) => (d.relay.apduTimeoutMs = v)),
  setting('relay.stream_timeout_ms', 'DESFIRE_PACS_RELAY_STREAM_TIMEOUT_MS', integer(1, 3_600_000, ' ms'), (d, v) => (d.relay.streamTimeoutMs = v)),
  setting('relay.proximity_tolerance_ms', 'DESFIRE_PACS_RELAY_PROXIMITY_TOLERANCE_MS', integer(0, 1000, ' ms'), (d, v) => (d.relay.proximityToleranceMs = v)),
  setting('shutdown_grace_ms', 'DESFIRE_PACS_SHUTDOWN_GRACE_MS', integer(0, 600_000, ' ms'), (d, v) => (d.shutdownGraceMs = v)),
  setting('tls.cert_file', 'DESFIRE_PACS_TLS_CERT_FILE', file, (d, v) => (d.tlsFiles.cert = v)),
  setting('tls.key_file', 'DESFIRE_PACS_TLS_KEY_FILE', file, (d, v) => (d.tlsFiles.key = v)),
  setting('tls.client_ca_file', 'DESFIRE_PACS_TLS_CLIENT_CA_FILE', file, (d, v) => (d.tlsFiles.clientCa = v)),
  setting('allow_plaintext', 'DESFIRE_PACS_ALLOW_PLAINTEXT', flag, (d, v) => (d.allowPlaintext = v)),
  setting('access.roles', 'DESFIRE_PACS_ACCESS_ROLES', clientRoles, (d, v) => (d.access.roles = v)),
  setting('access.open', 'DESFIRE_PACS_ACCESS_OPEN', flag, (d, v) => (d.access.open = v)),
]);

/** The config file: `--config FILE`, else this variable. */
export const CONFIG_FILE_ENV = 'DESFIRE_PACS_CONFIG';
