import { concat, fromHex, readUintLE } from '../../../src/desfire/bytes.js';
import { cardDiversificationInput, diversifyAes128 } from '../../../src/desfire/crypto/an10922.js';
import { Cmac } from '../../../src/desfire/crypto/cmac.js';
import { createBlockCipher } from '../../../src/desfire/crypto/key-type.js';
import type { CredentialVerdict, DoorConfig, ReadKeyCandidate } from '../../../src/encoder/door/authenticator.js';
import type { CardKeys, CardLayout } from '../../../src/encoder/personalize/card-layout.js';

/**
 * A hand-made layout and key sets for personalization and door tests (the generic profile builds
 * the same kind of layout from its file). Credential: 8 bytes valid-from and 8 bytes valid-to
 * (seconds since 1970, LSB first), then 16 bytes of card number text.
 */
export const AID = 0xf52a01;
export const SYSTEM_ID = new TextEncoder().encode('pacs-v1');
export const CREDENTIAL_FILE = 1;
export const CREDENTIAL_LENGTH = 32;

export interface KeySet {
  readonly name: string;
  readonly picc: Uint8Array;
  readonly application: readonly Uint8Array[];
}

export const OURS: KeySet = {
  name: 'ours',
  picc: fromHex('0f0e0d0c0b0a09080706050403020100'),
  application: [fromHex('00112233445566778899aabbccddeeff'), fromHex('101112131415161718191a1b1c1d1e1f'), fromHex('202122232425262728292a2b2c2d2e2f')],
};
export const OTHER: KeySet = {
  name: 'other',
  picc: fromHex('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf'),
  application: [fromHex('b0b1b2b3b4b5b6b7b8b9babbbcbdbebf'), fromHex('c0c1c2c3c4c5c6c7c8c9cacbcccdcecf'), fromHex('d0d1d2d3d4d5d6d7d8d9dadbdcdddedf')],
};

function diversify(master: Uint8Array, uid: Uint8Array, aid: number): Uint8Array {
  return diversifyAes128(new Cmac(createBlockCipher('aes', master)), cardDiversificationInput(uid, aid, SYSTEM_ID));
}

export function cardKeys(set: KeySet, uid: Uint8Array): CardKeys {
  return { picc: diversify(set.picc, uid, 0), application: set.application.map((m) => diversify(m, uid, AID)) };
}

function seconds(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return out;
}

export function credential(cardNumber: string, validFrom: Date, validTo: Date): Uint8Array {
  const number = new Uint8Array(16);
  number.set(new TextEncoder().encode(cardNumber).subarray(0, 16));
  return concat(seconds(validFrom.getTime() / 1000), seconds(validTo.getTime() / 1000), number);
}

export function layout(content: Uint8Array): CardLayout {
  return {
    piccKeyVersion: 1,
    piccKeySettings: 0x09,
    application: { aid: AID, keySettings: 0x00, keyVersions: [1, 1, 1] },
    files: [{ fileNo: CREDENTIAL_FILE, kind: 'standard', commMode: 'full', access: { read: 1, write: 2, readWrite: 0xf, change: 0 }, size: CREDENTIAL_LENGTH, content }],
  };
}

export function checkCredential(content: Uint8Array, now: Date): CredentialVerdict<{ cardNumber: string }> {
  if (content.length !== CREDENTIAL_LENGTH) return { ok: false, reason: 'credential-invalid', detail: 'wrong length' };
  const from = readUintLE(content, 0, 6) * 1000;
  const to = readUintLE(content, 8, 6) * 1000;
  if (now.getTime() < from) return { ok: false, reason: 'not-yet-valid', detail: 'not yet valid' };
  if (now.getTime() > to) return { ok: false, reason: 'expired', detail: 'expired' };
  const text = content.subarray(16);
  return { ok: true, fields: { cardNumber: new TextDecoder().decode(text.subarray(0, text.indexOf(0) < 0 ? 16 : text.indexOf(0))) } };
}

/** A door that accepts `accepted` key sets and knows `known` others. */
export function doorConfig(options: { accepted: KeySet[]; known?: KeySet[]; proximityCheck?: boolean; trusted?: Uint8Array[]; now?: Date }): DoorConfig<{ cardNumber: string }> {
  return {
    aid: AID,
    readKeyNo: 1,
    credentialFileNo: CREDENTIAL_FILE,
    credentialLength: CREDENTIAL_LENGTH,
    policy: { proximityCheck: options.proximityCheck ? 'ev3' : 'never', minKeyVersion: 1, proximityToleranceNs: 20_000_000n, trustedOriginalityKeys: options.trusted },
    readKeys: (uid): ReadKeyCandidate[] => [
      ...options.accepted.map((set) => ({ keySet: set.name, key: cardKeys(set, uid).application[1], accepted: true })),
      ...(options.known ?? []).map((set) => ({ keySet: set.name, key: cardKeys(set, uid).application[1], accepted: false })),
    ],
    checkCredential,
    now: () => options.now ?? new Date('2027-06-01T00:00:00Z'),
  };
}

