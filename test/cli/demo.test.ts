import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';

describe('desfire-pacs demo (npm start)', () => {
  it('encodes a virtual card with generic-pacs-v1, a door grants it, a clone is denied; no key is printed', async () => {
    const lines: string[] = [];
    expect(await runDemo((line) => lines.push(line))).toBe(0);
    const output = lines.join('\n');
    expect(output).toMatch(/picc-master-key\s+completed/);
    expect(output).toMatch(/door: GRANTED/);
    expect(output).toMatch(/card number 1001, issuer example-issuer/);
    expect(output).toMatch(/a clone with the same UID: DENIED \(authentication-failed\)/);
    expect(output).not.toMatch(/[0-9a-f]{32}/); // nothing key-sized in hex
  });
});
