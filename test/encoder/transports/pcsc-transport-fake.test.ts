import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/desfire/bytes.js';
import { TransportError } from '../../../src/encoder/transport-error.js';
import { unavailableFromLoadError, type NfcPcscCardEvent, type NfcPcscReader } from '../../../src/encoder/transports/nfc-pcsc-module.js';
import { checkPcscd } from '../../../src/encoder/transports/pcscd-socket.js';
import type { PcscBackend } from '../../../src/encoder/transports/pcsc-context.js';
import { chooseReader, listPcscReaders, PcscTransport, PcscUnavailableError } from '../../../src/encoder/transports/index.js';

/**
 * PcscTransport over a fake nfc-pcsc (same events and calls as nfc-pcsc 0.8), so what it does with
 * readers, cards, answers and failures is checked on any machine. The real stack is in
 * pcsc-transport.test.ts.
 */

const ATR = '3b8180018080';

class FakeReader extends EventEmitter implements NfcPcscReader {
  autoProcessing = true;
  connection: { protocol: number } | null = null;
  /** The @pokusew/pcsclite reader: 'status' once its status thread runs. */
  readonly reader = new EventEmitter();
  threadRunning = false;
  closed = false;
  /** Closed before its status thread ran: the real one then leaves a libuv handle open for good. */
  leaked = false;
  disconnects = 0;
  readonly sent: string[] = [];
  /** Answers by APDU (hex); an Error is thrown as nfc-pcsc's TransmitError around it. */
  answers: Record<string, string | Error> = { ffca000000: '04a1b2c3d4e5f69000' };

  constructor(readonly name: string) {
    super();
  }

  /**
   * True while a status event is being delivered: @pokusew/pcsclite holds the reader's mutex until
   * the promise jobs queued by the listeners have run, so close() then would block for good.
   */
  inStatusCallback = false;
  deadlocked = false;

  insert(atr = ATR): void {
    this.connection = { protocol: 2 };
    this.#statusEvent('card', { atr: Buffer.from(atr, 'hex') } satisfies NfcPcscCardEvent);
  }

  remove(): void {
    this.#statusEvent('card.off', {});
    this.connection = null;
  }

  #statusEvent(event: 'card' | 'card.off', card: NfcPcscCardEvent): void {
    this.inStatusCallback = true;
    this.emit(event, card);
    setImmediate(() => (this.inStatusCallback = false)); // promise jobs run first
  }

  transmit(data: Buffer, _max: number): Promise<Buffer> {
    if (!this.connection) throw Object.assign(new Error('No card or connection available.'), { code: 'card_not_connected' });
    const apdu = toHex(data);
    this.sent.push(apdu);
    const answer = this.answers[apdu] ?? '911c';
    if (answer instanceof Error) return Promise.reject(Object.assign(new Error('An error occurred while transmitting.'), { previous: answer }));
    return Promise.resolve(Buffer.from(answer, 'hex'));
  }

  disconnect(): Promise<boolean> {
    if (!this.connection) throw new Error('Reader in not connected. No need for disconnecting.');
    this.disconnects++;
    this.connection = null;
    return Promise.resolve(true);
  }

  close(): void {
    if (this.inStatusCallback) {
      this.deadlocked = true; // the real one never returns
      throw new Error('deadlock: CardReader.close() while its status callback holds the mutex');
    }
    if (this.closed) return;
    this.closed = true;
    if (!this.threadRunning) this.leaked = true;
    setImmediate(() => this.emit('end'));
  }
}

class FakeNfc extends EventEmitter {
  static last: FakeNfc | undefined;
  readonly fakes = new Map<string, FakeReader>();
  closed = false;

  constructor() {
    super();
    FakeNfc.last = this;
  }

  /** A reader appears (nfc-pcsc announces the whole list in one turn of the loop). */
  add(...names: string[]): FakeReader[] {
    return names.map((name) => {
      const reader = new FakeReader(name);
      this.fakes.set(name, reader);
      this.emit('reader', reader);
      setTimeout(() => {
        reader.threadRunning = true;
        reader.reader.emit('status');
      }, 5);
      return reader;
    });
  }

  close(): void {
    this.closed = true;
  }
}

/** A backend whose context announces `names` right after it is made. */
function fakeBackend(names: string[] = ['ACS ACR1252 1S CL Reader PICC 0', 'ACS ACR1252 1S CL Reader SAM 0']): PcscBackend {
  return {
    checkService: async () => {},
    load: async () => ({
      NFC: class extends FakeNfc {
        constructor() {
          super();
          setImmediate(() => this.add(...names));
        }
      },
    }),
  };
}

async function openFake(name = 'PICC', names?: string[]): Promise<{ transport: PcscTransport; nfc: FakeNfc; reader: FakeReader }> {
  const transport = await PcscTransport.open(name, { backend: fakeBackend(names), timeoutMs: 1000 });
  const nfc = FakeNfc.last!;
  return { transport, nfc, reader: nfc.fakes.get(transport.readerName)! };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Every reader's status thread stopped, none before it ran, and the reader-list thread too. */
function expectAllClosed(nfc: FakeNfc): void {
  expect(nfc.closed).toBe(true);
  for (const reader of nfc.fakes.values()) expect({ name: reader.name, closed: reader.closed, leaked: reader.leaked }).toEqual({ name: reader.name, closed: true, leaked: false });
}

describe('choosing a reader by name', () => {
  const readers = ['ACS ACR122U PICC Interface 00 00', 'Virtual PCD 00 00', 'Virtual PCD 00 01'];
  it.each([
    ['Virtual PCD 00 01', { kind: 'one', name: 'Virtual PCD 00 01' }],
    ['acr122', { kind: 'one', name: 'ACS ACR122U PICC Interface 00 00' }],
    ['PCD 00 00', { kind: 'one', name: 'Virtual PCD 00 00' }],
    ['virtual', { kind: 'ambiguous', matches: ['Virtual PCD 00 00', 'Virtual PCD 00 01'] }],
    ['Omnikey', { kind: 'none' }],
  ])('%s', (wanted, choice) => {
    expect(chooseReader(readers, wanted)).toEqual(choice);
  });
  it('an exact name wins over a longer name containing it', () => {
    expect(chooseReader(['Reader', 'Reader 2'], 'Reader')).toEqual({ kind: 'one', name: 'Reader' });
  });
});

describe('PC/SC unavailable', () => {
  it('nfc-pcsc left out by npm (its addon did not build): says what to install, then npm install', () => {
    const error = unavailableFromLoadError(
      Object.assign(new Error("Cannot find package 'nfc-pcsc' imported from /x/nfc-pcsc-module.js"), { code: 'ERR_MODULE_NOT_FOUND' }),
    );
    expect(error).toBeInstanceOf(PcscUnavailableError);
    expect(error.missing).toBe('nfc-pcsc');
    expect(error.message).toMatch(/^PC\/SC is unavailable: the optional dependency nfc-pcsc is not installed .*install libpcsclite-dev and pcscd .*, then npm install$/);
  });

  it('the native addon not built: says what to install, then npm rebuild @pokusew/pcsclite', () => {
    const error = unavailableFromLoadError(new Error('Could not locate the bindings file. Tried:\n → /x/build/pcsclite.node\n → /x/build/Debug/pcsclite.node'));
    expect(error.missing).toBe('native-addon');
    expect(error.message).toMatch(/^PC\/SC is unavailable: .*\(Could not locate the bindings file\. Tried:\); install libpcsclite-dev and pcscd .*, then npm rebuild @pokusew\/pcsclite$/);
    expect(error.message).not.toContain('\n');
  });

  it('the transport reports a module that does not load, and makes no context', async () => {
    const backend: PcscBackend = {
      checkService: async () => {},
      load: async () => {
        throw unavailableFromLoadError(new Error('libpcsclite.so.1: cannot open shared object file: No such file or directory'));
      },
    };
    await expect(PcscTransport.open('any', { backend })).rejects.toThrow(/^PC\/SC is unavailable: the PC\/SC library is missing/);
    await expect(listPcscReaders({ backend })).rejects.toBeInstanceOf(PcscUnavailableError);
  });

  it.skipIf(process.platform === 'darwin' || process.platform === 'win32')('pcscd not answering on its socket is found before nfc-pcsc would wait for it forever', async () => {
    const env = { PCSCLITE_CSOCK_NAME: '/nonexistent/pcscd.comm' };
    const failure = checkPcscd({ env });
    await expect(failure).rejects.toBeInstanceOf(PcscUnavailableError);
    await expect(failure).rejects.toThrow('PC/SC is unavailable: pcscd does not answer on /nonexistent/pcscd.comm (ENOENT): start it');
  });
});

describe('PcscTransport over a fake nfc-pcsc', () => {
  it('lists the readers', async () => {
    expect(await listPcscReaders({ backend: fakeBackend() })).toEqual(['ACS ACR1252 1S CL Reader PICC 0', 'ACS ACR1252 1S CL Reader SAM 0']);
    expectAllClosed(FakeNfc.last!); // closed as soon as listed, yet each after its status thread started
  });

  it('picks a reader by part of its name, turns nfc-pcsc autoProcessing off on every reader and stops watching the others', async () => {
    const { transport, nfc, reader } = await openFake('picc');
    expect(transport.readerName).toBe('ACS ACR1252 1S CL Reader PICC 0');
    const sam = nfc.fakes.get('ACS ACR1252 1S CL Reader SAM 0')!;
    expect([reader.autoProcessing, sam.autoProcessing]).toEqual([false, false]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([reader.closed, sam.closed, sam.leaked]).toEqual([false, true, false]);
    await transport.close();
    expectAllClosed(nfc);
  });

  it('refuses a name matching no reader or several, naming the readers, and lets go of PC/SC', async () => {
    await expect(PcscTransport.open('Omnikey', { backend: fakeBackend(), timeoutMs: 50 })).rejects.toThrow(
      new TransportError('no PC/SC reader matches "Omnikey" within 50 ms (readers: "ACS ACR1252 1S CL Reader PICC 0", "ACS ACR1252 1S CL Reader SAM 0")'),
    );
    expectAllClosed(FakeNfc.last!);
    await expect(PcscTransport.open('ACR1252', { backend: fakeBackend() })).rejects.toThrow(
      'PC/SC reader name "ACR1252" matches 2 readers: "ACS ACR1252 1S CL Reader PICC 0", "ACS ACR1252 1S CL Reader SAM 0"; give more of the name',
    );
    expectAllClosed(FakeNfc.last!);
    await expect(PcscTransport.open('any', { backend: fakeBackend([]), timeoutMs: 50 })).rejects.toThrow('(readers: none)');
  });

  it('waits for a reader plugged in later', async () => {
    const opening = PcscTransport.open('ACR122', { backend: fakeBackend([]), timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    FakeNfc.last!.add('ACS ACR122U PICC Interface 00 00');
    const transport = await opening;
    expect(transport.readerName).toBe('ACS ACR122U PICC Interface 00 00');
    await transport.close();
  });

  it('a card: UID from Get Data (answered by the reader), ATR; APDUs go out and come back raw, 91AF included', async () => {
    const { transport, reader } = await openFake();
    expect(transport.card).toBeUndefined();
    reader.answers['9060000000'] = '0401013300160591af';
    reader.insert();
    const presence = await transport.waitForCard({ timeoutMs: 1000 });
    expect(presence).toEqual({ uid: fromHex('04a1b2c3d4e5f6'), atr: fromHex(ATR) });
    expect(presence.uid).not.toBeInstanceOf(Buffer);
    expect(transport.card).toBe(presence);
    const answer = await transport.transceive(fromHex('9060000000'));
    expect(toHex(answer)).toBe('0401013300160591af');
    expect(answer).not.toBeInstanceOf(Buffer);
    expect(reader.sent).toEqual(['ffca000000', '9060000000']); // nothing else: no SELECT, no GET RESPONSE
    await transport.close();
    expect(reader.disconnects).toBe(1);
  });

  it('an empty answer (card pulled mid-command) is a TransportError; nothing goes through until a card is taken again', async () => {
    const { transport, reader } = await openFake();
    reader.answers['903d000000'] = '';
    reader.answers['9060000000'] = '91af';
    reader.insert();
    await transport.waitForCard();
    await expect(transport.transceive(fromHex('903d000000'))).rejects.toThrow(
      new TransportError('empty answer from PC/SC reader "ACS ACR1252 1S CL Reader PICC 0": the card left the field or lost power mid-command'),
    );
    expect(transport.card).toBeUndefined();
    await expect(transport.transceive(fromHex('9060000000'))).rejects.toThrow('the card left PC/SC reader "ACS ACR1252 1S CL Reader PICC 0" or lost power');
    const next = transport.waitForCard({ timeoutMs: 1000 });
    reader.remove();
    reader.answers.ffca000000 = '04d0d0d0d0d0d09000';
    reader.insert();
    expect(toHex((await next).uid)).toBe('04d0d0d0d0d0d0');
    expect(toHex(await transport.transceive(fromHex('9060000000')))).toBe('91af');
    await transport.close();
  });

  it('a card swapped between two commands is not talked to until waitForCard takes it', async () => {
    const { transport, reader } = await openFake();
    reader.insert();
    await transport.waitForCard();
    reader.remove();
    reader.insert();
    await tick();
    await expect(transport.transceive(fromHex('9060000000'))).rejects.toBeInstanceOf(TransportError);
    await transport.waitForCard();
    expect(toHex(await transport.transceive(fromHex('9060000000')))).toBe('911c');
    await transport.close();
  });

  it('closing as soon as a card is removed waits until nfc-pcsc\'s status callback is over', async () => {
    const { transport, reader } = await openFake();
    reader.insert();
    await transport.waitForCard();
    const removed = transport.waitForRemoval().then(() => transport.close());
    reader.remove();
    await removed;
    expect(reader.deadlocked).toBe(false);
    expect(reader.closed).toBe(true);
  });

  it('transmit failures are TransportErrors carrying the PC/SC error', async () => {
    const { transport, reader } = await openFake();
    const removed = new Error('SCardTransmit error: Card was removed.(0x80100069)');
    reader.answers['9060000000'] = removed;
    reader.insert();
    await transport.waitForCard();
    const failure = transport.transceive(fromHex('9060000000'));
    await expect(failure).rejects.toThrow(new TransportError('PC/SC transmit to "ACS ACR1252 1S CL Reader PICC 0" failed: SCardTransmit error: Card was removed.(0x80100069)'));
    await expect(failure).rejects.toMatchObject({ cause: { previous: removed } });
    await transport.close();
  });

  it('a reader that gives no UID, a reader unplugged, and a closed transport fail the wait', async () => {
    const noUid = await openFake();
    noUid.reader.answers.ffca000000 = '6a81';
    noUid.reader.insert();
    await expect(noUid.transport.waitForCard()).rejects.toThrow('gave no UID for the card (Get Data FF CA answered 6a81)');
    await noUid.transport.close();

    const unplugged = await openFake();
    const waiting = unplugged.transport.waitForCard();
    unplugged.reader.emit('error', new Error('SCardGetStatusChange error: Unknown reader specified.(0x80100009)'));
    unplugged.reader.emit('end');
    await expect(waiting).rejects.toThrow('PC/SC reader "ACS ACR1252 1S CL Reader PICC 0" is gone (SCardGetStatusChange error: Unknown reader specified.(0x80100009))');
    await unplugged.transport.close();

    const closing = await openFake();
    await closing.transport.waitForRemoval(); // the slot is empty
    const stillWaiting = expect(closing.transport.waitForCard()).rejects.toThrow('is closed');
    await closing.transport.close();
    await closing.transport.close(); // idempotent
    await stillWaiting;
    await expect(closing.transport.transceive(fromHex('9060000000'))).rejects.toThrow('is closed');
    expectAllClosed(closing.nfc);
  });

  it('a wait times out, or stops with the signal\'s reason', async () => {
    const { transport } = await openFake();
    await expect(transport.waitForCard({ timeoutMs: 20 })).rejects.toThrow('no card in PC/SC reader "ACS ACR1252 1S CL Reader PICC 0" within 20 ms');
    const controller = new AbortController();
    const waiting = transport.waitForCard({ signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    await expect(transport.waitForCard({ signal: AbortSignal.abort(new Error('station stopped')) })).rejects.toThrow('station stopped');
    await transport.close();
  });
});
