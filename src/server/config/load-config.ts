import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { formatOfPath, parseSource } from '../../encoder/profile/load.js';
import { formatIssue, isProfileError } from '../../encoder/profile/profile-error.js';
import { ConfigError } from './config-error.js';
import { defaultServiceConfig, type ServiceConfig } from './service-config.js';
import { accessConflict } from '../access/access-policy.js';
import { plaintextRefusal } from '../tls.js';
import { readTlsFiles } from './tls-files.js';
import { CONFIG_FILE_ENV, InvalidSetting, SETTINGS, type ConfigDraft, type Setting } from './settings.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface ConfigSources {
  /** Default `process.env`. */
  readonly env?: Environment;
  /** Resolves relative paths (default `process.cwd()`). */
  readonly cwd?: string;
  /** `--config FILE`; wins over DESFIRE_PACS_CONFIG. */
  readonly configFile?: string;
  /** `serve` flags by name without dashes (`listen`, `data-dir`); they win over everything. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
}

/**
 * The service's config: the embedded defaults, overridden by a config file (YAML or JSON, by
 * its extension), then by environment variables, then by flags. Every value is checked; the
 * first one refused is a ConfigError naming it as it was given. Empty environment variables
 * count as unset.
 */
export async function loadConfig(sources: ConfigSources = {}): Promise<ServiceConfig> {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const draft: ConfigDraft = { ...defaultServiceConfig(cwd), tlsFiles: {} };
  /** Where each setting that is not a default came from, for errors that involve two settings. */
  const from = new Map<Setting, string>();
  const apply = (s: Setting, source: string, set: () => void) => {
    try {
      set();
    } catch (error) {
      if (error instanceof InvalidSetting) throw new ConfigError(source, error.message);
      throw error;
    }
    from.set(s, source);
  };

  const fileSource = sources.configFile !== undefined ? '--config' : CONFIG_FILE_ENV;
  const file = sources.configFile ?? nonEmpty(env[CONFIG_FILE_ENV]);
  if (file !== undefined) {
    const path = resolve(cwd, file);
    walk(await readConfigFile(path, fileSource), '', path, (s, value) => apply(s, `${s.key} in ${path}`, () => s.fromFile(draft, value, cwd)));
  }
  for (const s of SETTINGS) {
    const text = nonEmpty(env[s.env]);
    if (text !== undefined) apply(s, s.env, () => s.fromText(draft, text, cwd));
  }
  for (const s of SETTINGS) {
    const text = s.flag === undefined ? undefined : sources.flags?.[s.flag];
    if (text !== undefined) apply(s, `--${s.flag}`, () => s.fromText(draft, text, cwd));
  }

  const sourceOf = (key: string) => from.get(SETTINGS.find((s) => s.key === key)!) ?? `${key} (default)`;
  if (draft.relay.streamTimeoutMs < draft.relay.apduTimeoutMs) {
    throw new ConfigError(sourceOf('relay.stream_timeout_ms'), `${draft.relay.streamTimeoutMs} ms is shorter than one APDU's timeout (${draft.relay.apduTimeoutMs} ms)`);
  }
  const { tlsFiles, ...rest } = draft;
  const tls = await readTlsFiles(tlsFiles, sourceOf);
  const config: ServiceConfig = tls === undefined ? rest : { ...rest, tls };
  const refusal = plaintextRefusal(config);
  if (refusal !== undefined) throw new ConfigError(sourceOf('listen'), refusal);
  const conflict = accessConflict(config);
  if (conflict !== undefined) throw new ConfigError(sourceOf(conflict.setting), conflict.message);
  return config;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

async function readConfigFile(path: string, source: string): Promise<Record<string, unknown>> {
  try {
    const format = formatOfPath(path);
    return parseSource(await readFile(path, 'utf8'), format, `config file ${path}`) as Record<string, unknown>;
  } catch (error) {
    if (isProfileError(error)) throw new ConfigError(source, `${path}: ${error.issues.map(formatIssue).join('; ')}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined) throw new ConfigError(source, `cannot read ${path} (${code})`);
    throw error;
  }
}

/** Sections of the file: the prefixes of dotted setting keys. */
const SECTIONS = new Set(SETTINGS.flatMap((s) => (s.key.includes('.') ? [s.key.slice(0, s.key.lastIndexOf('.'))] : [])));

/** Calls `found` for each setting of a (nested) file mapping; an unknown key is an error. */
function walk(mapping: Record<string, unknown>, prefix: string, path: string, found: (s: Setting, value: unknown) => void): void {
  for (const [name, value] of Object.entries(mapping)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const s = SETTINGS.find((candidate) => candidate.key === key);
    if (s !== undefined) {
      found(s, value);
    } else if (SECTIONS.has(key)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new ConfigError(`${key} in ${path}`, `must be a mapping of ${SETTINGS.filter((c) => c.key.startsWith(`${key}.`)).map((c) => c.key.slice(key.length + 1)).join(', ')}`);
      }
      walk(value as Record<string, unknown>, key, path, found);
    } else {
      throw new ConfigError(`${key} in ${path}`, `unknown setting; the settings are ${SETTINGS.map((c) => c.key).join(', ')}`);
    }
  }
}
