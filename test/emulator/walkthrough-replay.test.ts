import { describe, expect, it } from 'vitest';
import { EMPTY, toHex } from '../../src/desfire/bytes.js';
import { scriptedRandom } from '../../src/desfire/random.js';
import { factoryState } from '../../src/emulator/factory.js';
import type { KeySlot } from '../../src/emulator/model.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { hex, loadVectors, text, type Vector } from '../support/vectors.js';

// The card end of the published EV2 authentication walk-throughs: a virtual card holding the
// document's key, with RndB and TI scripted, must answer the published APDUs with the published bytes.

const AID = 0x0000a1;

function cardWithKey(keyNo: number, key: Uint8Array, random: Uint8Array[]): VirtualCard {
  const picc = factoryState({ uid: Uint8Array.of(4, 1, 2, 3, 4, 5, 6) });
  const keys: KeySlot[] = Array.from({ length: Math.max(keyNo + 1, 5) }, () => ({ key: new Uint8Array(16), version: 0 }));
  keys[keyNo] = { key, version: 0 };
  picc.applications.set(AID, { aid: AID, keySettings: 0x0f, keyType: 'aes', keys, files: new Map() });
  const card = new VirtualCard(picc, { random: scriptedRandom(...random) });
  card.powerOn();
  expect(toHex(card.transceive(Uint8Array.of(0x90, 0x5a, 0, 0, 3, AID, 0, 0, 0)))).toBe('9100');
  return card;
}

describe.each(['an12196-ev2.json', 'an12343-ev2.json'])('%s on the virtual card', (file) => {
  const firsts = loadVectors(file).vectors.filter((v) => v.type === 'authenticateEV2First');
  it.each(firsts)('$name: the card answers the published bytes', (v: Vector) => {
    const keyNo = parseInt(text(v, 'keyNo'), 16);
    const card = cardWithKey(keyNo, hex(v, 'key'), [hex(v, 'rndB'), hex(v, 'ti')]);
    expect(toHex(card.transceive(hex(v, 'part1Command')))).toBe(text(v, 'part1Response'));
    expect(toHex(card.transceive(hex(v, 'part2Command')))).toBe(text(v, 'part2Response'));
  });
});

describe('AN12196 AuthenticateEV2NonFirst on the virtual card', () => {
  it('continues the session of AuthenticateEV2First with key 0x03 and answers the published bytes', () => {
    const vectors = loadVectors('an12196-ev2.json').vectors;
    const first = vectors.find((v) => v.name === 'AuthenticateEV2First with key 0x03') as Vector;
    const nonFirst = vectors.find((v) => v.type === 'authenticateEV2NonFirst') as Vector;
    expect(text(nonFirst, 'ti')).toBe(text(first, 'ti'));
    const card = cardWithKey(3, hex(first, 'key'), [hex(first, 'rndB'), hex(first, 'ti'), hex(nonFirst, 'rndB'), EMPTY]);
    card.transceive(hex(first, 'part1Command'));
    expect(toHex(card.transceive(hex(first, 'part2Command')))).toBe(text(first, 'part2Response'));
    const challenge = card.transceive(hex(nonFirst, 'part1Command'));
    expect(toHex(challenge)).toBe(text(nonFirst, 'encRndB') + '91af');
    expect(toHex(card.transceive(hex(nonFirst, 'part2Command')))).toBe(text(nonFirst, 'part2Response'));
  });
});
