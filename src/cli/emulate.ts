import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { saveImage } from './image-file.js';
import { aborted, stopSignals } from './stop-signals.js';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fromHex, toHex } from '../desfire/bytes.js';
import type { CardEndpoint } from '../emulator/card-endpoint.js';
import { DEFAULT_VPCD_ADDRESS, formatVpcdAddress, parseVpcdAddress, type VpcdAddress } from '../emulator/vpcd/address.js';
import { VpcdClient, type VpcdClientOptions } from '../emulator/vpcd/client.js';
import type { VpcdEvent } from '../emulator/vpcd/events.js';
import type { Capacity } from '../emulator/model.js';

const CAPACITIES: readonly Capacity[] = ['2k', '4k', '8k'];
/** DESFire EV3 UIDs are 7 bytes (double-size, ISO/IEC 14443-3). */
const UID_LENGTH = 7;

/** What `emulate` asks of the card factory. */
export interface CardOptions {
  /** The card's UID; undefined: the factory picks one. Only for a new card. */
  readonly uid?: Uint8Array;
  /** Random ID in anticollision (a fresh 4-byte ID per power-up). Only for a new card. */
  readonly randomUid: boolean;
  /** User memory; undefined: the card's default. Only for a new card. */
  readonly capacity?: Capacity;
  /** Lose power (CardPowerLost) at this non-volatile write, counted from 1; undefined: never. */
  readonly tearAt?: number;
  /** Added delay before each answer, in ms (relay simulation). */
  readonly answerDelayMs: number;
  /** A card image saved by an earlier run (`exportImage()`, read back from JSON); undefined: a new card. */
  readonly image?: unknown;
}

/** A card `emulate` can run: a reader slot's view of it, plus its persistent image. */
export interface EmulatedCard extends CardEndpoint {
  /** The persistent state, JSON-serialisable; `image` in `CardOptions` takes it back. */
  exportImage(): unknown;
  /** The key that verifies the card's Read_Sig signature, when it has one. */
  readonly originalityPublicKey?: Uint8Array;
}

export type CardFactory = (options: CardOptions) => EmulatedCard;

export interface EmulateIo {
  /** A line of normal output (stdout). */
  write(line: string): void;
  /** A line of error output (stderr). */
  error(line: string): void;
  /** Builds the card (the emulator's VirtualCard in `main.ts`; a stub in tests). */
  readonly createCard: CardFactory;
  /** Ends the emulation when aborted; default: the first SIGINT or SIGTERM. */
  readonly stop?: AbortSignal;
  /** Client tuning (tests shorten the delays). */
  readonly vpcd?: Pick<VpcdClientOptions, 'backoff' | 'removalMs' | 'connectTimeoutMs'>;
}

export const EMULATE_USAGE = `usage: desfire-pacs emulate [options]

Presents a virtual DESFire EV3 card in a vpcd virtual reader (vsmartcard), so pcscd and any PC/SC
program see it. Needs pcscd running with the vpcd driver (Debian: pcscd vsmartcard-vpcd).

options:
  --vpcd <host:port>    where vpcd listens (default ${formatVpcdAddress(DEFAULT_VPCD_ADDRESS)}; slot 1 is port 35964)
  --image <file>        card image (JSON): loaded if the file exists, saved on exit
  --uid <hex>           the UID of a new card (${UID_LENGTH} bytes); default: chosen by the card
  --random-uid          a new card with random ID (a fresh 4-byte ID at each power-up)
  --capacity <size>     a new card's memory: ${CAPACITIES.join(', ')}
  --tear-at <n>         lose power at the n-th non-volatile write (tearing test)
  --delay-ms <ms>       delay every answer by this many ms (relay simulation)
  -h, --help            this help

Stops on Ctrl-C (SIGINT) or SIGTERM, saving the image.
`;

interface EmulateOptions {
  readonly vpcd: VpcdAddress;
  readonly image?: string;
  readonly card: Omit<CardOptions, 'image'>;
  /** The options given that only describe a new card (refused with an existing image). */
  readonly newCardOptions: readonly string[];
}

/** The usage error of one option: printed with the usage, exit code 2. */
class UsageError extends Error {}

/**
 * `desfire-pacs emulate`: runs a virtual card in a vpcd reader slot until stopped. Returns the
 * exit code: 0 after a clean stop (image saved), 2 on a usage error, 1 when the image cannot be
 * read or written or the card failed.
 */
export async function runEmulate(args: string[], io: EmulateIo): Promise<number> {
  let options: EmulateOptions;
  try {
    const parsed = parseEmulateArgs(args);
    if (parsed === 'help') {
      io.write(EMULATE_USAGE.trimEnd());
      return 0;
    }
    options = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.error(`desfire-pacs emulate: ${error.message}`);
    io.error(EMULATE_USAGE.trimEnd());
    return 2;
  }

  let image: unknown;
  if (options.image !== undefined && existsSync(options.image)) {
    if (options.newCardOptions.length > 0) {
      io.error(`desfire-pacs emulate: ${options.newCardOptions.join(', ')} describe a new card, but ${options.image} already holds one; drop them or use another --image file`);
      return 2;
    }
    try {
      image = JSON.parse(await readFile(options.image, 'utf8'));
    } catch (error) {
      io.error(`desfire-pacs emulate: cannot read the card image ${options.image}: ${message(error)}`);
      return 1;
    }
  }

  let card: EmulatedCard;
  try {
    card = io.createCard({ ...options.card, image });
  } catch (error) {
    io.error(`desfire-pacs emulate: cannot create the card: ${message(error)}`);
    return 1;
  }

  const address = formatVpcdAddress(options.vpcd);
  const source = image !== undefined ? `card from ${options.image}` : 'new card';
  io.write(`desfire-pacs emulate: ${source}, UID ${toHex(card.uid)}, in the vpcd reader at ${address} (Ctrl-C to stop)`);
  if (card.originalityPublicKey) io.write(`originality public key (secp224r1, for Read_Sig verifiers): ${toHex(card.originalityPublicKey)}`);
  const client = new VpcdClient(card, { ...io.vpcd, address: options.vpcd, onEvent: reporter(io) });
  const signals = io.stop === undefined ? stopSignals() : undefined;
  const stop = io.stop ?? signals!.signal;
  let failure: unknown;
  try {
    client.start();
    await Promise.race([aborted(stop), client.closed]);
  } catch (error) {
    failure = error;
  } finally {
    signals?.dispose();
    await client.close();
  }

  if (failure !== undefined) {
    io.error(`desfire-pacs emulate: the card failed: ${message(failure)}`);
    if (options.image !== undefined) io.error(`image not saved: ${options.image} is left as it was`);
    return 1;
  }
  if (options.image !== undefined) {
    try {
      await saveImage(options.image, card.exportImage());
    } catch (error) {
      io.error(`desfire-pacs emulate: cannot save the card image to ${options.image}: ${message(error)}`);
      return 1;
    }
    io.write(`card image saved to ${options.image}`);
  }
  io.write('stopped');
  return 0;
}

function parseEmulateArgs(args: string[]): EmulateOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        vpcd: { type: 'string' },
        image: { type: 'string' },
        uid: { type: 'string' },
        'random-uid': { type: 'boolean' },
        capacity: { type: 'string' },
        'tear-at': { type: 'string' },
        'delay-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(message(error));
  }
  if (values.help) return 'help';

  let vpcd = DEFAULT_VPCD_ADDRESS;
  if (values.vpcd !== undefined) {
    try {
      vpcd = parseVpcdAddress(values.vpcd);
    } catch (error) {
      throw new UsageError(`--vpcd ${message(error)}`);
    }
  }
  if (values.image === '') throw new UsageError('--image needs a file name');
  if (values.image !== undefined && !existsSync(dirname(resolve(values.image)))) {
    throw new UsageError(`--image ${values.image}: no directory ${dirname(resolve(values.image))} to save it in`);
  }

  let uid: Uint8Array | undefined;
  if (values.uid !== undefined) {
    try {
      uid = fromHex(values.uid);
    } catch {
      throw new UsageError(`--uid "${values.uid}" is not hex`);
    }
    if (uid.length !== UID_LENGTH) throw new UsageError(`--uid must be ${UID_LENGTH} bytes (${2 * UID_LENGTH} hex digits), got ${uid.length}`);
  }
  let capacity: Capacity | undefined;
  if (values.capacity !== undefined) {
    const wanted = values.capacity.toLowerCase();
    if (!isCapacity(wanted)) throw new UsageError(`--capacity must be one of ${CAPACITIES.join(', ')}, got "${values.capacity}"`);
    capacity = wanted;
  }
  const tearAt = values['tear-at'] === undefined ? undefined : parseNumber('--tear-at', values['tear-at'], { min: 1, integer: true });
  const answerDelayMs = values['delay-ms'] === undefined ? 0 : parseNumber('--delay-ms', values['delay-ms'], { min: 0, integer: false });

  const newCardOptions = [
    values.uid !== undefined ? '--uid' : undefined,
    values['random-uid'] ? '--random-uid' : undefined,
    values.capacity !== undefined ? '--capacity' : undefined,
  ].filter((name): name is string => name !== undefined);
  return {
    vpcd,
    image: values.image,
    card: { uid, randomUid: values['random-uid'] ?? false, capacity, tearAt, answerDelayMs },
    newCardOptions,
  };
}

function isCapacity(text: string): text is Capacity {
  return (CAPACITIES as readonly string[]).includes(text);
}

function parseNumber(option: string, text: string, rule: { min: number; integer: boolean }): number {
  const pattern = rule.integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  const value = pattern.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value < rule.min || (rule.integer && !Number.isSafeInteger(value))) {
    const what = rule.integer ? `an integer from ${rule.min}` : `a number of ms from ${rule.min}`;
    throw new UsageError(`${option} must be ${what}, got "${text}"`);
  }
  return value;
}

/** One line per event worth a tester's eye; ATR polls are not events. */
function reporter(io: EmulateIo): (event: VpcdEvent) => void {
  let cardLost = false;
  return (event) => {
    switch (event.type) {
      case 'connected':
        io.write(`card in the field of the vpcd reader at ${event.address} (UID ${toHex(event.uid)})`);
        break;
      case 'disconnected':
        io.write(`card out of the field: ${event.reason}`);
        break;
      case 'retrying':
        // After a lost card, the 'card-lost' line already said when it comes back.
        if (!cardLost) io.write(`vpcd: ${event.reason}; next attempt in ${event.inMs} ms`);
        cardLost = false;
        break;
      case 'power':
        io.write(`power ${event.action}`);
        break;
      case 'apdu':
        io.write(`  > ${toHex(event.command)}${event.by === 'reader' ? '  (answered by the reader)' : ''}`);
        io.write(`  < ${toHex(event.answer)}`);
        break;
      case 'card-lost':
        cardLost = true;
        io.write(`  > ${toHex(event.command)}`);
        io.write(`  < (no answer: ${event.reason}; the card leaves the field, back in ${event.backInMs} ms)`);
        break;
      case 'ignored':
        io.error(`vpcd sent ${toHex(event.message) || 'an empty message'}: ${event.reason}, ignored`);
        break;
      case 'connecting':
        break;
    }
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
