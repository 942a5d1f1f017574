import { toHex } from '../../desfire/bytes.js';
import type { CardPresence, Transport } from '../../desfire/transport.js';
import { TransportError } from '../transport-error.js';
import { nfcPcscBackend, PcscContext, type PcscBackend, type ReaderEntry } from './pcsc-context.js';
import { waitUntil, type WaitOptions } from './wait.js';

/** Get Data, UID (PC/SC part 3, 3.2.2.1.3): answered by the reader from anticollision, never sent to the card. */
const GET_UID = Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x00);

/** A short APDU's largest answer: 256 data bytes + SW1 SW2. */
const SHORT_APDU_ANSWER = 258;

export interface PcscOpenOptions extends WaitOptions {
  /** How long to wait for the reader to be listed (default 5000 ms); see WaitOptions. */
  readonly timeoutMs?: number;
  /** The answer buffer given to SCardTransmit (default 258); a longer answer fails the transmit. */
  readonly maxResponseLength?: number;
  /** For tests: where nfc-pcsc comes from. */
  readonly backend?: PcscBackend;
}

/** The readers pcscd lists (waits for its list, then lets go of PC/SC). */
export async function listPcscReaders(options: WaitOptions & { readonly backend?: PcscBackend } = {}): Promise<string[]> {
  const context = await PcscContext.open(options.backend ?? nfcPcscBackend);
  try {
    return await context.listed({ timeoutMs: 5000, ...options });
  } finally {
    await context.close();
  }
}

/** One insertion of a card, as this transport identified it. */
interface Insertion {
  readonly generation: number;
  readonly presence?: CardPresence;
  /** The reader could not give the card's UID: waitForCard rejects with this while the card stays. */
  readonly failure?: TransportError;
  /** False once the card gave an empty answer (pulled or power lost mid-command). */
  usable: boolean;
}

/**
 * A PC/SC reader through nfc-pcsc. `open` picks the reader by name, `waitForCard` waits for a card
 * and reads its UID (Get Data FF CA, answered by the reader) and ATR, `transceive` sends raw APDUs
 * (SCardTransmit; no GET RESPONSE or other processing, so 91AF chaining reaches the caller as the
 * card sent it), `close` lets go of everything nfc-pcsc holds in pcscd.
 *
 * A transport talks to the card `waitForCard` returned, and only to it: once that card has left
 * the field, or gave an empty answer (pcscd's answer for a card pulled mid-command), every
 * transceive fails with a TransportError until `waitForCard` is called again, even when a card is
 * back in the slot: it may be another card, and it lost the session in any case.
 *
 * nfc-pcsc connects in shared mode on every insertion; another PC/SC program could interleave
 * APDUs with ours, so give the encoding reader to this transport alone.
 */
export class PcscTransport implements Transport {
  readonly #context: PcscContext;
  readonly #entry: ReaderEntry;
  readonly #maxResponseLength: number;
  readonly #listeners = new Set<() => void>();
  readonly #unsubscribe: () => void;
  /** The nfc-pcsc card event last seen: a new object on every insertion. */
  #cardEvent: object | undefined;
  #generation = 0;
  #insertion: Insertion | undefined;
  /** The generation `waitForCard` handed out; transceive talks to that card only. */
  #acknowledged = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(context: PcscContext, entry: ReaderEntry, options: PcscOpenOptions) {
    this.#context = context;
    this.#entry = entry;
    this.#maxResponseLength = options.maxResponseLength ?? SHORT_APDU_ANSWER;
    this.#unsubscribe = context.subscribe(() => {
      this.#sync();
      this.#notify();
    });
    this.#sync();
  }

  /**
   * Opens the PC/SC reader `reader` names: the reader with exactly that name, else the one whose
   * name contains it (case-insensitive). Waits `timeoutMs` (default 5000) for it to be listed;
   * rejects with a TransportError listing the readers there are, or naming the several that match;
   * with PcscUnavailableError when nfc-pcsc, its native addon or pcscd is missing.
   */
  static async open(reader: string, options: PcscOpenOptions = {}): Promise<PcscTransport> {
    const context = await PcscContext.open(options.backend ?? nfcPcscBackend);
    try {
      const name = await context.findReader(reader, { timeoutMs: options.timeoutMs ?? 5000, signal: options.signal });
      return new PcscTransport(context, context.claim(name), options);
    } catch (error) {
      await context.close();
      throw error;
    }
  }

  /** The reader's full PC/SC name. */
  get readerName(): string {
    return this.#entry.reader.name;
  }

  /** The card transceive talks to (the one `waitForCard` returned), while it is in the field. */
  get card(): CardPresence | undefined {
    const insertion = this.#insertion;
    return insertion?.usable && insertion.generation === this.#acknowledged ? insertion.presence : undefined;
  }

  /**
   * Waits for a card in the reader (returns at once when one is there) and makes it the card
   * transceive talks to. Rejects with a TransportError after `timeoutMs` (default: no limit), when
   * the reader goes away or cannot give the card's UID, or the transport is closed; with the
   * signal's reason when aborted.
   */
  waitForCard(options: WaitOptions = {}): Promise<CardPresence> {
    return waitUntil(
      options,
      (notify) => this.#subscribe(notify),
      () => {
        this.#throwIfUnusable();
        const insertion = this.#insertion;
        if (insertion === undefined) return undefined;
        if (insertion.failure) throw insertion.failure;
        if (!insertion.usable || insertion.presence === undefined) return undefined;
        this.#acknowledged = insertion.generation;
        return insertion.presence;
      },
      () => new TransportError(`no card in PC/SC reader "${this.readerName}" within ${options.timeoutMs} ms`),
    );
  }

  /** Waits until the reader's slot is empty (the card was taken away). Same options and failures as waitForCard. */
  waitForRemoval(options: WaitOptions = {}): Promise<void> {
    return waitUntil(
      options,
      (notify) => this.#subscribe(notify),
      () => {
        this.#throwIfUnusable();
        return this.#cardEvent === undefined ? true : undefined;
      },
      () => new TransportError(`the card stayed in PC/SC reader "${this.readerName}" for ${options.timeoutMs} ms`),
    ).then(() => undefined);
  }

  /**
   * Sends one APDU as it is and returns the answer as it came (data || SW1 SW2). Transmit
   * failures and an empty answer (card pulled or powered off mid-command) reject with a
   * TransportError; after an empty answer the card must be presented again (waitForCard).
   */
  transceive(apdu: Uint8Array): Promise<Uint8Array> {
    return this.#enqueue(async () => {
      this.#throwIfUnusable();
      const insertion = this.#insertion;
      if (insertion === undefined || insertion.generation !== this.#acknowledged || !insertion.usable) {
        throw new TransportError(
          this.#acknowledged === 0
            ? `no card taken in PC/SC reader "${this.readerName}": call waitForCard() first`
            : `the card left PC/SC reader "${this.readerName}" or lost power: present it again (waitForCard)`,
        );
      }
      const answer = await this.#transmit(apdu);
      if (answer.length === 0) {
        insertion.usable = false;
        this.#notify();
        throw new TransportError(`empty answer from PC/SC reader "${this.readerName}": the card left the field or lost power mid-command`);
      }
      return answer;
    });
  }

  /**
   * Leaves the card (SCardDisconnect, leave card) and stops every thread nfc-pcsc started, so the
   * process can exit. Waits for an APDU in flight. Idempotent; waits in progress reject.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closing = this.#shutdown();
    }
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#notify(); // waits in progress reject
    await this.#queue;
    this.#unsubscribe();
    await this.#context.close();
  }

  /** Follows nfc-pcsc's card events: a new insertion gets a new generation and is identified. */
  #sync(): void {
    const event = this.#entry.ended ? undefined : this.#entry.card;
    if (event === this.#cardEvent) return;
    this.#cardEvent = event;
    const generation = ++this.#generation;
    this.#insertion = undefined;
    if (event === undefined) return;
    const atr = event.atr && event.atr.length > 0 ? new Uint8Array(event.atr) : undefined;
    this.#enqueue(() => this.#transmit(GET_UID)).then(
      (answer) => {
        if (generation !== this.#generation || answer.length === 0) return; // empty: the card left at once, its removal follows
        const ok = answer.length > 2 && answer[answer.length - 2] === 0x90 && answer[answer.length - 1] === 0x00;
        this.#insertion = ok
          ? { generation, usable: true, presence: atr ? { uid: answer.slice(0, -2), atr } : { uid: answer.slice(0, -2) } }
          : {
              generation,
              usable: false,
              failure: new TransportError(`PC/SC reader "${this.readerName}" gave no UID for the card (Get Data FF CA answered ${toHex(answer)})`),
            };
        this.#notify();
      },
      () => {
        // The card left during the Get Data: its removal follows.
      },
    );
  }

  async #transmit(apdu: Uint8Array): Promise<Uint8Array> {
    let answer: Buffer;
    try {
      answer = await this.#entry.reader.transmit(Buffer.from(apdu), this.#maxResponseLength);
    } catch (error) {
      throw new TransportError(`PC/SC transmit to "${this.readerName}" failed: ${failureDetail(error)}`, { cause: error });
    }
    return new Uint8Array(answer); // a copy, not a Buffer from Node's pool
  }

  #throwIfUnusable(): void {
    if (this.#closed) throw new TransportError(`the PC/SC transport for "${this.readerName}" is closed`);
    if (this.#entry.ended) {
      const cause = this.#entry.error;
      const detail = cause === undefined ? '' : ` (${failureDetail(cause)})`;
      throw new TransportError(`PC/SC reader "${this.readerName}" is gone${detail}`, cause === undefined ? undefined : { cause });
    }
  }

  /** One APDU at a time, in call order (the UID read of a new card included). */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.catch(() => {});
    return result;
  }

  #subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/** nfc-pcsc wraps the PC/SC error ("SCardTransmit error: Card was removed.(0x80100069)") in `previous`. */
function failureDetail(error: unknown): string {
  const previous = (error as { previous?: unknown } | null)?.previous;
  const source = previous instanceof Error ? previous : error;
  return source instanceof Error ? source.message : String(source);
}
