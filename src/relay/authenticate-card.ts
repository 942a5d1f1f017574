import type { Transport } from '../desfire/transport.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { AuthenticateStartSchema, AuthenticationResult, AuthService } from '../gen/desfirepacs/v1/auth_pb.js';
import type { ServiceClient } from '../server/grpc/client.js';
import { presentCard } from './present-card.js';
import { serveRelay, type ReaderHostOptions } from './serve-relay.js';

export interface AuthenticateCardOptions extends ReaderHostOptions {
  /** The profile whose door policy applies (default: the service's default door profile). */
  readonly profile?: string;
  /** The door, for the service's audit trail. */
  readonly doorId?: string;
  /** The reader, for the service's logs. */
  readonly readerId?: string;
}

/** A door's reader host: relays the card in `transport` through AuthService.Authenticate and returns the verdict. */
export function authenticateCard(client: ServiceClient<typeof AuthService>, transport: Transport, options: AuthenticateCardOptions = {}): Promise<AuthenticationResult> {
  const start = { card: presentCard(transport, options.readerId), profile: options.profile ?? '', doorId: options.doorId ?? '' };
  return serveRelay<MessageInitShape<typeof AuthenticateStartSchema>, AuthenticationResult>(transport, client.authenticate(), start, options);
}
