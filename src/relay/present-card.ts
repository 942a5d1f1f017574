import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Transport } from '../desfire/transport.js';
import { TransportError } from '../encoder/transport-error.js';
import type { CardPresentedSchema } from '../gen/desfirepacs/v1/relay_pb.js';

/** What a start message says of the card in `transport`'s field; a TransportError when there is none. */
export function presentCard(transport: Transport, readerId = ''): MessageInitShape<typeof CardPresentedSchema> {
  const card = transport.card;
  if (!card) throw new TransportError('no card in the field');
  return { uid: card.uid, ...(card.atr ? { atr: card.atr } : {}), readerId };
}
