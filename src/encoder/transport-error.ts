/**
 * The link to the card failed (card taken away, reader gone, relay broken, an empty answer):
 * not something the card said, so never a DesfireError. The card may be in any state the last
 * completed command left it in.
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
}
