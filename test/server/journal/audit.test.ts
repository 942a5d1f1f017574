import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../../../src/encoder/keys/memory-key-store.js';
import type { KeyUseListener } from '../../../src/encoder/keys/key-store.js';
import { Journal, type AuditContext } from '../../../src/server/journal/index.js';
import { memoryJournal, tempDir, uid } from './support.js';

describe('audit events from the key store', () => {
  it('writes who used which key set, version and key ref for what, and never a key', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'journal.db');
      const journal = Journal.open({ path });
      let who: AuditContext = { actor: 'station-1', purpose: 'encode' };
      const listener: KeyUseListener = journal.keyUseListener(() => who);
      const masters = { picc: randomBytes(16), applicationKeys: [randomBytes(16), randomBytes(16), randomBytes(16)] };
      const store = new MemoryKeyStore([{ name: 'site-a', versions: [{ version: 3, ...masters }] }], { onKeyUse: listener });
      const cardUid = Buffer.from(uid(7), 'hex');
      const request = { keySet: 'site-a', version: 3, uid: cardUid, aid: 0xf52a01, systemIdentifier: new Uint8Array([1, 2]) };
      const cardKeys = [await store.cardKey({ ...request, keyRef: 'picc', aid: 0 }), await store.cardKey({ ...request, keyRef: 2 })];
      who = { actor: 'door-reader-9', purpose: 'authenticate' };
      cardKeys.push(await store.cardKey({ ...request, keyRef: 1 }));

      expect(journal.auditEvents({ uid: cardUid }).map(({ id: _id, at: _at, ...rest }) => rest)).toEqual([
        { actor: 'station-1', purpose: 'encode', keySet: 'site-a', keyVersion: 3, keyRef: 'picc', aid: 0, uid: uid(7) },
        { actor: 'station-1', purpose: 'encode', keySet: 'site-a', keyVersion: 3, keyRef: '2', aid: 0xf52a01, uid: uid(7) },
        { actor: 'door-reader-9', purpose: 'authenticate', keySet: 'site-a', keyVersion: 3, keyRef: '1', aid: 0xf52a01, uid: uid(7) },
      ]);
      journal.close();

      // No master and no card key anywhere in the database files, in any encoding.
      const files = ['journal.db', 'journal.db-wal'].map((f) => {
        try {
          return readFileSync(join(dir, f));
        } catch {
          return Buffer.alloc(0);
        }
      });
      const secrets = [masters.picc, ...masters.applicationKeys, ...cardKeys.map((k) => Buffer.from(k))];
      for (const secret of secrets) {
        for (const file of files) {
          expect(file.includes(secret)).toBe(false);
          expect(file.includes(Buffer.from(secret.toString('hex')))).toBe(false);
          expect(file.includes(Buffer.from(secret.toString('hex').toUpperCase()))).toBe(false);
          expect(file.includes(Buffer.from(secret.toString('base64')))).toBe(false);
        }
      }
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('writes only the event fields, even from an event object carrying more', () => {
    const journal = memoryJournal();
    const listener = journal.keyUseListener();
    const key = randomBytes(16);
    listener({ keySet: 'dev', version: 1, keyRef: 0, aid: 1, uid: Buffer.from(uid(1), 'hex'), key } as never);
    const [row] = journal.auditEvents();
    expect(row).toMatchObject({ actor: 'unknown', purpose: 'unknown', keyRef: '0' });
    expect(JSON.stringify(row)).not.toContain(key.toString('hex'));
    expect(Object.keys(row).sort()).toEqual(['actor', 'aid', 'at', 'id', 'keyRef', 'keySet', 'keyVersion', 'purpose', 'uid']);
  });

  it('makes the key store fail when the audit row cannot be written (no unaudited key use)', async () => {
    const journal = memoryJournal();
    const store = new MemoryKeyStore([{ name: 'dev', versions: [{ version: 1, applicationKeys: [randomBytes(16)] }] }], { onKeyUse: journal.keyUseListener() });
    journal.close();
    await expect(store.cardKey({ keySet: 'dev', version: 1, keyRef: 0, uid: Buffer.from(uid(1), 'hex'), aid: 1, systemIdentifier: new Uint8Array() })).rejects.toMatchObject({ code: 'CLOSED' });
    await store.close();
  });
});
