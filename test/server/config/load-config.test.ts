import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultServiceConfig, loadConfig, SETTINGS } from '../../../src/server/config/index.js';
import { configError } from '../support/config-error.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-config-'));
  dirs.push(dir);
  return dir;
}

async function configFile(name: string, text: string): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, text);
  return path;
}

const YAML = `
listen: 0.0.0.0:6000
data_dir: data
log_level: debug
default_door_profile: site-a
stations:
  emulated: 3
  pcsc_readers: ["ACS ACR122U 00 00", "Identiv uTrust 01 00"]
relay:
  apdu_timeout_ms: 1500
  stream_timeout_ms: 30000
  proximity_tolerance_ms: 5
shutdown_grace_ms: 2500
allow_plaintext: true
`;

describe('service config', () => {
  it('is the embedded defaults when nothing is given', async () => {
    const config = await loadConfig({ env: {}, cwd: '/srv/pacs' });
    expect(config).toEqual({
      listen: '127.0.0.1:50051',
      dataDir: '/srv/pacs/desfire-pacs-data',
      logLevel: 'info',
      stations: { emulated: 1, pcscReaders: [] },
      defaultDoorProfile: 'generic-pacs-v1',
      relay: { apduTimeoutMs: 2000, streamTimeoutMs: 15_000, proximityToleranceMs: 20 },
      shutdownGraceMs: 10_000,
      allowPlaintext: false,
      access: { open: false },
    });
    expect(config).toEqual(defaultServiceConfig('/srv/pacs'));
  });

  it('reads every setting from a YAML file, relative paths from the working directory', async () => {
    const file = await configFile('service.yaml', YAML);
    expect(await loadConfig({ env: {}, cwd: '/srv', configFile: file })).toEqual({
      listen: '0.0.0.0:6000',
      dataDir: '/srv/data',
      logLevel: 'debug',
      stations: { emulated: 3, pcscReaders: ['ACS ACR122U 00 00', 'Identiv uTrust 01 00'] },
      defaultDoorProfile: 'site-a',
      relay: { apduTimeoutMs: 1500, streamTimeoutMs: 30_000, proximityToleranceMs: 5 },
      shutdownGraceMs: 2500,
      allowPlaintext: true,
      access: { open: false },
    });
  });

  it('reads a JSON file named by DESFIRE_PACS_CONFIG; --config wins over it', async () => {
    const json = await configFile('service.json', JSON.stringify({ listen: '[::1]:7000', relay: { apdu_timeout_ms: 100 } }));
    const yaml = await configFile('other.yaml', 'listen: 127.0.0.1:8000\n');
    const fromEnv = await loadConfig({ env: { DESFIRE_PACS_CONFIG: json }, cwd: '/srv' });
    expect(fromEnv.listen).toBe('[::1]:7000');
    expect(fromEnv.relay).toEqual({ apduTimeoutMs: 100, streamTimeoutMs: 15_000, proximityToleranceMs: 20 });
    expect((await loadConfig({ env: { DESFIRE_PACS_CONFIG: json }, cwd: '/srv', configFile: yaml })).listen).toBe('127.0.0.1:8000');
  });

  it('takes defaults < file < environment < flags, setting by setting', async () => {
    const file = await configFile('service.yaml', YAML);
    const config = await loadConfig({
      cwd: '/srv',
      configFile: file,
      env: {
        DESFIRE_PACS_LISTEN: '127.0.0.1:7001',
        DESFIRE_PACS_DATA_DIR: '/var/lib/pacs',
        DESFIRE_PACS_LOG_LEVEL: 'WARN',
        DESFIRE_PACS_EMULATED_STATIONS: '0',
        DESFIRE_PACS_PCSC_READERS: ' Reader A , Reader B',
        DESFIRE_PACS_RELAY_STREAM_TIMEOUT_MS: '20000',
        DESFIRE_PACS_SHUTDOWN_GRACE_MS: '',
      },
      flags: { listen: '127.0.0.1:0' },
    });
    expect(config).toEqual({
      listen: '127.0.0.1:0', // flag over environment over file
      dataDir: '/var/lib/pacs', // environment over file
      logLevel: 'warn',
      stations: { emulated: 0, pcscReaders: ['Reader A', 'Reader B'] },
      defaultDoorProfile: 'site-a', // file over default
      relay: { apduTimeoutMs: 1500, streamTimeoutMs: 20_000, proximityToleranceMs: 5 },
      shutdownGraceMs: 2500, // an empty variable is unset
      allowPlaintext: true, // file over default
      access: { open: false },
    });
    expect((await loadConfig({ env: {}, cwd: '/srv', flags: { 'data-dir': 'here' } })).dataDir).toBe('/srv/here');
  });

  it('has an environment variable for every setting, and a key in files', async () => {
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
    for (const s of SETTINGS) expect(s.env).toMatch(/^DESFIRE_PACS_[A-Z_]+$/);
    expect(SETTINGS.map((s) => s.key)).toEqual([
      'listen',
      'data_dir',
      'log_level',
      'stations.emulated',
      'stations.pcsc_readers',
      'default_door_profile',
      'relay.apdu_timeout_ms',
      'relay.stream_timeout_ms',
      'relay.proximity_tolerance_ms',
      'shutdown_grace_ms',
      'tls.cert_file',
      'tls.key_file',
      'tls.client_ca_file',
      'allow_plaintext',
      'access.roles',
      'access.open',
    ]);
  });

  describe('refuses a bad value, naming the setting as it was given', () => {
    const envCases: [name: string, env: Record<string, string>, message: RegExp][] = [
      ['listen without port', { DESFIRE_PACS_LISTEN: 'localhost' }, /host:port/],
      ['listen port too large', { DESFIRE_PACS_LISTEN: '127.0.0.1:65536' }, /port 0\.\.65535/],
      ['unknown log level', { DESFIRE_PACS_LOG_LEVEL: 'verbose' }, /one of fatal, error, warn, info, debug, trace, silent/],
      ['negative station count', { DESFIRE_PACS_EMULATED_STATIONS: '-1' }, /integer from 0 to 64/],
      ['too many stations', { DESFIRE_PACS_EMULATED_STATIONS: '65' }, /integer from 0 to 64/],
      ['fractional timeout', { DESFIRE_PACS_RELAY_APDU_TIMEOUT_MS: '1.5' }, /integer from 1 to 600000 ms/],
      ['zero APDU timeout', { DESFIRE_PACS_RELAY_APDU_TIMEOUT_MS: '0' }, /integer from 1/],
      ['empty reader name', { DESFIRE_PACS_PCSC_READERS: 'A,,B' }, /a reader name is empty/],
      ['reader named twice', { DESFIRE_PACS_PCSC_READERS: 'A, A' }, /"A" is named twice/],
      ['bad profile name', { DESFIRE_PACS_DEFAULT_DOOR_PROFILE: 'Site A' }, /not a profile name/],
      ['grace too long', { DESFIRE_PACS_SHUTDOWN_GRACE_MS: '600001' }, /integer from 0 to 600000 ms/],
    ];
    it.each(envCases)('%s', async (_name, env, message) => {
      const error = await configError({ env });
      expect(error.setting).toBe(Object.keys(env)[0]);
      expect(error.message).toMatch(message);
      expect(error.message.startsWith(`${error.setting}: `)).toBe(true);
    });

    it('in a file: the key and the file', async () => {
      const file = await configFile('service.yaml', 'relay:\n  apdu_timeout_ms: fast\n');
      const error = await configError({ configFile: file });
      expect(error.setting).toBe(`relay.apdu_timeout_ms in ${file}`);
      expect(error.message).toMatch(/integer from 1 to 600000 ms, got "fast"/);
    });

    it('in a file: a list given as text, a section given as a value', async () => {
      const list = await configFile('a.yaml', 'stations:\n  pcsc_readers: ACS\n');
      expect((await configError({ configFile: list })).setting).toBe(`stations.pcsc_readers in ${list}`);
      const section = await configFile('b.yaml', 'relay: 5\n');
      const error = await configError({ configFile: section });
      expect(error.setting).toBe(`relay in ${section}`);
      expect(error.message).toMatch(/mapping of apdu_timeout_ms, stream_timeout_ms, proximity_tolerance_ms/);
    });

    it('in a file: an unknown key, with the known ones', async () => {
      const file = await configFile('service.yaml', 'stations:\n  emulatd: 2\n');
      const error = await configError({ configFile: file });
      expect(error.setting).toBe(`stations.emulatd in ${file}`);
      expect(error.message).toMatch(/unknown setting; the settings are listen, data_dir/);
    });

    it('a flag', async () => {
      const error = await configError({ flags: { listen: 'nowhere:' } });
      expect(error.setting).toBe('--listen');
    });

    it('a config file that is missing, of an unknown kind, or not YAML', async () => {
      expect((await configError({ configFile: '/nonexistent/service.yaml' })).message).toMatch(/^--config: cannot read \/nonexistent\/service\.yaml \(ENOENT\)/);
      const toml = await configFile('service.toml', 'listen = 1');
      expect((await configError({ env: { DESFIRE_PACS_CONFIG: toml } })).message).toMatch(/^DESFIRE_PACS_CONFIG: .*unknown extension "\.toml"/);
      const broken = await configFile('service.yaml', 'listen: [\n');
      expect((await configError({ configFile: broken })).message).toMatch(/not YAML/);
      const duplicate = await configFile('service.json', '{"listen": "a:1", "listen": "b:2"}');
      expect((await configError({ configFile: duplicate })).setting).toBe('--config');
    });

    it('a stream timeout shorter than one APDU timeout, naming where the stream timeout came from', async () => {
      const error = await configError({ env: { DESFIRE_PACS_RELAY_APDU_TIMEOUT_MS: '5000', DESFIRE_PACS_RELAY_STREAM_TIMEOUT_MS: '4000' } });
      expect(error.setting).toBe('DESFIRE_PACS_RELAY_STREAM_TIMEOUT_MS');
      expect(error.message).toMatch(/4000 ms is shorter than one APDU's timeout \(5000 ms\)/);
    });
  });
});
