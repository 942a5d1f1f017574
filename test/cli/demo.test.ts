import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { DemoCard } from '../../src/cli/demo-card.js';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { parseAnswerFrame } from '../../src/desfire/framing/index.js';
import { Status } from '../../src/desfire/status.js';

describe('desfire-pacs demo', () => {
  it('authenticates the virtual card and reads its credential, printing APDUs but no key', async () => {
    const lines: string[] = [];
    expect(await runDemo((line) => lines.push(line))).toBe(0);
    const output = lines.join('\n');
    expect(output).toContain('credential read and verified: "desfire-pacs demo credential 001"');
    expect(output).toMatch(/> 9071000002010000/);
    expect(output).not.toContain('00112233445566778899aabbccddeeff');
  });

  it('the demo card refuses what it does not implement and reads only after authentication', () => {
    const card = new DemoCard(new Uint8Array(7), new Uint8Array(16), new Uint8Array(32));
    const status = (apdu: string) => parseAnswerFrame('wrapped', card.transceive(fromHex(apdu))).status;
    expect(status('9060000000')).toBe(Status.ILLEGAL_COMMAND_CODE);
    expect(status('90bd0000070100000020000000')).toBe(Status.AUTHENTICATION_ERROR);
    expect(status('9071000002020000')).toBe(Status.NO_SUCH_KEY);
    expect(status('9071000005020000')).toBe(Status.LENGTH_ERROR);
    expect(toHex(card.transceive(Uint8Array.of(0x00, 0xa4, 0x04, 0x00)))).toBe('6e00');
  });
});
