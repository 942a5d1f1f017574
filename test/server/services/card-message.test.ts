import { timestampDate } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { CardState } from '../../../src/gen/desfirepacs/v1/encoder_pb.js';
import type { CardRecord } from '../../../src/server/journal/records.js';
import { cardMessage } from '../../../src/server/services/card-message.js';

const ENCODED: CardRecord = {
  id: 42,
  uid: '04A1B2C3D4E5F6',
  cardNumber: 18_446_744_073_709_551_615n,
  profile: 'generic-pacs-v1',
  batchId: 'batch-1',
  keySet: 'pacs',
  keyVersion: 2,
  data: '{"card_number":"1"}',
  state: 'encoded',
  detail: undefined,
  createdAt: '2026-01-02T03:04:05.678Z',
  updatedAt: '2026-01-02T03:04:06.000Z',
  encodedAt: '2026-01-02T03:04:06.000Z',
};

describe('cardMessage', () => {
  it('maps every field of an encoded card, the UID as bytes and the times as Timestamps', () => {
    const card = cardMessage(ENCODED);
    expect(card.id).toBe(42n);
    expect([...card.uid]).toEqual([0x04, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6]);
    expect(card.cardNumber).toBe(18_446_744_073_709_551_615n);
    expect(card).toMatchObject({ profile: 'generic-pacs-v1', batchId: 'batch-1', keySet: 'pacs', keyVersion: 2, state: CardState.ENCODED, detail: '' });
    expect(timestampDate(card.createdAt!).toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(timestampDate(card.encodedAt!).toISOString()).toBe('2026-01-02T03:04:06.000Z');
  });

  it('leaves what a pending card does not have yet at the proto defaults', () => {
    const card = cardMessage({ ...ENCODED, uid: undefined, batchId: undefined, keySet: undefined, keyVersion: undefined, state: 'pending', encodedAt: undefined });
    expect(card.uid.length).toBe(0);
    expect(card).toMatchObject({ batchId: '', keySet: '', keyVersion: 0, state: CardState.PENDING });
    expect(card.encodedAt).toBeUndefined();
  });

  it.each([
    ['encoding', CardState.ENCODING],
    ['failed', CardState.FAILED],
    ['refused', CardState.REFUSED],
  ] as const)('maps state %s', (state, expected) => {
    expect(cardMessage({ ...ENCODED, state, detail: 'why' })).toMatchObject({ state: expected, detail: 'why' });
  });
});
