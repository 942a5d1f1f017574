import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/desfire/commands.js';
import { exportImage, importImage } from '../../src/emulator/image.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { factoryState } from '../../src/emulator/factory.js';
import { brokenInvariants } from './support/invariants.js';

// Random bytes at the card: it must answer every frame (never throw), keep its invariants, and its
// image must always reload to an equal card.

const codes = COMMANDS.map((c) => c.code);
const frame = fc.oneof(
  fc.uint8Array({ maxLength: 70 }),
  // A known command code with random data, native.
  fc.tuple(fc.constantFrom(...codes, 0xaf), fc.uint8Array({ maxLength: 64 })).map(([cmd, data]) => Uint8Array.of(cmd, ...data)),
  // The same ISO-wrapped, with a correct or a random Lc.
  fc
    .tuple(fc.constantFrom(...codes, 0xaf), fc.uint8Array({ maxLength: 50 }), fc.boolean(), fc.nat(255))
    .map(([cmd, data, honest, lc]) => Uint8Array.of(0x90, cmd, 0, 0, honest ? data.length : lc, ...data, 0)),
  // ISO 7816-4 commands.
  fc.tuple(fc.constantFrom(0xa4, 0xb0, 0xd6, 0xb2, 0xe2, 0x84, 0x82, 0x88), fc.uint8Array({ maxLength: 30 })).map(([ins, rest]) => Uint8Array.of(0x00, ins, ...rest)),
);

describe('random frames at the virtual card', () => {
  it('are always answered, never break invariants, and the image always reloads equal', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 60 }), (frames) => {
        const card = new VirtualCard(factoryState());
        card.powerOn();
        for (const f of frames) {
          const answer = card.transceive(f);
          expect(answer.length).toBeGreaterThan(0);
        }
        expect(brokenInvariants(card.state)).toEqual([]);
        const image = JSON.parse(JSON.stringify(exportImage(card.state)));
        expect(exportImage(importImage(image))).toEqual(image);
      }),
      { numRuns: 300 },
    );
  });
});
