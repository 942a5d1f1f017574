import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { toHex } from '../../desfire/bytes.js';
import { doorConfigOf } from '../../encoder/card-plan.js';
import { DesfireClient } from '../../encoder/client/desfire-client.js';
import { authenticateAtDoor } from '../../encoder/door/authenticator.js';
import type { DenialReason as DoorDenial, DoorResult } from '../../encoder/door/door-result.js';
import type { KeyStore } from '../../encoder/keys/index.js';
import { AuthService, DenialReason, type AuthenticateStart, type AuthenticationResultSchema } from '../../gen/desfirepacs/v1/auth_pb.js';
import type { Credential, Profile } from '../../gen/desfirepacs/v1/profile_pb.js';
import { runWithAudit } from '../audit-context.js';
import type { ServiceImpl } from '../grpc/service-impl.js';
import { limitText, optionalName } from '../grpc/validate.js';
import { doorAudit } from '../access/door-audit.js';
import { presentedCard, type PresentedCard } from '../relay/card-presented.js';
import { serveRelayCall } from '../relay/relay-call.js';
import type { RelaySettings } from '../relay/relay-settings.js';

export interface AuthServiceDeps {
  readonly keyStore: KeyStore;
  /** Profiles by name; `get` throws ApiError NOT_FOUND for an unknown one, naming `field` when given. */
  readonly profiles: { get(name: string, field?: string): Profile };
  /** The profile of a start message that names none. */
  readonly defaultProfile: string;
  readonly relay: RelaySettings;
  readonly logger: Logger;
}

const MAX_DOOR_ID = 128;

type AuthenticationResultInit = MessageInitShape<typeof AuthenticationResultSchema>;

/** The door's reasons as the API's enum: every reason has its value (a new one fails to compile here). */
const DENIAL_REASONS: Readonly<Record<DoorDenial, DenialReason>> = {
  'random-uid': DenialReason.RANDOM_UID,
  'not-genuine': DenialReason.NOT_GENUINE,
  'not-encoded': DenialReason.NOT_ENCODED,
  'key-version-too-old': DenialReason.KEY_VERSION_TOO_OLD,
  'unknown-key-version': DenialReason.UNKNOWN_KEY_VERSION,
  'key-set-not-accepted': DenialReason.KEY_SET_NOT_ACCEPTED,
  'authentication-failed': DenialReason.AUTHENTICATION_FAILED,
  'relay-suspected': DenialReason.RELAY_SUSPECTED,
  'proximity-check-failed': DenialReason.PROXIMITY_CHECK_FAILED,
  'credential-unreadable': DenialReason.CREDENTIAL_UNREADABLE,
  'credential-invalid': DenialReason.CREDENTIAL_INVALID,
  'not-yet-valid': DenialReason.NOT_YET_VALID,
  expired: DenialReason.EXPIRED,
  'transport-failed': DenialReason.TRANSPORT_FAILED,
};

interface DoorRequest {
  readonly card: PresentedCard;
  readonly profile: Profile;
  readonly doorId: string;
}

/**
 * AuthService: a door's reader host relays a card, the service runs the door flow with its keys
 * (`authenticateAtDoor` with the profile's door policy) under the door's audit context, and sends
 * the verdict. The proximity rounds are timed by the reader host (TimedExchangeTask).
 */
export function authService(deps: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  const open = (start: AuthenticateStart): DoorRequest => {
    const card = presentedCard(start.card, 'start.card');
    const doorId = limitText(start.doorId, 'start.door_id', MAX_DOOR_ID);
    const named = optionalName(start.profile, 'start.profile');
    const profile = named === undefined ? deps.profiles.get(deps.defaultProfile) : deps.profiles.get(named, 'start.profile');
    return { card, doorId, profile };
  };
  return {
    authenticate: (requests, send, context) =>
      serveRelayCall<AuthenticateStart, DoorRequest, AuthenticationResultInit>(
        { requests, send, context, settings: deps.relay, logger: deps.logger },
        {
          open,
          run: async ({ card, profile, doorId }, transport) => {
            const { uid } = card.presence;
            const door = doorConfigOf(profile, deps.keyStore, { proximityToleranceNs: deps.relay.proximityToleranceNs });
            const result = await runWithAudit(doorAudit(context, doorId), () => authenticateAtDoor(new DesfireClient(transport), uid, door));
            deps.logger.info(
              { door: doorId, reader: card.readerId, profile: profile.name, uid: toHex(uid), granted: result.granted, ...(result.granted ? {} : { reason: result.reason }) },
              'door decision',
            );
            return resultMessage(result, uid);
          },
        },
      ),
  };
}

function resultMessage(result: DoorResult<Credential>, uid: Uint8Array): AuthenticationResultInit {
  if (result.granted) return { granted: true, credential: result.credential, keySet: result.keySet, keyVersion: result.keyVersion, uid };
  return { granted: false, reason: DENIAL_REASONS[result.reason], detail: result.detail, uid };
}
