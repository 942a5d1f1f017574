import { describe, expect, it } from 'vitest';
import { BatchEvents } from '../../../src/server/batches/batch-events.js';
import type { CardRecord } from '../../../src/server/journal/index.js';
import { StationRegistry } from '../../../src/server/stations/station-registry.js';

const card = (state: CardRecord['state'], cardNumber = 7n): CardRecord => ({
  id: 1,
  uid: '04000000000001',
  cardNumber,
  profile: 'generic-pacs-v1',
  batchId: 'b1',
  keySet: 'pacs',
  keyVersion: 1,
  data: undefined,
  state,
  detail: state === 'failed' ? 'card pulled' : undefined,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  encodedAt: undefined,
});

describe('StationRegistry', () => {
  it('lists stations in name order with what they do, counting encoded cards from the batch events', () => {
    let t = Date.parse('2026-05-01T00:00:00Z');
    const registry = new StationRegistry({ now: () => new Date((t += 1000)) });
    const events = new BatchEvents();
    const unfollow = registry.follow(events);
    registry.seen('pcsc-1', 'pcsc', 'waiting for a card');
    registry.seen('emu-1', 'emulated', 'idle');
    events.publish({ kind: 'card', card: card('encoding'), stationId: 'emu-1' });
    expect(registry.get('emu-1')).toMatchObject({ kind: 'emulated', activity: 'encoding card 7 of batch b1', cardsEncoded: 0 });
    events.publish({ kind: 'card', card: card('encoded'), stationId: 'emu-1' });
    events.publish({ kind: 'card', card: card('failed', 8n), stationId: 'pcsc-1' });
    // a remote agent is first seen through the card it relays
    events.publish({ kind: 'card', card: card('encoded', 9n), stationId: 'agent-7' });
    expect(registry.list().map((s) => [s.id, s.kind, s.cardsEncoded, s.activity])).toEqual([
      ['agent-7', 'remote', 1, 'card 9 of batch b1 encoded'],
      ['emu-1', 'emulated', 1, 'card 7 of batch b1 encoded'],
      ['pcsc-1', 'pcsc', 0, 'card 8 of batch b1 failed: card pulled'],
    ]);
    expect(registry.get('agent-7')!.lastSeen.toISOString()).toBe('2026-05-01T00:00:06.000Z');
    // seen() keeps the count
    registry.seen('emu-1', 'emulated', 'idle');
    expect(registry.get('emu-1')).toMatchObject({ activity: 'idle', cardsEncoded: 1 });
    unfollow();
    events.publish({ kind: 'card', card: card('encoded'), stationId: 'emu-1' });
    expect(registry.get('emu-1')!.cardsEncoded).toBe(1);
  });
});
