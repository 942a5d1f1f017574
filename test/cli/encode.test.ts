import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEncode, runVerify } from '../../src/cli/encode.js';
import { runKeys } from '../../src/cli/keys.js';

const PROFILE = resolve('profiles/generic-pacs-v1.yaml');
const KEK = 'a'.repeat(64);

function io(dir: string) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { write: (l: string) => void out.push(l), error: (l: string) => void err.push(l), env: { DESFIRE_PACS_KEK: KEK }, cwd: dir } };
}

describe('desfire-pacs encode / verify', () => {
  it('creates keys, encodes a virtual card from the shipped profile, verifies it, and refuses an unencoded card', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-'));
    const keys = io(dir);
    expect(await runKeys(['create', 'pacs', '--file', 'keys.json'], keys.io)).toBe(0);
    const encode = io(dir);
    const data = 'card_number: 1234\nvalid_from: 2026-01-01T00:00:00Z\nvalid_to: 2099-01-01T00:00:00Z\n';
    expect(await runEncode(['--profile', PROFILE, '--data', data, '--emulator', 'card.json', '--keys', 'keys.json'], encode.io)).toBe(0);
    expect(encode.out.join('\n')).toMatch(/encoded and verified/);
    expect(encode.out.join('\n')).not.toMatch(/[0-9a-f]{32}/); // no key material
    const image = JSON.parse(await readFile(join(dir, 'card.json'), 'utf8'));
    expect(image.masterKey.type).toBe('aes');

    const again = io(dir);
    expect(await runEncode(['--profile', PROFILE, '--data', data, '--emulator', 'card.json', '--keys', 'keys.json'], again.io)).toBe(0);
    expect(again.out.join('\n')).toMatch(/already encoded; verified/);

    const verify = io(dir);
    expect(await runVerify(['--profile', PROFILE, '--emulator', 'card.json', '--keys', 'keys.json'], verify.io)).toBe(0);
    expect(verify.out.join('\n')).toMatch(/GRANTED.*\n.*card number 1234/);

    const blank = io(dir);
    expect(await runVerify(['--profile', PROFILE, '--emulator', 'blank.json', '--keys', 'keys.json'], blank.io)).toBe(1);
    expect(blank.out.join('\n')).toMatch(/DENIED \(not-encoded\)/);
  });

  it('usage errors exit 2, bad inputs exit 1 with a clear line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'desfire-pacs-'));
    const bad = io(dir);
    expect(await runEncode(['--profile', PROFILE, '--emulator', 'x.json'], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/missing --data/);
    const both = io(dir);
    expect(await runVerify(['--profile', PROFILE, '--emulator', 'x.json', '--reader', 'ACS'], both.io)).toBe(2);
    const noKeys = io(dir);
    expect(await runVerify(['--profile', PROFILE, '--emulator', 'x.json', '--keys', 'missing.json'], noKeys.io)).toBe(1);
    expect(noKeys.err.join('\n')).toMatch(/desfire-pacs: /);
  });
});
