import type { CommMode } from '../comm-mode.js';
import type { Cmac } from '../crypto/cmac.js';

/** The secure-messaging generations of DESFire. */
export type Generation = 'd40' | 'ev1' | 'ev2';

/**
 * One authenticated session's secure messaging, the same object type on both ends of the link.
 * The reader (PCD) calls `wrapCommand` / `unwrapResponse`; the card (PICC) calls
 * `unwrapCommand` / `wrapResponse`. Commands never touch IVs, counters, CRCs or MAC truncation:
 * all of that lives here. Every method works on a whole message (all 0xAF frames joined) and
 * `cmd` is the command byte, never part of `header` or `data`.
 *
 * Integrity failures (MAC, CRC, padding, length) throw `DesfireError` INTEGRITY_ERROR or
 * LENGTH_ERROR; after one, the session must be discarded, as a card does.
 */
export interface SecureChannel {
  readonly generation: Generation;

  /** PCD: protects a command. `header` stays in clear (e.g. file number, offset, length). Returns the bytes after `cmd`. */
  wrapCommand(cmd: number, header: Uint8Array, data: Uint8Array, mode: CommMode): Uint8Array;

  /**
   * PCD: checks and removes the protection of a successful answer (all frames joined, without status).
   * `expectedLength`: see below.
   */
  unwrapResponse(status: number, body: Uint8Array, mode: CommMode, expectedLength?: number): Uint8Array;

  /**
   * PICC: checks and removes the protection of a command; `body` is everything after `cmd`.
   *
   * `expectedLength` (here and in `unwrapResponse`) is the length of the data, when the receiver
   * knows it (from a length field, a fixed layout or file settings). d40 and EV1 full mode send
   * data || CRC || zero padding, and that is ambiguous: when the CRC's last byte is zero (1 in 256),
   * the message minus its last data byte also carries a valid CRC and padding. Without the length,
   * the shortest valid reading is taken; receivers that know the length must pass it.
   */
  unwrapCommand(cmd: number, body: Uint8Array, headerLength: number, mode: CommMode, expectedLength?: number): UnwrappedCommand;

  /** PICC: protects a successful answer's data. Returns the bytes after the status. */
  wrapResponse(status: number, data: Uint8Array, mode: CommMode): Uint8Array;

  /**
   * PCD: enciphers a command-built cryptogram that already carries its own checksums
   * (ChangeKey; Proxmark's "encrypted plain"): d40 and EV1 zero-pad and encipher it as is, with
   * no CRC of their own; EV2 has no such form and sends it in full mode. Returns the bytes after `cmd`.
   */
  wrapCryptogram(cmd: number, header: Uint8Array, cryptogram: Uint8Array): Uint8Array;

  /** PICC: the inverse; d40 and EV1 return the cryptogram with its zero padding (the command knows its layout). */
  unwrapCryptogram(cmd: number, body: Uint8Array, headerLength: number): UnwrappedCommand;

  /**
   * The CMAC a proximity check's VerifyPC runs under in this session: EV2 SesAuthMACKey, the EV1
   * AES session key; undefined for d40 and DES-family sessions, which use VCProximityKey
   * (proximity/verify-mac.ts). The key itself never leaves the channel.
   */
  readonly proximityMac: Cmac | undefined;

  /** How many bytes `wrapCommand` makes of `dataLength` data bytes (header excluded): lets a card know when a chained command is complete. */
  commandLength(dataLength: number, mode: CommMode): number;

  /** Wipes the session keys; the object must not be used afterwards. */
  destroy(): void;
}

export interface UnwrappedCommand {
  readonly header: Uint8Array;
  readonly data: Uint8Array;
}
