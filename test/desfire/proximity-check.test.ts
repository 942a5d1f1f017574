import { cmac as nobleCmac } from '@noble/ciphers/aes.js';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from '../../src/desfire/bytes.js';
import { DesfireError } from '../../src/desfire/errors.js';
import {
  CardProximityCheck,
  encodePreparePcAnswer,
  parsePreparePcAnswer,
  PC_SUCCESS,
  ProximityCommand,
  proximityKeySource,
  ProximityTimingError,
  ReaderProximityCheck,
  verifyPcMacInput,
  type ProximityAnswer,
} from '../../src/desfire/proximity-check.js';
import { Cmac } from '../../src/desfire/crypto/cmac.js';
import { createBlockCipher } from '../../src/desfire/crypto/key-type.js';
import { scriptedRandom, systemRandom } from '../../src/desfire/random.js';
import { truncateMac } from '../../src/desfire/sm/ev2-channel.js';
import { Status } from '../../src/desfire/status.js';
import { outcome, outcomeAsync } from '../support/outcome.js';
import { hex, loadVectors, text, type Vector } from '../support/vectors.js';

const cmacOf = (key: Uint8Array) => new Cmac(createBlockCipher('aes', key));

const key = () => systemRandom(16);

/** A clock that moves only when told: `advance` models time spent on the air (or in a relay). */
function fakeClock() {
  let now = 1_000_000n;
  return { timer: () => now, advance: (ns: bigint) => void (now += ns) };
}

/** Runs a whole check between the two ends; `delayNs(round)` is the time each round takes. */
async function runCheck(opts: {
  readerKey: Uint8Array;
  cardKey: Uint8Array;
  rounds?: 1 | 2 | 4 | 8;
  parts?: number[];
  toleranceNs?: bigint;
  delayNs?: (round: number) => bigint;
}): Promise<{ reader: ReaderProximityCheck; card: CardProximityCheck }> {
  const card = new CardProximityCheck({ random: systemRandom });
  const reader = new ReaderProximityCheck({
    mac: cmacOf(opts.readerKey),
    random: systemRandom,
    rounds: opts.rounds,
    parts: opts.parts,
    toleranceNs: opts.toleranceNs,
  });
  const prepared = card.preparePc(reader.prepareCommand());
  reader.acceptPrepare(prepared.status, prepared.data);
  const clock = fakeClock();
  let round = 0;
  await reader.runRounds((command) => {
    clock.advance(opts.delayNs?.(round++) ?? 300_000n);
    return card.proximityCheck(command).data;
  }, clock.timer);
  const answer = card.verifyPc(reader.verifyCommand(), cmacOf(opts.cardKey));
  reader.acceptVerify(answer.status, answer.data);
  return { reader, card };
}

describe('proximity check: both roles together', () => {
  for (const rounds of [1, 2, 4, 8] as const) {
    it(`passes in ${rounds} even round(s)`, async () => {
      const k = key();
      const { reader, card } = await runCheck({ readerKey: k, cardKey: k, rounds });
      expect(reader.passed).toBe(true);
      expect(card.verified).toBe(true);
      expect(reader.timings).toHaveLength(rounds);
      expect(reader.timings.every((t) => t.elapsedNs === 300_000n && t.limitNs === 800_000n)).toBe(true);
    });
  }

  it("passes with NXP's uneven plan (1 byte per step, the rest in the last)", async () => {
    const k = key();
    const { reader } = await runCheck({ readerKey: k, cardKey: k, parts: [1, 1, 6] });
    expect(reader.passed).toBe(true);
  });

  it('sends the MACs the documented construction gives (checked with @noble/ciphers CMAC)', () => {
    const k = key();
    const rndC = fromHex('0011223344556677');
    const rndR = fromHex('8899aabbccddeeff');
    const card = new CardProximityCheck({ random: scriptedRandom(rndR) });
    const reader = new ReaderProximityCheck({ mac: cmacOf(k), random: scriptedRandom(rndC), rounds: 2 });
    const prepared = card.preparePc(new Uint8Array(0));
    reader.acceptPrepare(prepared.status, prepared.data);
    for (const command of reader.roundCommands()) reader.acceptRound(card.proximityCheck(command).data, 1n);
    const rndRC = fromHex('8899aabb00112233ccddeeff44556677'); // pRndR1 || pRndC1 || pRndR2 || pRndC2
    const command = reader.verifyCommand();
    expect(toHex(command)).toBe(toHex(truncateMac(nobleCmac(concat(Uint8Array.of(0xfd), prepared.data, rndRC), k))));
    const answer = card.verifyPc(command, cmacOf(k));
    expect(answer).toMatchObject({ status: 0x90, statusInNativeFrame: true });
    expect(toHex(answer.data)).toBe(toHex(truncateMac(nobleCmac(concat(Uint8Array.of(0x90), prepared.data, rndRC), k))));
    reader.acceptVerify(answer.status, answer.data);
    expect(reader.passed).toBe(true);
  });
});

describe('proximity check: MAC failures', () => {
  it('a card holding another key refuses VerifyPC with INTEGRITY_ERROR', async () => {
    const error = await outcomeAsync(runCheck({ readerKey: key(), cardKey: key() }));
    expect(error).toBe(Status.INTEGRITY_ERROR);
  });

  it("the reader refuses a card answer whose MAC is wrong, and a card's refusal status", () => {
    const k = key();
    const setUp = () => {
      const card = new CardProximityCheck({ random: systemRandom });
      const reader = new ReaderProximityCheck({ mac: cmacOf(k), random: systemRandom });
      const p = card.preparePc(new Uint8Array(0));
      reader.acceptPrepare(p.status, p.data);
      for (const c of reader.roundCommands()) reader.acceptRound(card.proximityCheck(c).data, 0n);
      return { reader, answer: card.verifyPc(reader.verifyCommand(), cmacOf(k)) };
    };
    const forged = setUp();
    const data = forged.answer.data.slice();
    data[7] ^= 1;
    expect(outcome(() => forged.reader.acceptVerify(0x90, data))).toBe(Status.INTEGRITY_ERROR);
    expect(forged.reader.passed).toBe(false);

    const refused = setUp();
    try {
      refused.reader.acceptVerify(Status.INTEGRITY_ERROR, new Uint8Array(0));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DesfireError);
      expect(e).toMatchObject({ status: Status.INTEGRITY_ERROR, origin: 'card', command: ProximityCommand.VerifyPC });
    }
  });

  it('a card that answered once forgets the check (no replay of VerifyPC)', () => {
    const k = key();
    const card = new CardProximityCheck({ random: systemRandom });
    const reader = new ReaderProximityCheck({ mac: cmacOf(k), random: systemRandom });
    const p = card.preparePc(new Uint8Array(0));
    reader.acceptPrepare(p.status, p.data);
    for (const c of reader.roundCommands()) reader.acceptRound(card.proximityCheck(c).data, 0n);
    const mac = reader.verifyCommand();
    card.verifyPc(mac, cmacOf(k));
    expect(outcome(() => card.verifyPc(mac, cmacOf(k)))).toBe(Status.PERMISSION_DENIED);
    // The refused replay drops nothing that passed; a new PreparePC or a power-off does.
    expect(card.verified).toBe(true);
    card.abort();
    expect(card.verified).toBe(true);
    card.reset();
    expect(card.verified).toBe(false);
  });
});

describe('proximity check: timing', () => {
  it('detects a delayed round (a relay) and stops there', async () => {
    const k = key();
    const error = await runCheck({ readerKey: k, cardKey: k, delayNs: (r) => (r === 2 ? 5_000_000n : 300_000n) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProximityTimingError);
    expect(error).toMatchObject({ round: 2, elapsedNs: 5_000_000n, limitNs: 800_000n });
  });

  it('the limit is PubRespTime itself plus the tolerance the caller sets', async () => {
    const k = key();
    await expect(runCheck({ readerKey: k, cardKey: k, delayNs: () => 800_000n })).resolves.toBeDefined();
    await expect(runCheck({ readerKey: k, cardKey: k, delayNs: () => 800_001n })).rejects.toBeInstanceOf(ProximityTimingError);
    const slowPath = await runCheck({ readerKey: k, cardKey: k, toleranceNs: 4_000_000n, delayNs: () => 4_500_000n });
    expect(slowPath.reader.passed).toBe(true);
  });

  it('after a late round there is no VerifyPC to send', () => {
    const reader = new ReaderProximityCheck({ mac: cmacOf(key()), random: systemRandom, rounds: 1 });
    reader.acceptPrepare(0x90, fromHex('01032000'));
    reader.roundCommands();
    expect(() => reader.acceptRound(new Uint8Array(8), 900_000n)).toThrow(ProximityTimingError);
    expect(() => reader.verifyCommand()).toThrow(/step "failed"/);
  });
});

describe('proximity check: malformed messages give typed errors', () => {
  const prepareCases: { name: string; data: string; status: number }[] = [
    { name: 'too short', data: '0103', status: Status.LENGTH_ERROR },
    { name: 'PPS1 announced, missing', data: '010320', status: Status.LENGTH_ERROR },
    { name: 'a byte no option announces', data: '00032000', status: Status.LENGTH_ERROR },
    { name: 'ActBitRate announced, missing', data: '03032000', status: Status.LENGTH_ERROR },
    { name: 'RFU option bit', data: '80032000', status: Status.PARAMETER_ERROR },
  ];
  for (const c of prepareCases) {
    it(`PreparePC answer: ${c.name}`, () => {
      const reader = new ReaderProximityCheck({ mac: cmacOf(key()), random: systemRandom });
      expect(outcome(() => reader.acceptPrepare(0x90, fromHex(c.data)))).toBe(c.status);
    });
  }

  it('PreparePC answers with PPS1 and ActBitRate parse and encode both ways', () => {
    for (const data of ['00012c', '01032000', '0200c8aa', '03ffff11aabb']) {
      expect(toHex(encodePreparePcAnswer(parsePreparePcAnswer(fromHex(data))))).toBe(data);
    }
  });

  it('a round answer of the wrong length', () => {
    const reader = new ReaderProximityCheck({ mac: cmacOf(key()), random: systemRandom, rounds: 4 });
    reader.acceptPrepare(0x90, fromHex('01032000'));
    reader.roundCommands();
    expect(outcome(() => reader.acceptRound(new Uint8Array(3), 0n))).toBe(Status.LENGTH_ERROR);
  });

  const card = (...steps: ((c: CardProximityCheck) => ProximityAnswer)[]) => {
    const c = new CardProximityCheck({ random: systemRandom });
    let result: number | string = 'accepted';
    for (const step of steps) {
      result = outcome(() => step(c));
      if (result !== 'accepted') break;
    }
    return result;
  };
  const prepare = (c: CardProximityCheck) => c.preparePc(new Uint8Array(0));
  const round = (data: string) => (c: CardProximityCheck) => c.proximityCheck(fromHex(data));
  const verify = (data: string) => (c: CardProximityCheck) => c.verifyPc(fromHex(data), cmacOf(new Uint8Array(16)));
  const cardCases: { name: string; steps: ((c: CardProximityCheck) => ProximityAnswer)[]; status: number | string }[] = [
    { name: 'PreparePC with data', steps: [(c) => c.preparePc(fromHex('00'))], status: Status.LENGTH_ERROR },
    { name: 'ProximityCheck without PreparePC', steps: [round('0111')], status: Status.PERMISSION_DENIED },
    { name: 'a two-byte part is accepted', steps: [prepare, round('021122')], status: 'accepted' },
    { name: 'length byte disagrees with data', steps: [prepare, round('0311')], status: Status.LENGTH_ERROR },
    { name: 'length byte zero', steps: [prepare, round('00')], status: Status.LENGTH_ERROR },
    { name: 'no challenge at all', steps: [prepare, round('')], status: Status.LENGTH_ERROR },
    { name: 'more than 8 challenge bytes in all', steps: [prepare, round('0411223344'), round('051122334455')], status: Status.PARAMETER_ERROR },
    { name: 'VerifyPC before the rounds end', steps: [prepare, round('0411223344'), verify('0000000000000000')], status: Status.PERMISSION_DENIED },
    { name: 'VerifyPC of the wrong length', steps: [prepare, round('081122334455667788'), verify('00000000')], status: Status.LENGTH_ERROR },
    { name: 'VerifyPC with a wrong MAC', steps: [prepare, round('081122334455667788'), verify('0000000000000000')], status: Status.INTEGRITY_ERROR },
  ];
  for (const c of cardCases) {
    it(`card: ${c.name}`, () => {
      expect(card(...c.steps)).toBe(c.status);
    });
  }

  it('a refusal resets the card: the rounds must start again from PreparePC', () => {
    const c = new CardProximityCheck({ random: systemRandom });
    c.preparePc(new Uint8Array(0));
    c.proximityCheck(fromHex('0411223344'));
    expect(outcome(() => c.proximityCheck(fromHex('0311')))).toBe(Status.LENGTH_ERROR);
    expect(outcome(() => c.proximityCheck(fromHex('0455667788')))).toBe(Status.PERMISSION_DENIED);
  });
});

describe('proximity check: which key', () => {
  it('VCProximityKey unless authenticated with an AES key, then the session MAC key', () => {
    expect(proximityKeySource(undefined)).toBe('vc-proximity-key');
    expect(proximityKeySource({ generation: 'd40', keyType: 'des' })).toBe('vc-proximity-key');
    expect(proximityKeySource({ generation: 'ev1', keyType: '3k3des' })).toBe('vc-proximity-key');
    expect(proximityKeySource({ generation: 'ev1', keyType: 'aes' })).toBe('session-mac-key');
    expect(proximityKeySource({ generation: 'ev2', keyType: 'aes' })).toBe('session-mac-key');
  });
});

describe('proximity check: published pieces replayed', () => {
  const { vectors } = loadVectors('proximity-check.json');
  const list = (v: Vector, field: string) => (v[field] as string[]).map((h) => fromHex(h));

  for (const v of vectors.filter((x) => x.type === 'exchange')) {
    it(v.name, () => {
      // The card's PreparePC answer parses to the published fields, and our default publication is that answer.
      const parsed = parsePreparePcAnswer(hex(v, 'prepareAnswer'));
      expect(parsed).toEqual({ option: parseInt(text(v, 'option'), 16), pubRespTimeUs: v.pubRespTimeUs, pps1: parseInt(text(v, 'pps1'), 16) });
      const card = new CardProximityCheck({ random: scriptedRandom(...list(v, 'rndRParts')) });
      const prepared = card.preparePc(new Uint8Array(0));
      expect(prepared.status).toBe(PC_SUCCESS);
      expect(toHex(prepared.data)).toBe(text(v, 'prepareAnswer'));

      // The reader, RndC scripted, sends the published parts; the card, RndR scripted, answers the published parts.
      const reader = new ReaderProximityCheck({ mac: cmacOf(hex(v, 'key')), random: scriptedRandom(hex(v, 'rndC')), rounds: 8 });
      reader.acceptPrepare(prepared.status, prepared.data);
      const commands = reader.roundCommands();
      const rndCParts = list(v, 'rndCParts');
      const rndRParts = list(v, 'rndRParts');
      commands.forEach((command, i) => {
        expect(toHex(command)).toBe(toHex(concat(Uint8Array.of(rndCParts[i].length), rndCParts[i])));
        const answer = card.proximityCheck(command);
        expect(answer.statusInNativeFrame).toBe(false);
        expect(toHex(answer.data)).toBe(toHex(rndRParts[i]));
        reader.acceptRound(answer.data, 0n);
      });

      // Derived, not published: the VerifyPC MAC input in the documented order for this exchange.
      const rndRC = concat(...rndRParts.flatMap((r, i) => [r, rndCParts[i]]));
      expect(toHex(verifyPcMacInput(0xfd, prepared.data, rndRC))).toBe(`fd${text(v, 'prepareAnswer')}46442b59370672fd414547c529e332b9`);
      // The two ends agree on it.
      const answer = card.verifyPc(reader.verifyCommand(), cmacOf(hex(v, 'key')));
      reader.acceptVerify(answer.status, answer.data);
      expect(reader.passed).toBe(true);
    });
  }

  for (const v of vectors.filter((x) => x.type === 'truncation')) {
    it(v.name, () => {
      expect(toHex(truncateMac(hex(v, 'mac')))).toBe(text(v, 'macTruncated'));
    });
  }
});
