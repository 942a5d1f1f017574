import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { StationKind, type StationSchema } from '../../gen/desfirepacs/v1/encoder_pb.js';
import type { StationInfo, StationKind as Kind } from './station-registry.js';

const KINDS: Readonly<Record<Kind, StationKind>> = {
  emulated: StationKind.EMULATED,
  pcsc: StationKind.PCSC,
  remote: StationKind.REMOTE,
};

/** A station as the API's Station message. */
export function stationMessage(station: StationInfo): MessageInitShape<typeof StationSchema> {
  return {
    id: station.id,
    kind: KINDS[station.kind],
    activity: station.activity,
    cardsEncoded: BigInt(station.cardsEncoded),
    lastSeen: timestampFromDate(station.lastSeen),
  };
}
