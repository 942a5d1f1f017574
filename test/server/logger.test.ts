import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/desfire/bytes.js';
import { MemoryKeyStore } from '../../src/encoder/keys/index.js';
import { REDACTED } from '../../src/server/logger.js';
import { captureLogs } from './support/capture-logs.js';

describe('service logger', () => {
  it('writes JSON lines with level, time and message', () => {
    const out = captureLogs();
    out.logger.info({ batch: 'b1' }, 'batch created');
    expect(out.lines()).toEqual([expect.objectContaining({ level: 30, msg: 'batch created', batch: 'b1', time: expect.any(Number) })]);
  });

  it('never writes a card key, whatever field or depth it is logged under', async () => {
    const store = new MemoryKeyStore();
    await store.createKeySet('pacs');
    const uid = Uint8Array.from([4, 1, 2, 3, 4, 5, 6]);
    const cardKey = await store.cardKey({ keySet: 'pacs', version: 1, keyRef: 1, uid, aid: 0xf52a01, systemIdentifier: new Uint8Array(0) });
    const hex = toHex(cardKey);
    const out = captureLogs();
    out.logger.info({ key: hex, uid: toHex(uid) }, 'top level');
    out.logger.info({ door: { key: hex, keys: [hex], cardKey: hex } }, 'one level down');
    out.logger.info({ call: { session: { sessionKey: hex, apdu: hex, response: hex } } }, 'two levels down');
    out.logger.child({ kek: hex }).warn({ passphrase: hex, secret: hex, image: { picc: hex } }, 'child bindings too');
    out.logger.debug({ apdus: [hex], command: hex, payload: hex, master: hex, masterKey: hex }, 'card traffic');

    expect(out.text()).not.toContain(hex);
    expect(out.text().toLowerCase()).not.toContain(hex.toLowerCase());
    const [top, one, two, child, traffic] = out.lines();
    expect(top).toMatchObject({ key: REDACTED, uid: toHex(uid) }); // what is not secret stays
    expect(one.door).toEqual({ key: REDACTED, keys: REDACTED, cardKey: REDACTED });
    expect(two.call).toEqual({ session: { sessionKey: REDACTED, apdu: REDACTED, response: REDACTED } });
    expect(child).toMatchObject({ kek: REDACTED, passphrase: REDACTED, secret: REDACTED, image: REDACTED });
    expect(traffic).toMatchObject({ apdus: REDACTED, command: REDACTED, payload: REDACTED, master: REDACTED, masterKey: REDACTED });
    cardKey.fill(0);
    await store.close();
  });

  it('logs nothing below its level', () => {
    const out = captureLogs('warn');
    out.logger.info('not shown');
    out.logger.warn('shown');
    expect(out.messages()).toEqual(['shown']);
  });
});
