export { DEFAULT_VPCD_ADDRESS, formatVpcdAddress, parseVpcdAddress, type VpcdAddress } from './address.js';
export { atrHistoricalBytes } from './atr.js';
export { backoffDelay, DEFAULT_BACKOFF, type Backoff } from './backoff.js';
export { CardSlot, type SlotReply } from './card-slot.js';
export { VpcdClient, type VpcdClientOptions } from './client.js';
export type { VpcdEvent, VpcdEventListener } from './events.js';
export { VpcdMessageDecoder } from './message-decoder.js';
export { encodeVpcdMessage, isControlCode, VPCD_DEFAULT_PORT, VPCD_MAX_MESSAGE_LENGTH, VpcdControl, type VpcdControlCode } from './protocol.js';
export { answerReaderCommand, isReaderCommand, ReaderStatus, type ReaderView } from './reader-commands.js';
