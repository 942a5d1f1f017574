import { randomBytes } from 'node:crypto';

/**
 * Where a protocol end takes its random numbers (RndA, RndB, TI, proximity-check randoms).
 * Never a constant: tests that must replay published walk-throughs script it instead.
 */
export type RandomSource = (length: number) => Uint8Array;

export const systemRandom: RandomSource = (length) => new Uint8Array(randomBytes(length));

/**
 * Serves bytes from a fixed queue, in order, so published walk-throughs replay byte for byte.
 * Running dry is a test-setup mistake and throws a plain Error, never a protocol error.
 */
export function scriptedRandom(...chunks: Uint8Array[]): RandomSource & { readonly remaining: () => number } {
  const queue: number[] = chunks.flatMap((c) => Array.from(c));
  const take = (length: number): Uint8Array => {
    if (length > queue.length) throw new Error(`scripted random source has ${queue.length} bytes left, ${length} asked`);
    return Uint8Array.from(queue.splice(0, length));
  };
  return Object.assign(take, { remaining: () => queue.length });
}
