import { fromJsonString, toJsonString } from '@bufbuild/protobuf';
import { CardDataSchema, type CardData } from '../../gen/desfirepacs/v1/profile_pb.js';
import type { CardRecord } from '../journal/records.js';

/**
 * A batch card's data (number, validity, site code, extensions) is kept in the journal's `data`
 * column as the protobuf JSON of its CardData, as CreateBatch received it, so a card encoded
 * days later (or after a restart) gets exactly what was asked for.
 */
export function cardDataText(card: CardData): string {
  return toJsonString(CardDataSchema, card);
}

/** The card data a batch card was created with. */
export function cardDataOf(record: CardRecord): CardData {
  if (record.data === undefined) throw new Error(`card ${record.id} has no card data`);
  return fromJsonString(CardDataSchema, record.data);
}
