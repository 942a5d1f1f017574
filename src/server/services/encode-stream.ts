import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { toHex } from '../../desfire/bytes.js';
import type { DesfireError } from '../../desfire/errors.js';
import { ErrorOrigin, type DesfireFailureSchema, type DesfireStatus } from '../../gen/desfirepacs/v1/desfire_pb.js';
import type { EncoderService, EncodeResultSchema, EncodeStart } from '../../gen/desfirepacs/v1/encoder_pb.js';
import type { EncodeInput, EncodeOutcome } from '../batches/batch-runner.js';
import type { ServiceImpl } from '../grpc/service-impl.js';
import { optionalName, requireName } from '../grpc/validate.js';
import { presentedCard, type PresentedCard } from '../relay/card-presented.js';
import { serveRelayCall } from '../relay/relay-call.js';
import type { RelaySettings } from '../relay/relay-settings.js';
import { cardMessage } from './card-message.js';

export type { EncodeOutcome } from '../batches/batch-runner.js';

export interface EncodeStreamDeps {
  /** Encodes the presented card for a batch (BatchRunner.encodeCard); throws before a card number is taken. */
  readonly encodeCard: (input: EncodeInput) => Promise<EncodeOutcome>;
  readonly relay: RelaySettings;
  readonly logger: Logger;
  /** Told when a remote station agent relays a card (the station registry's `seen`, kind remote). */
  readonly stationSeen?: (stationId: string, activity: string) => void;
}

/** Station and batch ids as encoder.proto words them: 1..64 characters of [A-Za-z0-9._-]. */
const ID = /^[A-Za-z0-9._-]+$/;

type EncodeResultInit = MessageInitShape<typeof EncodeResultSchema>;

interface StationRequest {
  readonly card: PresentedCard;
  readonly stationId: string;
  readonly batchId: string | undefined;
}

/**
 * EncoderService.Encode: a remote station agent relays the card in its field and the service
 * encodes it for a batch, as its own stations do, through the relay; the last message is what
 * became of the card (its journal record, the steps that changed it, why it failed).
 */
export function encodeStream(deps: EncodeStreamDeps): ServiceImpl<typeof EncoderService>['encode'] {
  const open = (start: EncodeStart): StationRequest => ({
    card: presentedCard(start.card, 'start.card'),
    stationId: requireName(start.stationId, 'start.station_id', 64, ID),
    batchId: optionalName(start.batchId, 'start.batch_id', 64, ID),
  });
  return (requests, send, context) =>
    serveRelayCall<EncodeStart, StationRequest, EncodeResultInit>(
      { requests, send, context, settings: deps.relay, logger: deps.logger },
      {
        open,
        run: async ({ card, stationId, batchId }, transport, signal) => {
          const { uid } = card.presence;
          deps.stationSeen?.(stationId, `relaying card ${toHex(uid).toUpperCase()}`);
          const outcome = await deps.encodeCard({ transport, uid, stationId, signal, ...(batchId === undefined ? {} : { batchId }) });
          deps.logger.info(
            { station: stationId, reader: card.readerId, card: outcome.card.id, state: outcome.card.state, changed: outcome.changed.length, ...(outcome.failure ? { failure: outcome.failure } : {}) },
            'remote card encoded',
          );
          return resultMessage(outcome);
        },
      },
    );
}

function resultMessage(outcome: EncodeOutcome): EncodeResultInit {
  return {
    card: cardMessage(outcome.card),
    changedSteps: [...outcome.changed],
    failure: outcome.failure ?? '',
    ...(outcome.desfire ? { desfire: desfireFailure(outcome.desfire) } : {}),
  };
}

/** The API's DesfireFailure: the status as the card sent it (the enum is numbered so), command, origin, message. */
function desfireFailure(error: DesfireError): MessageInitShape<typeof DesfireFailureSchema> {
  return {
    status: error.status as DesfireStatus,
    ...(error.command === undefined ? {} : { command: error.command }),
    origin: error.origin === 'card' ? ErrorOrigin.CARD : ErrorOrigin.PROTOCOL,
    detail: error.message,
  };
}
