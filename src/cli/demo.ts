import { ReaderAuthentication } from '../desfire/auth/handshake.js';
import { ev2Scheme } from '../desfire/auth/schemes.js';
import { concat, EMPTY, fromHex, toHex, uintLE } from '../desfire/bytes.js';
import { CommandCode } from '../desfire/commands.js';
import { cardDiversificationInput, diversifyAes128 } from '../desfire/crypto/an10922.js';
import { Cmac } from '../desfire/crypto/cmac.js';
import { createBlockCipher } from '../desfire/crypto/key-type.js';
import { DesfireError } from '../desfire/errors.js';
import { exchange, type FrameLink } from '../desfire/framing/index.js';
import { systemRandom } from '../desfire/random.js';
import { Status } from '../desfire/status.js';
import { DemoCard } from './demo-card.js';

/** A development master key, public on purpose: the demo's cards are not real credentials. */
const DEMO_MASTER_KEY = fromHex('00112233445566778899aabbccddeeff');
const DEMO_AID = 0xf5_2a_01;
const SYSTEM_IDENTIFIER = new TextEncoder().encode('pacs-v1');
const READ_KEY_NO = 1;
const CREDENTIAL_FILE = 1;

function deriveReadKey(uid: Uint8Array): Uint8Array {
  return diversifyAes128(new Cmac(createBlockCipher('aes', DEMO_MASTER_KEY)), cardDiversificationInput(uid, DEMO_AID, SYSTEM_IDENTIFIER));
}

/**
 * `desfire-pacs demo`: a reader and a virtual card in memory. The card's read key is diversified
 * per card from a master key (AN10922); the reader derives the same key from the UID, authenticates
 * with AuthenticateEV2First and reads the credential in full-enciphered mode. Every APDU is printed,
 * never a key. Returns the exit code.
 */
export async function runDemo(write: (line: string) => void): Promise<number> {
  const uid = concat(Uint8Array.of(0x04), systemRandom(6));
  const credential = new TextEncoder().encode('desfire-pacs demo credential 001');
  const card = new DemoCard(uid, deriveReadKey(uid), credential);
  const link: FrameLink = async (frame) => {
    write(`  > ${toHex(frame)}`);
    const answer = card.transceive(frame);
    write(`  < ${toHex(answer)}`);
    return answer;
  };

  write('desfire-pacs demo: a reader and a virtual DESFire card, in memory');
  write(`card UID ${toHex(uid)}; read key ${READ_KEY_NO} = AN10922(master, UID || AID ${DEMO_AID.toString(16)} || "pacs-v1")`);
  write('\nAuthenticateEV2First with the diversified read key:');
  const scheme = ev2Scheme('aes', deriveReadKey(uid));
  const reader = new ReaderAuthentication(scheme, systemRandom);
  const challenge = await exchange(link, scheme.command, scheme.commandData(READ_KEY_NO), { style: 'wrapped', followAnswerChain: false });
  expectStatus(challenge.status, Status.ADDITIONAL_FRAME, scheme.command);
  const answer = await exchange(link, 0xaf, reader.answerChallenge(challenge.data), { style: 'wrapped' });
  expectStatus(answer.status, Status.OPERATION_OK, 0xaf);
  const session = reader.finish(answer.data);

  write('\nReadData of the credential file, full-enciphered (EV2 secure messaging):');
  const header = concat(Uint8Array.of(CREDENTIAL_FILE), uintLE(0, 3), uintLE(credential.length, 3));
  const body = session.wrapCommand(CommandCode.ReadData, header, EMPTY, 'full');
  const read = await exchange(link, CommandCode.ReadData, body, { style: 'wrapped' });
  expectStatus(read.status, Status.OPERATION_OK, CommandCode.ReadData);
  const content = session.unwrapResponse(read.status, read.data, 'full', credential.length);
  write(`\ncredential read and verified: "${new TextDecoder().decode(content)}"`);
  return 0;
}

function expectStatus(status: number, expected: number, command: number): void {
  if (status !== expected) throw new DesfireError(status, undefined, { command, origin: 'card' });
}
