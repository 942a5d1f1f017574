import type { CardPresence, Transport } from '../desfire/transport.js';
import { PcscTransport, type WaitOptions } from '../encoder/transports/index.js';

/**
 * A reader a reader host waits on: cards come and go, and the transport talks to the card last
 * waited for. `PcscTransport` is one.
 */
export interface CardReader extends Transport {
  readonly readerName: string;
  /** Resolves when a card is in the field (at once when one is there). */
  waitForCard(options?: WaitOptions): Promise<CardPresence>;
  /** Resolves when the field is empty. */
  waitForRemoval(options?: WaitOptions): Promise<void>;
  close(): Promise<void>;
}

/** The PC/SC reader `name` names (exactly, or part of one reader's name). */
export function openPcscReader(name: string): Promise<CardReader> {
  return PcscTransport.open(name);
}
