import { fromHex, toHex } from '../desfire/bytes.js';
import { importImage } from '../emulator/image.js';
import { VirtualCard } from '../emulator/virtual-card.js';
import { EmulatorService } from '../gen/desfirepacs/v1/emulator_pb.js';
import { serviceClient, type ServiceClientOptions } from '../server/grpc/client.js';
import { UsageError } from './usage-error.js';

/**
 * A copy of one of the service's virtual cards (an emulated station's card, say), found by UID
 * and rebuilt here from its exported image: a door's reader host then holds it in its own
 * field, and the service reaches it only through the relay, as it would a physical card.
 */
export async function copyOfServiceCard(server: string, uidHex: string, connection: ServiceClientOptions = {}): Promise<VirtualCard> {
  if (!/^([0-9a-fA-F]{2}){7}$/.test(uidHex)) throw new UsageError(`--virtual-card takes a 7-byte UID in hex, got "${uidHex}"`);
  const wanted = toHex(fromHex(uidHex));
  const emulator = serviceClient(EmulatorService, server, connection);
  try {
    let pageToken = '';
    do {
      const page = await emulator.listVirtualCards({ pageSize: 1000, pageToken });
      const found = page.cards.find((card) => toHex(card.uid) === wanted);
      if (found) {
        const { image } = await emulator.exportImage({ cardId: found.id });
        return new VirtualCard(importImage(JSON.parse(new TextDecoder().decode(image))));
      }
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    throw new UsageError(`the service has no virtual card with UID ${wanted.toUpperCase()}`);
  } finally {
    emulator.grpc.close();
  }
}
