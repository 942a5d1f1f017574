import { assertBytes, concat, uintLE, wipe } from '../desfire/bytes.js';
import { Cmac } from '../desfire/crypto/cmac.js';
import { createBlockCipher } from '../desfire/crypto/key-type.js';
import { truncateMac } from '../desfire/sm/ev2-channel.js';
import { FileType, type Application, type TransactionMacFile } from './model.js';

/**
 * The Transaction MAC (TMAC) of DESFire EV2/EV3, AES mode, as the card computes it.
 *
 * Public sources: NXP's MIFARE DESFire Light data sheet MF2DL(H)x0 §10.3 (the EV3 secured data
 * sheet is under NDA; NXP support confirmed this in 2026 on community.nxp.com, thread "DESFire EV3
 * Transaction MAC Input (TMI) construction"), read as quoted in the public README of
 * MichaelsPlayground/TalkToYourDESFireCard, and Proxmark3 `DesfireGenTransSessionKeyEV2` /
 * `DesfireDecodePrevReaderID` (client/src/mifare/desfirecrypto.c), which build the same vectors:
 *
 * - session keys (NIST SP 800-108 counter mode, PRF = AES-CMAC under AppTransactionMACKey):
 *   SV1 = 5A 00 01 00 80 || (TMC+1) (4, LSB first) || UID (7), SesTMMACKey = CMAC(key, SV1);
 *   SV2 = A5 00 01 00 80 || (TMC+1) || UID,                      SesTMENCKey = CMAC(key, SV2);
 * - TMV = MACt(SesTMMACKey, TMI): CMAC with zero IV truncated like secure-messaging MACs (the
 *   odd-numbered bytes, ev2-channel.ts `truncateMac`);
 * - EncTMRI = AES-CBC(SesTMENCKey, zero IV, TMRIPrev), one block, no padding;
 * - TMI updates per command (below), each part zero-padded to a 16-byte boundary, with the plain
 *   data whatever the secure messaging, and the actual length when the command asked for "all" (0).
 *
 * That the DESFire EV3 computes the TMAC exactly as the DESFire Light does is our assumption: it is
 * what the public documents allow, and NXP presents TMAC as one feature of both products.
 */

const BLOCK = 16;

/** Zero bytes up to the next 16-byte boundary (none when already aligned): the data sheet's "ZeroPadding". */
export function zeroPadded(part: Uint8Array): Uint8Array {
  const length = Math.ceil(part.length / BLOCK) * BLOCK;
  if (length === part.length) return part;
  const out = new Uint8Array(length);
  out.set(part);
  return out;
}

/** The transaction MAC file of an application (at most one), or undefined. */
export function findTransactionMacFile(app: Application): TransactionMacFile | undefined {
  for (const file of app.files.values()) if (file.type === FileType.TRANSACTION_MAC) return file;
  return undefined;
}

/**
 * TMI parts of the commands MF2DL(H)x0 §10.3.4 lists:
 * - ReadData, WriteData:   Cmd || FileNo || Offset || Length || ZeroPadding || Data || ZeroPadding
 * - GetValue, Credit, Debit, LimitedCredit: Cmd || FileNo || Value || ZeroPadding
 * - ReadRecords:           Cmd || FileNo || RecNo || RecCount || ZeroPadding || Data
 * - WriteRecord:           Cmd || FileNo || Offset || Length || ZeroPadding || Data
 * - UpdateRecord:          Cmd || FileNo || RecNo || Offset || Length || ZeroPadding || Data
 * - ClearRecordFile:       Cmd || FileNo || ZeroPadding
 * The Light's records are whole blocks, so its record data needs no padding; for records of any
 * size we pad them like ReadData's data (a no-op on whole blocks).
 */
export function tmiPart(parameters: Uint8Array, data?: Uint8Array): Uint8Array {
  return data === undefined ? zeroPadded(parameters) : concat(zeroPadded(parameters), zeroPadded(data));
}

/**
 * CommitReaderID's TMI part. The quoted data sheet text leaves its layout out; by the pattern of the
 * other commands we take Cmd || TMRI || ZeroPadding. Not public: a real EV3 may differ.
 */
export function commitReaderIdTmiPart(cmd: number, readerId: Uint8Array): Uint8Array {
  return zeroPadded(concat(Uint8Array.of(cmd), readerId));
}

function sessionVector(label: 0x5a | 0xa5, tmc: number, uid: Uint8Array): Uint8Array {
  assertBytes(uid, 'uid', 7);
  return concat(Uint8Array.of(label, 0x00, 0x01, 0x00, 0x80), uintLE(tmc + 1, 4), uid);
}

/** SesTMMACKey (`mac`) or SesTMENCKey (`enc`) for the transaction after TMC = `tmc`. */
export function transactionSessionKey(tmKey: Uint8Array, tmc: number, uid: Uint8Array, purpose: 'mac' | 'enc'): Uint8Array {
  const cipher = createBlockCipher('aes', tmKey);
  try {
    return new Cmac(cipher).mac(sessionVector(purpose === 'mac' ? 0x5a : 0xa5, tmc, uid));
  } finally {
    cipher.destroy();
  }
}

/** TMV = MACt(SesTMMACKey, TMI); `tmc` is the counter before this transaction. */
export function transactionMacValue(tmKey: Uint8Array, tmc: number, uid: Uint8Array, tmi: Uint8Array): Uint8Array {
  const sessionKey = transactionSessionKey(tmKey, tmc, uid, 'mac');
  const cipher = createBlockCipher('aes', sessionKey);
  try {
    return truncateMac(new Cmac(cipher).mac(tmi));
  } finally {
    cipher.destroy();
    wipe(sessionKey);
  }
}

/** EncTMRI = E(SesTMENCKey, TMRIPrev), CBC with zero IV over one block. */
export function encryptedReaderId(tmKey: Uint8Array, tmc: number, uid: Uint8Array, previousReaderId: Uint8Array): Uint8Array {
  assertBytes(previousReaderId, 'TMRIPrev', BLOCK);
  const sessionKey = transactionSessionKey(tmKey, tmc, uid, 'enc');
  const cipher = createBlockCipher('aes', sessionKey);
  try {
    return cipher.encryptCbc(previousReaderId, new Uint8Array(BLOCK));
  } finally {
    cipher.destroy();
    wipe(sessionKey);
  }
}
