import { PcscUnavailableError } from './pcsc-unavailable.js';

/*
 * nfc-pcsc is an optional dependency loaded on first use: npm leaves it out when its native addon
 * (@pokusew/pcsclite, node-gyp against libpcsclite-dev) fails to build, and the rest of the
 * project must still install and run. The types below are the part of nfc-pcsc 0.8 we use; it
 * ships none.
 */

/** What nfc-pcsc says of a card when it connected to it (with autoProcessing off: no APDU sent). */
export interface NfcPcscCardEvent {
  readonly atr?: Uint8Array;
}

/** An nfc-pcsc `Reader` (one PC/SC reader slot, wrapping a @pokusew/pcsclite `CardReader`). */
export interface NfcPcscReader {
  readonly name: string;
  /**
   * When true (nfc-pcsc's default) nfc-pcsc talks to every card it sees: SELECT by AID (reader.aid)
   * for an ISO 14443-4 card, FF CA for others. We turn it off on every reader.
   */
  autoProcessing: boolean;
  /** The @pokusew/pcsclite reader: its first 'status' event says its status thread is running. */
  readonly reader: { once(event: 'status', listener: () => void): unknown };
  /** Set while nfc-pcsc holds a PC/SC card handle (it connects, shared, on every card insertion). */
  readonly connection: { readonly protocol: number } | null;
  on(event: 'card' | 'card.off', listener: (card: NfcPcscCardEvent) => void): this;
  on(event: 'error', listener: (error: unknown) => void): this;
  on(event: 'end', listener: () => void): this;
  /** SCardTransmit, raw: `responseMaxLength` is the answer buffer's size. Throws at once when not connected. */
  transmit(data: Buffer, responseMaxLength: number): Promise<Buffer>;
  /** SCardDisconnect(SCARD_LEAVE_CARD). Throws at once when not connected. */
  disconnect(): Promise<boolean>;
  /** Stops the reader's status thread (SCardGetStatusChange); without it the process cannot exit. */
  close(): void;
}

/** nfc-pcsc's `NFC`: one PC/SC context, a thread watching the reader list, a `Reader` per reader. */
export interface NfcPcscContext {
  on(event: 'reader', listener: (reader: NfcPcscReader) => void): this;
  on(event: 'error', listener: (error: unknown) => void): this;
  /** Stops the reader-list thread only (not the readers' threads: close each reader). */
  close(): void;
}

export interface NfcPcscModule {
  readonly NFC: new () => NfcPcscContext;
}

let loaded: Promise<NfcPcscModule> | undefined;

/** Loads nfc-pcsc (once per process), or throws PcscUnavailableError saying how to get it. */
export function loadNfcPcsc(): Promise<NfcPcscModule> {
  loaded ??= importNfcPcsc().catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

async function importNfcPcsc(): Promise<NfcPcscModule> {
  const specifier = 'nfc-pcsc'; // not a literal import: type-checks and bundles without the package
  let module: { NFC?: unknown; default?: { NFC?: unknown } };
  try {
    module = await import(specifier);
  } catch (error) {
    throw unavailableFromLoadError(error);
  }
  const NFC = module.NFC ?? module.default?.NFC;
  if (typeof NFC !== 'function') throw new PcscUnavailableError('nfc-pcsc', 'the installed nfc-pcsc has no NFC class (expected nfc-pcsc 0.8)');
  return { NFC: NFC as NfcPcscModule['NFC'] };
}

const INSTALL = 'install libpcsclite-dev and pcscd (Debian: apt-get install libpcsclite-dev pcscd)';

/** Turns a failure to load nfc-pcsc into what is missing and how to get it. */
export function unavailableFromLoadError(error: unknown): PcscUnavailableError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const short = firstLine(message);
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /nfc-pcsc|@pokusew\/pcsclite|bindings/.test(message)) {
    return new PcscUnavailableError(
      'nfc-pcsc',
      `the optional dependency nfc-pcsc is not installed (npm leaves it out when its native addon fails to build: ${short}); ` +
        `${INSTALL}, then npm install`,
      { cause: error },
    );
  }
  if (/libpcsclite\.so/.test(message)) {
    return new PcscUnavailableError('native-addon', `the PC/SC library is missing (${short}); ${INSTALL}, then npm rebuild @pokusew/pcsclite`, { cause: error });
  }
  // "Could not locate the bindings file" (never built), "compiled against a different Node.js version", ...
  return new PcscUnavailableError(
    'native-addon',
    `the native addon of nfc-pcsc (@pokusew/pcsclite) does not load (${short}); ${INSTALL}, then npm rebuild @pokusew/pcsclite`,
    { cause: error },
  );
}

function firstLine(text: string): string {
  const line = text.split('\n')[0].trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
