import type { CardAuthentication } from '../desfire/auth/handshake.js';
import type { CardProximityCheck } from '../desfire/proximity-check.js';
import type { PendingAnswer, PendingCommand } from '../desfire/framing/index.js';
import type { SecureChannel } from '../desfire/sm/secure-channel.js';
import { Transaction } from './transaction.js';

/** AID 000000 is the PICC level. */
export const PICC_AID = 0x000000;

export interface Authentication {
  /** The key number authenticated with, within the selected application (or the PICC master key). */
  readonly keyNo: number;
  readonly channel: SecureChannel;
}

/** An authentication waiting for the reader's token (its 0xAF frame). */
export interface PendingHandshake {
  readonly command: number;
  readonly keyNo: number;
  readonly card: CardAuthentication;
}

/** A chained command collecting its frames. */
export interface PendingChain {
  readonly cmd: number;
  readonly pending: PendingCommand;
}

/**
 * The card's volatile state: what a power-off forgets. One object, passed explicitly to every
 * handler; nothing of it lives in globals.
 */
export class Session {
  selectedAid = PICC_AID;
  auth: Authentication | undefined;
  handshake: PendingHandshake | undefined;
  pendingAnswer: PendingAnswer | undefined;
  pendingChain: PendingChain | undefined;
  readonly transaction = new Transaction();
  /** The EF selected through ISO SELECT FILE (a file number of the selected application). */
  isoFile: number | undefined;
  /** The proximity check in progress or passed since power-on (made on first PreparePC). */
  proximity: CardProximityCheck | undefined;

  /**
   * Ends the authenticated state: session keys wiped, pending handshake and uncommitted
   * transaction dropped. A card does this on any error status, on SelectApplication and on a
   * new authentication attempt.
   */
  dropAuthentication(): void {
    this.auth?.channel.destroy();
    this.auth = undefined;
    this.handshake = undefined;
    this.transaction.clear();
  }

  /** Forgets frames still owed either way (a new command or an error ends a chain). */
  dropChains(): void {
    this.pendingAnswer = undefined;
    this.pendingChain = undefined;
  }

  /** Power-on state: PICC level selected, nothing authenticated or pending. */
  reset(): void {
    this.dropAuthentication();
    this.dropChains();
    this.selectedAid = PICC_AID;
    this.proximity = undefined;
    this.isoFile = undefined;
  }
}
