/**
 * The reader-host side of the APDU relay, for vendors' reader hosts and our station agent: the
 * card stays in the local reader (any Transport: PC/SC, a virtual card), the service holds the
 * keys and drives the card through a gRPC stream.
 */
export { authenticateCard, type AuthenticateCardOptions } from './authenticate-card.js';
export { encodeCard, type EncodeCardOptions } from './encode-card.js';
export { serveRelay, type ReaderHostOptions, type RelayStream } from './serve-relay.js';
export { runTimedExchange } from './timed-exchange.js';
export { presentCard } from './present-card.js';
export type { RelayCommand, RelayRequest, RelayResponse } from './relay-messages.js';
export { openPcscReader, type CardReader } from './card-reader.js';
