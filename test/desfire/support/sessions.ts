import { CardAuthentication, ReaderAuthentication } from '../../../src/desfire/auth/handshake.js';
import type { AuthScheme } from '../../../src/desfire/auth/scheme.js';
import { ev1Scheme, ev2Scheme, legacyScheme } from '../../../src/desfire/auth/schemes.js';
import { keyLength, type KeyType } from '../../../src/desfire/crypto/key-type.js';
import { systemRandom, type RandomSource } from '../../../src/desfire/random.js';
import type { SecureChannel } from '../../../src/desfire/sm/secure-channel.js';

/** Every authentication a card offers, as (name, key type, scheme factory). */
export const AUTH_VARIANTS: readonly { name: string; keyType: KeyType; scheme: (key: Uint8Array) => AuthScheme }[] = [
  { name: 'd40 DES (0x0A)', keyType: 'des', scheme: (k) => legacyScheme('des', k) },
  { name: 'd40 2K3DES (0x0A)', keyType: '2k3des', scheme: (k) => legacyScheme('2k3des', k) },
  { name: 'EV1 ISO DES (0x1A)', keyType: 'des', scheme: (k) => ev1Scheme('des', k) },
  { name: 'EV1 ISO 2K3DES (0x1A)', keyType: '2k3des', scheme: (k) => ev1Scheme('2k3des', k) },
  { name: 'EV1 ISO 3K3DES (0x1A)', keyType: '3k3des', scheme: (k) => ev1Scheme('3k3des', k) },
  { name: 'EV1 AES (0xAA)', keyType: 'aes', scheme: (k) => ev1Scheme('aes', k) },
  { name: 'EV2 First AES (0x71)', keyType: 'aes', scheme: (k) => ev2Scheme('aes', k) },
];

export function randomKey(type: KeyType): Uint8Array {
  return systemRandom(keyLength(type));
}

/** Runs the whole handshake between a reader and a card end; returns both channels. */
export function authenticatePair(
  readerScheme: AuthScheme,
  cardScheme: AuthScheme,
  random: RandomSource = systemRandom,
): { reader: SecureChannel; card: SecureChannel } {
  const reader = new ReaderAuthentication(readerScheme, random);
  const card = new CardAuthentication(cardScheme, random);
  const { answer, channel } = card.verifyToken(reader.answerChallenge(card.challenge()));
  return { reader: reader.finish(answer), card: channel };
}

/**
 * Key and random numbers taken from `material` (cycled), so that a property test with a fixed
 * seed is fully deterministic: session keys included.
 */
export function fromMaterial(keyType: KeyType, material: Uint8Array): { key: Uint8Array; random: RandomSource } {
  const key = material.slice(0, keyLength(keyType));
  let offset = key.length;
  const random: RandomSource = (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = material[offset++ % material.length] ^ (offset >> 8);
    return out;
  };
  return { key, random };
}
