import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/server/config/index.js';
import { makeTestPki, NO_OPENSSL, type TestPki } from '../support/test-pki.js';
import { configError } from '../support/config-error.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-access-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('access settings', () => {
  it('default to no roles and not open', async () => {
    expect((await loadConfig({ env: {}, cwd: '/srv' })).access).toEqual({ open: false });
  });

  it('refuse an unknown role, naming the setting, the CN and the roles there are', async () => {
    const yaml = await file('unknown-role.yaml', 'access:\n  roles:\n    door-lobby: [door]\n    ops-alice: [operator, superuser]\n');
    const error = await configError({ configFile: yaml });
    expect(error.setting).toBe(`access.roles in ${yaml}`);
    expect(error.message).toMatch(/"ops-alice" has unknown role "superuser"; the roles are door, station, operator, admin, tester/);
    expect((await configError({ env: { DESFIRE_PACS_ACCESS_ROLES: 'door-lobby=door;x=root' } })).message).toMatch(/^DESFIRE_PACS_ACCESS_ROLES: "x" has unknown role "root"/);
  });

  it('refuse roles that are not a mapping of lists, an empty list, an entry without "="', async () => {
    expect((await configError({ configFile: await file('list.yaml', 'access:\n  roles: [door]\n') })).message).toMatch(/must be a mapping of client certificate names \(CN\) to lists of roles/);
    expect((await configError({ configFile: await file('scalar.yaml', 'access:\n  roles:\n    door-lobby: door\n') })).message).toMatch(/"door-lobby" must have a list of roles/);
    expect((await configError({ configFile: await file('empty.yaml', 'access:\n  roles:\n    door-lobby: []\n') })).message).toMatch(/"door-lobby" has no role/);
    expect((await configError({ env: { DESFIRE_PACS_ACCESS_ROLES: 'door-lobby' } })).message).toMatch(/"door-lobby" is not CN=role\[,role\]/);
    expect((await configError({ env: { DESFIRE_PACS_ACCESS_ROLES: 'a=door;a=station' } })).message).toMatch(/"a" is named twice/);
  });

  it('refuse roles without client certificates: they could not be enforced', async () => {
    const yaml = await file('no-mtls.yaml', 'access:\n  roles:\n    root: [admin]\n');
    const error = await configError({ configFile: yaml });
    expect(error.setting).toBe(`access.roles in ${yaml}`);
    expect(error.message).toMatch(/none are asked for: set tls\.client_ca_file \(mTLS\), or remove access\.roles/);
  });

  it('refuse access.open that is not a flag', async () => {
    expect((await configError({ env: { DESFIRE_PACS_ACCESS_OPEN: 'maybe' } })).setting).toBe('DESFIRE_PACS_ACCESS_OPEN');
  });
});

describe.skipIf(NO_OPENSSL !== undefined)('access settings with mTLS', () => {
  let pki: TestPki;
  let mtls: Record<string, string>;
  beforeAll(async () => {
    pki = await makeTestPki(dir);
    mtls = { DESFIRE_PACS_TLS_CERT_FILE: pki.serverCert, DESFIRE_PACS_TLS_KEY_FILE: pki.serverKey, DESFIRE_PACS_TLS_CLIENT_CA_FILE: pki.caCert };
  });

  it('read roles from a file and from the environment, which wins', async () => {
    const yaml = await file('roles.yaml', 'access:\n  roles:\n    "door-lobby": [door]\n    "station-7": [station]\n    "ops-alice": [operator, tester, operator]\n    "root": [admin]\n');
    const fromFile = await loadConfig({ env: mtls, configFile: yaml });
    expect([...(fromFile.access.roles ?? [])]).toEqual([
      ['door-lobby', ['door']],
      ['station-7', ['station']],
      ['ops-alice', ['operator', 'tester']],
      ['root', ['admin']],
    ]);
    const fromEnv = await loadConfig({ env: { ...mtls, DESFIRE_PACS_ACCESS_ROLES: ' door-lobby = door ; ops=operator,tester;' }, configFile: yaml });
    expect([...(fromEnv.access.roles ?? [])]).toEqual([
      ['door-lobby', ['door']],
      ['ops', ['operator', 'tester']],
    ]);
  });

  it('refuse roles together with access.open, naming access.open', async () => {
    const error = await configError({ env: { ...mtls, DESFIRE_PACS_ACCESS_ROLES: 'root=admin', DESFIRE_PACS_ACCESS_OPEN: '1' } });
    expect(error.setting).toBe('DESFIRE_PACS_ACCESS_OPEN');
    expect(error.message).toMatch(/exclude each other/);
  });

  it('take access.open with mTLS', async () => {
    expect((await loadConfig({ env: { ...mtls, DESFIRE_PACS_ACCESS_OPEN: 'true' } })).access).toEqual({ open: true });
  });
});
