import type { Transport } from '../desfire/transport.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { EncodeResult, EncoderService, EncodeStartSchema } from '../gen/desfirepacs/v1/encoder_pb.js';
import type { ServiceClient } from '../server/grpc/client.js';
import { presentCard } from './present-card.js';
import { serveRelay, type ReaderHostOptions } from './serve-relay.js';

export interface EncodeCardOptions extends ReaderHostOptions {
  /** The batch to take a card number from (default: the oldest batch with cards left). */
  readonly batchId?: string;
  /** The station's name (1..64 characters of [A-Za-z0-9._-]). */
  readonly stationId: string;
  /** The reader, for the service's logs. */
  readonly readerId?: string;
}

/** A station agent: relays the card in `transport` through EncoderService.Encode and returns what became of it. */
export function encodeCard(client: ServiceClient<typeof EncoderService>, transport: Transport, options: EncodeCardOptions): Promise<EncodeResult> {
  const start = { card: presentCard(transport, options.readerId), batchId: options.batchId ?? '', stationId: options.stationId };
  return serveRelay<MessageInitShape<typeof EncodeStartSchema>, EncodeResult>(transport, client.encode(), start, options);
}
