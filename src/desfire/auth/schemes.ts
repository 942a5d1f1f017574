import { assertBytes, concat } from '../bytes.js';
import { Cmac } from '../crypto/cmac.js';
import { createBlockCipher, type KeyType } from '../crypto/key-type.js';
import { authenticationError, lengthError } from '../errors.js';
import { D40Channel } from '../sm/d40-channel.js';
import { Ev1Channel } from '../sm/ev1-channel.js';
import { Ev2Channel } from '../sm/ev2-channel.js';
import { chainedLink, legacyLink, zeroIvLink } from './handshake-link.js';
import type { AnswerFields, AuthScheme } from './scheme.js';
import { ev2SessionKeys, sessionKeyFromRandoms } from './session-keys.js';

/** Authentication command codes. */
export const AuthCommand = {
  LEGACY: 0x0a,
  ISO: 0x1a,
  AES: 0xaa,
  EV2_FIRST: 0x71,
  EV2_NON_FIRST: 0x77,
} as const;

const CAPABILITY_LENGTH = 6;
const TI_LENGTH = 4;

function plainAnswer(rndARotated: Uint8Array): { plain: Uint8Array; fields: AnswerFields } {
  return { plain: rndARotated, fields: { rndARotated } };
}

/** Authenticate 0x0A with a DES or 2K3DES key; opens d40 secure messaging. */
export function legacyScheme(type: KeyType, key: Uint8Array): AuthScheme {
  if (type !== 'des' && type !== '2k3des') throw authenticationError(`Authenticate 0x0A takes DES or 2K3DES keys, not ${type}`);
  const cipher = createBlockCipher(type, key);
  return {
    command: AuthCommand.LEGACY,
    randomLength: 8,
    answerLength: 8,
    commandData: (keyNo) => Uint8Array.of(keyNo),
    newLink: () => legacyLink(cipher),
    answerPlain: plainAnswer,
    readAnswer: (plain) => ({ rndARotated: plain }),
    openChannel: (rndA, rndB) => new D40Channel(createBlockCipher(type, sessionKeyFromRandoms(type, rndA, rndB))),
  };
}

/**
 * AuthenticateISO 0x1A (DES, 2K3DES, 3K3DES) or AuthenticateAES 0xAA (AES), chosen by the
 * key type; opens EV1 secure messaging.
 */
export function ev1Scheme(type: KeyType, key: Uint8Array): AuthScheme {
  const cipher = createBlockCipher(type, key);
  const randomLength = type === 'des' || type === '2k3des' ? 8 : 16;
  return {
    command: type === 'aes' ? AuthCommand.AES : AuthCommand.ISO,
    randomLength,
    answerLength: randomLength,
    commandData: (keyNo) => Uint8Array.of(keyNo),
    newLink: () => chainedLink(cipher),
    answerPlain: plainAnswer,
    readAnswer: (plain) => ({ rndARotated: plain }),
    openChannel: (rndA, rndB) => new Ev1Channel(createBlockCipher(type, sessionKeyFromRandoms(type, rndA, rndB))),
  };
}

export interface Ev2FirstOptions {
  /** PCD capabilities sent with the command (0..6 bytes; the card echoes them zero-padded to 6). */
  readonly pcdCap2?: Uint8Array;
  /** Card side: the PD capabilities it reports (6 bytes, zeros by default). */
  readonly pdCap2?: Uint8Array;
}

/** The session an EV2 NonFirst authentication continues: its TI and command counter are kept. */
export interface Ev2Continuation {
  readonly ti: Uint8Array;
  readonly cmdCtr: number;
}

/**
 * AuthenticateEV2First 0x71 (new TI, counter 0) or, with `continuing`, AuthenticateEV2NonFirst 0x77
 * (TI and counter kept); AES keys only. Opens EV2 secure messaging (AN12196 §3).
 */
export function ev2Scheme(type: KeyType, key: Uint8Array, options: Ev2FirstOptions & { continuing?: Ev2Continuation } = {}): AuthScheme {
  if (type !== 'aes') throw authenticationError(`EV2 authentication takes AES keys, not ${type}`);
  const cipher = createBlockCipher('aes', key);
  const { continuing } = options;
  const pcdCap2 = options.pcdCap2 ?? new Uint8Array(0);
  const pdCap2 = options.pdCap2 ?? new Uint8Array(CAPABILITY_LENGTH);
  if (pcdCap2.length > CAPABILITY_LENGTH) throw lengthError(`PCDcap2 is at most ${CAPABILITY_LENGTH} bytes`);
  assertBytes(pdCap2, 'pdCap2', CAPABILITY_LENGTH);
  const open = (rndA: Uint8Array, rndB: Uint8Array, ti: Uint8Array, cmdCtr: number) => {
    const { encKey, macKey } = ev2SessionKeys(new Cmac(cipher), rndA, rndB);
    return new Ev2Channel({ ti, cmdCtr, sesAuthEncKey: encKey, sesAuthMacKey: macKey });
  };
  if (continuing) {
    return {
      command: AuthCommand.EV2_NON_FIRST,
      randomLength: 16,
      answerLength: 16,
      commandData: (keyNo) => Uint8Array.of(keyNo),
      newLink: () => zeroIvLink(cipher),
      answerPlain: plainAnswer,
      readAnswer: (plain) => ({ rndARotated: plain }),
      openChannel: (rndA, rndB) => open(rndA, rndB, continuing.ti, continuing.cmdCtr),
    };
  }
  const paddedPcdCap2 = concat(pcdCap2, new Uint8Array(CAPABILITY_LENGTH - pcdCap2.length));
  return {
    command: AuthCommand.EV2_FIRST,
    randomLength: 16,
    answerLength: 32,
    commandData: (keyNo) => concat(Uint8Array.of(keyNo, pcdCap2.length), pcdCap2),
    newLink: () => zeroIvLink(cipher),
    answerPlain: (rndARotated, random) => {
      const ti = random(TI_LENGTH);
      return {
        plain: concat(ti, rndARotated, pdCap2, paddedPcdCap2),
        fields: { rndARotated, ti, pdCap2, pcdCap2: paddedPcdCap2 },
      };
    },
    // TI (4) || RndA' (16) || PDcap2 (6) || PCDcap2 (6)
    readAnswer: (plain) => ({
      ti: plain.slice(0, 4),
      rndARotated: plain.slice(4, 20),
      pdCap2: plain.slice(20, 26),
      pcdCap2: plain.slice(26, 32),
    }),
    openChannel: (rndA, rndB, { ti }) => {
      if (!ti) throw new Error('EV2 First answer without TI');
      return open(rndA, rndB, ti, 0);
    },
  };
}
