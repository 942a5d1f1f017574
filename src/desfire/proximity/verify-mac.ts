import { assertBytes, concat } from '../bytes.js';
import type { ChannelGeneration } from '../commands.js';
import type { Cmac } from '../crypto/cmac.js';
import type { KeyType } from '../crypto/key-type.js';
import { truncateMac } from '../sm/ev2-channel.js';
import { PC_SUCCESS, ProximityCommand } from './prepare.js';
import { PC_RANDOM_LENGTH } from './rounds.js';

/**
 * VerifyPC (0xFD): both ends MAC what was exchanged, under one AES-128 key.
 *
 * MAC input (NxpNfcRdLib `comps/phalVca/src/Sw/phalVca_Sw.c` `phalVca_Sw_Cmd_VerifyProximityCheckNew`,
 * and Proxmark3 `client/src/cmdhfmfdes.c` `DesfirePCRun`, which agree):
 *   code || Option || PubRespTime(2) || [PPS1] || [ActBitRate] || RndRC(16)
 * i.e. the PreparePC answer data verbatim between the code and RndRC; `code` is 0xFD for the
 * reader's command and the card's response code 0x90 for its answer ("Calculate MAC this time with
 * status code ... to match with PICC calculations"). The MAC is AES-CMAC truncated to its
 * odd-numbered bytes 1, 3, .., 15 (`phalVca_Sw_Int_TruncateMac`: "truncated MAC = [1, 3, 5, 7, 9,
 * 11, 13, 15]"; Proxmark3 `aes_cmac8`), the same truncation as EV2 secure messaging. The CMAC
 * starts from a zero IV (the library resets the IV first).
 * Reader command: FD || MAC; card answer: 90 || MAC' (native), or MAC' || 91 90 (ISO-wrapped).
 *
 * Which key (NxpNfcRdLib `phalVca_Sw_Cmd_VerifyProximityCheckNew`, switch on the VC state, and
 * `phalVca_Sw_SetSessionKeyUtility`'s comment):
 * - not authenticated, or authenticated with a DES/3DES key (d40 0x0A, ISO 0x1A): the PICC-level
 *   VCProximityKey, card key number 0x21 ("Get VC ProximityCheckKey (CardKeyNo = 0x21)");
 * - authenticated with an AES key, EV1 AuthenticateAES 0xAA or EV2 0x71/0x77: the session MAC key
 *   ("Authenticated(AES or EV2) with AES keys, use Card Type Specific SessionAuthMACKey"): in EV2
 *   that is SesAuthMACKey; EV1 has a single session key, used for its CMACs.
 * Baltech's reader documentation agrees: its external proximity key must not be given "if the card
 * is already authenticated" (docs.baltech.de, Desfire.ProxCheck). Proxmark3 `hf mfdes pc` only runs
 * unauthenticated, with "a dedicated 16-byte AES proximity key".
 */

/** PICC-level key number of VCProximityKey (NxpNfcRdLib comment "CardKeyNo = 0x21"). */
export const VC_PROXIMITY_KEY_NO = 0x21;

export type ProximityKeySource = 'vc-proximity-key' | 'session-mac-key';

/** Which key MACs VerifyPC, given the session in force (undefined: not authenticated). */
export function proximityKeySource(session: { readonly generation: ChannelGeneration; readonly keyType: KeyType } | undefined): ProximityKeySource {
  if (session === undefined || session.keyType !== 'aes' || session.generation === 'd40') return 'vc-proximity-key';
  return 'session-mac-key';
}

/** code || PreparePC answer data || RndRC. */
export function verifyPcMacInput(code: number, prepareAnswerData: Uint8Array, rndRC: Uint8Array): Uint8Array {
  assertBytes(prepareAnswerData, 'PreparePC answer data');
  assertBytes(rndRC, 'RndRC', 2 * PC_RANDOM_LENGTH);
  return concat(Uint8Array.of(code), prepareAnswerData, rndRC);
}

/** The 8-byte MAC the reader sends in VerifyPC. */
export function readerVerifyPcMac(cmac: Cmac, prepareAnswerData: Uint8Array, rndRC: Uint8Array): Uint8Array {
  return truncateMac(cmac.mac(verifyPcMacInput(ProximityCommand.VerifyPC, prepareAnswerData, rndRC)));
}

/** The 8-byte MAC the card answers VerifyPC with. */
export function cardVerifyPcMac(cmac: Cmac, prepareAnswerData: Uint8Array, rndRC: Uint8Array): Uint8Array {
  return truncateMac(cmac.mac(verifyPcMacInput(PC_SUCCESS, prepareAnswerData, rndRC)));
}
