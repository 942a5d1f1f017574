import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { CardSlot, type SlotReply, type VpcdEvent } from '../../src/emulator/vpcd/index.js';
import { STUB_ATR, StubCard } from '../support/stub-card.js';

function slotWith(card: StubCard) {
  const events: VpcdEvent[] = [];
  const slot = new CardSlot(card, (event) => events.push(event));
  const send = (hex: string): SlotReply => slot.handle(fromHex(hex));
  const answer = (hex: string): string => {
    const reply = send(hex);
    if (reply.kind !== 'answer') throw new Error(`expected an answer to ${hex}, got ${reply.kind}`);
    return toHex(reply.bytes);
  };
  return { slot, events, send, answer };
}

describe('a card in a vpcd reader slot', () => {
  it('is powered when it enters the field; ATR requests never touch the card', () => {
    const card = new StubCard();
    const { slot, answer } = slotWith(card);
    slot.insert();
    expect(answer('04')).toBe(STUB_ATR);
    expect(answer('04')).toBe(STUB_ATR);
    expect(card.log).toEqual(['powerOn']);
  });

  it('follows pcscd power control: on (no answer), off, on again, reset', () => {
    const card = new StubCard();
    const { slot, send, answer, events } = slotWith(card);
    slot.insert();
    expect(send('01')).toEqual({ kind: 'none' });
    expect(send('00')).toEqual({ kind: 'none' });
    expect(card.powered).toBe(false);
    expect(answer('04')).toBe(STUB_ATR); // still in the field: pcscd's presence poll sees it
    expect(send('01')).toEqual({ kind: 'none' });
    expect(send('02')).toEqual({ kind: 'none' });
    expect(card.log).toEqual(['powerOn', 'powerOff', 'powerOn', 'powerOff', 'powerOn']);
    expect(events.map((e) => (e.type === 'power' ? e.action : e.type))).toEqual(['on', 'off', 'on', 'reset']);
  });

  it('passes APDUs to the card with its answer delay', () => {
    const card = new StubCard({ answers: { '9060000000': '0401013300160591af' }, answerDelayMs: 25 });
    const { slot, send } = slotWith(card);
    slot.insert();
    const reply = send('9060000000');
    expect(reply).toEqual({ kind: 'answer', bytes: fromHex('0401013300160591af'), delayMs: 25 });
  });

  it('answers FF CA itself, without delay and without the card seeing it', () => {
    const card = new StubCard({ uid: '04112233445566', answerDelayMs: 25 });
    const { slot, send, events } = slotWith(card);
    slot.insert();
    expect(send('ffca000000')).toEqual({ kind: 'answer', bytes: fromHex('041122334455669000'), delayMs: 0 });
    expect(card.log).toEqual(['powerOn']);
    expect(events).toEqual([{ type: 'apdu', by: 'reader', command: fromHex('ffca000000'), answer: fromHex('041122334455669000') }]);
  });

  it('a power loss is a lost card: no answer, and the card is not powered off again', () => {
    const card = new StubCard({ tearOn: ['903d000000'] });
    const { slot, send, answer } = slotWith(card);
    slot.insert();
    expect(send('903d000000')).toEqual({ kind: 'card-lost', reason: 'power lost (stub tear)' });
    expect(slot.powered).toBe(false);
    slot.remove();
    expect(card.log).toEqual(['powerOn', '> 903d000000', 'power lost']);
    expect(answer('04')).toBe(''); // what vpcd reads as "no card"
  });

  it('a command to an unpowered card gets no answer either', () => {
    const card = new StubCard();
    const { slot, send } = slotWith(card);
    slot.insert();
    send('00');
    expect(send('9060000000')).toEqual({ kind: 'card-lost', reason: 'command to an unpowered card' });
    expect(card.log).toEqual(['powerOn', 'powerOff']);
  });

  it('takes a 1-byte message that is not a control code for a command (native GetVersion, 60)', () => {
    const card = new StubCard({ answers: { '60': '0401013300160591af', af: '9100' } });
    const { slot, answer } = slotWith(card);
    slot.insert();
    expect(answer('60')).toBe('0401013300160591af');
    expect(answer('af')).toBe('9100');
    expect(card.log).toEqual(['powerOn', '> 60', '> af']);
  });

  it('ignores an empty message (vpcd sends none)', () => {
    const { slot, send, events } = slotWith(new StubCard());
    slot.insert();
    expect(send('')).toEqual({ kind: 'none' });
    expect(events).toEqual([{ type: 'ignored', message: new Uint8Array(0), reason: 'empty message' }]);
  });

  it('lets any other card error through: it is a bug', () => {
    const { slot, send } = slotWith(new StubCard({ failWith: new TypeError('handler bug') }));
    slot.insert();
    expect(() => send('9060000000')).toThrow('handler bug');
  });
});
