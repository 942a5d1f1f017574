import { factoryState } from '../emulator/factory.js';
import { importImage } from '../emulator/image.js';
import { VirtualCard } from '../emulator/virtual-card.js';
import type { CardFactory } from './emulate.js';

/** `desfire-pacs emulate`'s card: a VirtualCard, new or from its image, with the faults asked for. */
export const createVirtualCard: CardFactory = (options) => {
  const picc = options.image === undefined ? factoryState({ uid: options.uid, capacity: options.capacity, randomUid: options.randomUid }) : importImage(options.image);
  const card = new VirtualCard(picc);
  card.answerDelayMs = options.answerDelayMs;
  card.tearAtWrite(options.tearAt);
  return card;
};
