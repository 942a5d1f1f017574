export { PcscTransport, listPcscReaders, type PcscOpenOptions } from './pcsc-transport.js';
export { PcscUnavailableError } from './pcsc-unavailable.js';
export { chooseReader, type ReaderChoice } from './reader-choice.js';
export type { WaitOptions } from './wait.js';
export type { PcscBackend } from './pcsc-context.js';
