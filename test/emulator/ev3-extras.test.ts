import { describe, expect, it } from 'vitest';
import { ev2Scheme } from '../../src/desfire/auth/schemes.js';
import { concat, EMPTY, uintLE } from '../../src/desfire/bytes.js';
import { CommandCode } from '../../src/desfire/commands.js';
import { Cmac } from '../../src/desfire/crypto/cmac.js';
import { createBlockCipher } from '../../src/desfire/crypto/key-type.js';
import { verifyOriginalitySignature } from '../../src/desfire/originality.js';
import { ProximityTimingError, ReaderProximityCheck, type NanoTimer } from '../../src/desfire/proximity-check.js';
import { systemRandom } from '../../src/desfire/random.js';
import { Status } from '../../src/desfire/status.js';
import { OriginalityKeyPair } from '../../src/emulator/originality.js';
import type { VirtualCard } from '../../src/emulator/virtual-card.js';
import { outcomeAsync } from '../support/outcome.js';
import { maced, TestReader } from './support/harness.js';

const AES_ZERO = new Uint8Array(16);
const APP = 0x0000c1;

/** A timer that reports `roundNs` for every round (the card answers in-process, so time is ours to choose). */
function fakeTimer(roundNs: bigint): NanoTimer {
  let now = 0n;
  let tick = 0;
  return () => (now += tick++ % 2 === 0 ? 0n : roundNs);
}

/** Runs PreparePC, the rounds and VerifyPC natively against `card`. */
async function runProximityCheck(card: VirtualCard, mac: Cmac, timer: NanoTimer): Promise<ReaderProximityCheck> {
  const reader = new ReaderProximityCheck({ mac, random: systemRandom });
  const prepared = card.transceive(Uint8Array.of(0xf0, ...reader.prepareCommand()));
  reader.acceptPrepare(prepared[0], prepared.subarray(1));
  // Rounds answer bare randoms in native framing.
  await reader.runRounds((command) => card.transceive(Uint8Array.of(0xf2, ...command)), timer);
  const verified = card.transceive(Uint8Array.of(0xfd, ...reader.verifyCommand()));
  reader.acceptVerify(verified[0], verified.subarray(1));
  return reader;
}

describe('proximity check on the card', () => {
  const vcProximityKey = () => new Cmac(createBlockCipher('aes', AES_ZERO));

  it('passes without authentication under VCProximityKey when the rounds are in time', async () => {
    const reader = new TestReader();
    const check = await runProximityCheck(reader.card, vcProximityKey(), fakeTimer(100_000n));
    expect(check.passed).toBe(true);
    expect(check.prepared?.pubRespTimeUs).toBe(800);
  });

  it('detects a relay: rounds slower than the publicised response time fail', async () => {
    const reader = new TestReader();
    await expect(runProximityCheck(reader.card, vcProximityKey(), fakeTimer(5_000_000n))).rejects.toBeInstanceOf(ProximityTimingError);
  });

  it('runs under the session MAC key in an EV2 session; the wrong key is refused by the card', async () => {
    const reader = new TestReader();
    reader.card.state.applications.set(APP, { aid: APP, keySettings: 0x0f, keyType: 'aes', keys: [{ key: AES_ZERO, version: 0 }], files: new Map() });
    expect((await reader.send(CommandCode.SelectApplication, uintLE(APP, 3))).status).toBe(Status.OPERATION_OK);
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 0)).toBe(Status.OPERATION_OK);
    const sessionMac = reader.channel?.proximityMac as Cmac;
    expect((await runProximityCheck(reader.card, sessionMac, fakeTimer(1000n))).passed).toBe(true);
    // The session survives the proximity check.
    await reader.ok(CommandCode.GetKeySettings, EMPTY, EMPTY, maced(reader.channel));
    const outcome = await outcomeAsync(runProximityCheck(reader.card, vcProximityKey(), fakeTimer(1000n)));
    expect(outcome).toBe(Status.INTEGRITY_ERROR);
  });

  it('a command between the rounds ends the check', async () => {
    const reader = new TestReader();
    const check = new ReaderProximityCheck({ mac: vcProximityKey(), random: systemRandom });
    const prepared = reader.card.transceive(Uint8Array.of(0xf0));
    check.acceptPrepare(prepared[0], prepared.subarray(1));
    reader.card.transceive(Uint8Array.of(0x6e));
    expect(reader.card.transceive(Uint8Array.of(0xf2, ...check.roundCommands()[0]))[0]).toBe(Status.PERMISSION_DENIED);
  });
});

describe('Read_Sig', () => {
  it('signs the real UID with the card key; the signature verifies with the exported public key, also inside an EV2 session', async () => {
    const reader = new TestReader();
    const publicKey = OriginalityKeyPair.fromPrivateKey(reader.card.state.originalityKey).publicKey;
    const plain = await reader.send(CommandCode.Read_Sig, Uint8Array.of(0x00));
    expect(plain.status).toBe(Status.OPERATION_OK_90);
    expect(verifyOriginalitySignature(reader.card.state.uid, plain.data, publicKey)).toBe(true);
    expect(verifyOriginalitySignature(concat(reader.card.state.uid.subarray(1), Uint8Array.of(0)), plain.data, publicKey)).toBe(false);

    reader.card.state.applications.set(APP, { aid: APP, keySettings: 0x0f, keyType: 'aes', keys: [{ key: AES_ZERO, version: 0 }], files: new Map() });
    expect((await reader.send(CommandCode.SelectApplication, uintLE(APP, 3))).status).toBe(Status.OPERATION_OK);
    expect(await reader.authenticate(ev2Scheme('aes', AES_ZERO), 0)).toBe(Status.OPERATION_OK);
    const channel = reader.channel!;
    const answer = await reader.send(CommandCode.Read_Sig, channel.wrapCommand(CommandCode.Read_Sig, Uint8Array.of(0x00), EMPTY, 'mac'));
    expect(answer.status).toBe(Status.OPERATION_OK_90);
    expect(channel.unwrapResponse(answer.status, answer.data, 'full')).toEqual(plain.data);
  });
});
