import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FILE_ENV, defaultServiceConfig, loadConfig, SETTINGS } from '../../../src/server/config/index.js';

const DOC = resolve(import.meta.dirname, '../../../docs/service.md');

describe('docs/service.md', () => {
  it('documents every setting: its file key, environment variable and option', async () => {
    const text = await readFile(DOC, 'utf8');
    for (const s of SETTINGS) {
      const row = text.split('\n').find((line) => line.startsWith(`| \`${s.key}\` |`));
      expect(row, s.key).toBeDefined();
      expect(row).toContain(`\`${s.env}\``);
      if (s.flag !== undefined) expect(row).toContain(`\`--${s.flag}\``);
    }
    expect(text).toContain(CONFIG_FILE_ENV);
  });

  it('shows a config file that is exactly the defaults', async () => {
    const text = await readFile(DOC, 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(text)![1];
    const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-docs-'));
    try {
      await writeFile(join(dir, 'service.yaml'), yaml);
      expect(await loadConfig({ env: {}, cwd: '/srv', configFile: join(dir, 'service.yaml') })).toEqual(defaultServiceConfig('/srv'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
