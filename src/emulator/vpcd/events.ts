/** What a vpcd client reports, for a command line or a test to print; never key material. */
export type VpcdEvent =
  /** A connection attempt to vpcd starts. */
  | { readonly type: 'connecting'; readonly address: string }
  /** Connected: the card is in the reader's field (powered, UID chosen). */
  | { readonly type: 'connected'; readonly address: string; readonly uid: Uint8Array }
  /** The connection ended (vpcd closed it, or it failed); the card left the field. */
  | { readonly type: 'disconnected'; readonly reason: string }
  /** vpcd could not be reached, or the connection ended: next attempt in `inMs`. */
  | { readonly type: 'retrying'; readonly inMs: number; readonly reason: string }
  /** pcscd switched the card's power (through vpcd's control codes). */
  | { readonly type: 'power'; readonly action: 'on' | 'off' | 'reset' }
  /** One command and its answer; `by` says whether the card or the reader answered. */
  | { readonly type: 'apdu'; readonly by: 'card' | 'reader'; readonly command: Uint8Array; readonly answer: Uint8Array }
  /**
   * The card did not answer `command` (a simulated power loss, or a command to an unpowered
   * card): the client drops the connection, as a card pulled from the field, and comes back
   * after `backInMs`.
   */
  | { readonly type: 'card-lost'; readonly reason: string; readonly command: Uint8Array; readonly backInMs: number }
  /** A message the protocol does not define (an empty message): not answered. */
  | { readonly type: 'ignored'; readonly message: Uint8Array; readonly reason: string };

export type VpcdEventListener = (event: VpcdEvent) => void;
