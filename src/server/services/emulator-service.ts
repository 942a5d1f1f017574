import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { TransportError } from '../../encoder/transport-error.js';
import { EmulatorService, type VirtualCardSchema } from '../../gen/desfirepacs/v1/emulator_pb.js';
import type { VirtualCardInfo, VirtualCardStore } from '../emulator/virtual-card-store.js';
import { invalidArgument } from '../grpc/api-error.js';
import type { ServiceImpl } from '../grpc/service-impl.js';
import { pageSize, requireName, requirePresent } from '../grpc/validate.js';

/**
 * EmulatorService (proto/desfirepacs/v1/emulator.proto) over the service's virtual card store.
 * The store checks what it is given (UID length, capacity, image, APDU length, faults) and names
 * the proto field at fault; this layer adds the proto's own rules: empty means unset, `card_id`
 * is required, `image` is JSON text, `page_size` 0 means the default.
 */
export function emulatorService(store: VirtualCardStore): ServiceImpl<typeof EmulatorService> {
  return {
    async createVirtualCard(request) {
      const card = store.create({
        uid: request.uid.length === 0 ? undefined : request.uid,
        randomUid: request.randomUid,
        capacityBytes: request.capacityBytes === 0 ? undefined : request.capacityBytes,
        image: request.image.length === 0 ? undefined : parseImage(request.image),
      });
      return { card: virtualCard(card) };
    },

    async getVirtualCard(request) {
      return { card: virtualCard(store.get(cardId(request.cardId))) };
    },

    async listVirtualCards(request) {
      const page = store.list({ pageSize: pageSize(request.pageSize), pageToken: request.pageToken });
      return { cards: page.cards.map(virtualCard), nextPageToken: page.nextPageToken };
    },

    async deleteVirtualCard(request) {
      store.delete(cardId(request.cardId));
      return {};
    },

    // A card that loses power gives no answer: the reader sees an empty response, as through PC/SC.
    async transceive(request, context) {
      try {
        return { response: await store.transceive(cardId(request.cardId), request.apdu, context.signal) };
      } catch (e) {
        if (e instanceof TransportError) return { response: new Uint8Array(0) };
        throw e;
      }
    },

    async setFaults(request) {
      const id = cardId(request.cardId);
      const faults = requirePresent(request.faults, 'faults');
      return { card: virtualCard(store.setFaults(id, { tearAtWrite: faults.tearAtWrite, delayMs: faults.delayMs })) };
    },

    async exportImage(request) {
      return { image: new TextEncoder().encode(store.exportImage(cardId(request.cardId))) };
    },
  };
}

const cardId = (value: string): string => requireName(value, 'card_id');

/** The image as JSON; the parser's message is not repeated, as it would quote the image (keys). */
function parseImage(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidArgument('image', 'is not UTF-8 text');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw invalidArgument('image', 'is not JSON');
  }
}

function virtualCard(info: VirtualCardInfo): MessageInitShape<typeof VirtualCardSchema> {
  return {
    id: info.id,
    uid: info.uid,
    capacityBytes: info.capacityBytes,
    randomUid: info.randomUid,
    applicationIds: [...info.applicationIds],
    faults: { ...info.faults },
    createdAt: timestampFromDate(new Date(info.createdAt)),
    stationId: info.stationId ?? '',
  };
}
