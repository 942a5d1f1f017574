import { TransportError } from '../transport-error.js';
import { loadNfcPcsc, type NfcPcscCardEvent, type NfcPcscContext, type NfcPcscModule, type NfcPcscReader } from './nfc-pcsc-module.js';
import { checkPcscd } from './pcscd-socket.js';
import { PcscUnavailableError } from './pcsc-unavailable.js';
import { chooseReader, describeReaders } from './reader-choice.js';
import { waitUntil, type WaitOptions } from './wait.js';

/** Where nfc-pcsc comes from, and the service check made before it is asked for a context. */
export interface PcscBackend {
  checkService(): Promise<void>;
  load(): Promise<NfcPcscModule>;
}

/** The real one: pcscd's socket, then nfc-pcsc loaded on first use. */
export const nfcPcscBackend: PcscBackend = { checkService: () => checkPcscd(), load: loadNfcPcsc };

/** One reader as nfc-pcsc reports it: the card it connected to, if any, and whether it is gone. */
export interface ReaderEntry {
  readonly reader: NfcPcscReader;
  /** The card nfc-pcsc connected to (a new object on every insertion), undefined when the slot is empty. */
  card: NfcPcscCardEvent | undefined;
  /** The reader left pcscd's list (unplugged) or its status thread stopped on an error. */
  ended: boolean;
  error: unknown;
  /** Resolves when the reader's status thread reported for the first time (see `#release`). */
  readonly watching: Promise<void>;
}

/** With no reader at all pcscd's list comes back empty and nfc-pcsc says nothing: wait this long. */
const EMPTY_LIST_MS = 1000;

/** A reader's status thread reports at once; after this long it is closed without waiting further. */
const STATUS_THREAD_START_MS = 2000;

/**
 * One nfc-pcsc context (one PC/SC context, a thread watching pcscd's reader list, and a status
 * thread per reader) and the state of every reader. Each reader gets autoProcessing off the moment
 * it appears, before its first status event, so nfc-pcsc never sends an APDU of its own. `claim`
 * keeps one reader and stops watching the others; `close` stops every thread nfc-pcsc started
 * (`NFC.close()` alone leaves the readers' threads running and the process never exits).
 */
export class PcscContext {
  readonly #nfc: NfcPcscContext;
  readonly #entries = new Map<string, ReaderEntry>();
  /** Every reader nfc-pcsc announced, claimed or not, to be closed in the end. */
  readonly #all: ReaderEntry[] = [];
  readonly #listeners = new Set<() => void>();
  #listed = false;
  #listing: NodeJS.Timeout | undefined;
  #error: unknown;
  #claimed: string | undefined;
  #closed = false;

  private constructor(nfc: NfcPcscContext) {
    this.#nfc = nfc;
    // Always listened to: an 'error' event without a listener would throw from a native callback.
    // After close the list thread reports "Command cancelled": ignored.
    nfc.on('error', (error) => {
      if (this.#closed) return;
      this.#error = error;
      this.#notify();
    });
    nfc.on('reader', (reader) => this.#add(reader));
    this.#listing = setTimeout(() => this.#endListing(), EMPTY_LIST_MS);
  }

  /** Checks the service, loads nfc-pcsc and makes a context; throws PcscUnavailableError when PC/SC is not there. */
  static async open(backend: PcscBackend = nfcPcscBackend): Promise<PcscContext> {
    await backend.checkService();
    const { NFC } = await backend.load();
    let nfc: NfcPcscContext;
    try {
      nfc = new NFC();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new PcscUnavailableError('pcscd', `pcscd refused a PC/SC context (${message})`, { cause: error });
    }
    return new PcscContext(nfc);
  }

  /** Names of the readers pcscd lists now. */
  readerNames(): string[] {
    return [...this.#entries.values()].filter((entry) => !entry.ended).map((entry) => entry.reader.name);
  }

  /** Calls `listener` after every change (reader list, card inserted or removed, errors); returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Waits until pcscd's reader list came in; returns the reader names. */
  async listed(options: WaitOptions = {}): Promise<string[]> {
    await waitUntil(
      options,
      (notify) => this.subscribe(notify),
      () => {
        this.#throwIfFailed();
        return this.#listed ? true : undefined;
      },
      () => new TransportError(`pcscd did not list its readers within ${options.timeoutMs} ms`),
    );
    return this.readerNames();
  }

  /**
   * Waits for the reader `wanted` names (exact name, else the one reader whose name contains it,
   * case-insensitive) and returns its full name. Several readers match: rejects at once, naming them.
   */
  async findReader(wanted: string, options: WaitOptions = {}): Promise<string> {
    return waitUntil(
      options,
      (notify) => this.subscribe(notify),
      () => {
        this.#throwIfFailed();
        if (!this.#listed) return undefined;
        const choice = chooseReader(this.readerNames(), wanted);
        if (choice.kind === 'ambiguous') {
          throw new TransportError(`PC/SC reader name "${wanted}" matches ${choice.matches.length} readers: ${describeReaders(choice.matches)}; give more of the name`);
        }
        return choice.kind === 'one' ? choice.name : undefined;
      },
      () => new TransportError(`no PC/SC reader matches "${wanted}" within ${options.timeoutMs} ms (readers: ${describeReaders(this.readerNames())})`),
    );
  }

  /** Keeps the reader `name` and stops watching (and disconnects from) every other one. */
  claim(name: string): ReaderEntry {
    const entry = this.#entries.get(name);
    if (entry === undefined || entry.ended) throw new TransportError(`PC/SC reader "${name}" is gone`);
    this.#claimed = name;
    for (const other of this.#entries.values()) if (other !== entry) void this.#release(other);
    return entry;
  }

  /** Disconnects, stops every status thread and the reader-list thread. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#listing);
    this.#notify();
    await Promise.all(this.#all.map((entry) => this.#release(entry)));
    await outsideNativeCallback();
    attempt(() => this.#nfc.close());
  }

  #add(reader: NfcPcscReader): void {
    reader.autoProcessing = false;
    let started!: () => void;
    const watching = new Promise<void>((resolve) => (started = resolve));
    reader.reader.once('status', () => started());
    const entry: ReaderEntry = { reader, card: undefined, ended: false, error: undefined, watching };
    this.#all.push(entry);
    reader.on('error', (error) => {
      if (this.#closed) return;
      entry.error = error;
      this.#notify();
    });
    reader.on('end', () => {
      started(); // the thread is over: nothing to wait for
      entry.ended = true;
      entry.card = undefined;
      this.#notify();
    });
    reader.on('card', (card) => {
      entry.card = card;
      this.#notify();
    });
    reader.on('card.off', () => {
      entry.card = undefined;
      this.#notify();
    });
    if (this.#closed || (this.#claimed !== undefined && reader.name !== this.#claimed)) {
      void this.#release(entry);
      return;
    }
    this.#entries.set(reader.name, entry);
    // nfc-pcsc announces the whole list in one go: it is complete once this turn of the loop is over.
    if (!this.#listed) setImmediate(() => this.#endListing());
    this.#notify();
  }

  /**
   * Stops watching a reader and leaves its card (SCardDisconnect, leave card) if nfc-pcsc holds it.
   * Not before the reader's status thread has reported once: a @pokusew/pcsclite reader closed
   * before its thread entered its loop never gets its end message, and the libuv handle it left
   * open keeps the process alive for good.
   */
  async #release(entry: ReaderEntry): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([entry.watching, new Promise<void>((resolve) => (timer = setTimeout(resolve, STATUS_THREAD_START_MS)))]);
    clearTimeout(timer);
    await outsideNativeCallback();
    attempt(() => entry.reader.close());
    if (!entry.reader.connection) return;
    try {
      await entry.reader.disconnect();
    } catch {
      // the card or the reader is gone already
    }
  }

  #endListing(): void {
    clearTimeout(this.#listing);
    if (this.#listed) return;
    this.#listed = true;
    this.#notify();
  }

  #throwIfFailed(): void {
    if (this.#closed) throw new TransportError('the PC/SC context is closed');
    if (this.#error !== undefined) {
      throw new TransportError(`PC/SC: ${this.#error instanceof Error ? this.#error.message : String(this.#error)}`, { cause: this.#error });
    }
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/**
 * Waits for the next turn of the event loop. @pokusew/pcsclite calls a reader's status listener
 * holding that reader's mutex, and Node runs the promise jobs queued by the listener before the
 * native code returns and unlocks: a close() reached from there (a card removal resolving a wait
 * whose caller then closes) locks the same mutex again and blocks the process for good. Every
 * native close goes through here first.
 */
function outsideNativeCallback(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function attempt(action: () => void): void {
  try {
    action();
  } catch {
    // closing what is already closed
  }
}
