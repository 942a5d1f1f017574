import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, readUintLE, toHex } from '../../src/desfire/bytes.js';
import { COMMANDS } from '../../src/desfire/commands.js';
import { DesfireError } from '../../src/desfire/errors.js';
import {
  beginAnswer,
  beginCommand,
  continueCommand,
  encodeAnswerFrame,
  encodeCommandFrame,
  exchange,
  joinAnswers,
  MAX_ANSWER_FRAME_DATA,
  MAX_COMMAND_FRAME_LENGTH,
  nextAnswer,
  parseAnswerFrame,
  parseIncomingFrame,
  splitAnswer,
  splitCommand,
  type CardAnswer,
  type CollectStep,
  type CommandFrame,
  type FrameLink,
  type FrameStyle,
  type PendingAnswer,
  type PendingCommand,
} from '../../src/desfire/framing/index.js';
import { Status } from '../../src/desfire/status.js';
import { outcome, outcomeAsync } from '../support/outcome.js';

const STYLES: readonly FrameStyle[] = ['native', 'wrapped'];

const hexFrames = (frames: CommandFrame[]) => frames.map((f) => toHex(encodeCommandFrame(f)));

describe('reader: splitCommand', () => {
  const ten = fromHex('0102030405060708090a');

  it('cuts into CMD + n, then AF + n frames (native)', () => {
    expect(hexFrames(splitCommand('native', 0x3d, ten, { maxDataPerFrame: 4 }))).toEqual(['3d01020304', 'af05060708', 'af090a']);
  });

  it('cuts into 90 CMD .. and 90 AF .. APDUs (wrapped)', () => {
    expect(hexFrames(splitCommand('wrapped', 0x3d, ten, { maxDataPerFrame: 4 }))).toEqual([
      '903d0000040102030400',
      '90af0000040506070800',
      '90af000002090a00',
    ]);
  });

  it('sends a command without data as one frame', () => {
    expect(hexFrames(splitCommand('native', 0x60, new Uint8Array(0)))).toEqual(['60']);
    expect(hexFrames(splitCommand('wrapped', 0x60, new Uint8Array(0)))).toEqual(['9060000000']);
  });

  it('keeps data of exactly one frame in one frame', () => {
    expect(splitCommand('native', 0x3d, ten, { maxDataPerFrame: 10 })).toHaveLength(1);
  });

  it('uses 59 native / 54 wrapped data bytes by default, so every frame is at most 60 bytes', () => {
    const data = new Uint8Array(200).fill(0x5a);
    expect(hexFrames(splitCommand('native', 0x3d, data)).map((h) => h.length / 2)).toEqual([60, 60, 60, 24]);
    expect(hexFrames(splitCommand('wrapped', 0x3d, data)).map((h) => h.length / 2)).toEqual([60, 60, 60, 44]);
  });

  it('honours a fixed first frame (CreateDelegatedApplication: parameters, then AF + EncK || DAMMAC)', () => {
    const frames = splitCommand('native', 0xc9, ten, { firstFrameDataLength: 4 });
    expect(hexFrames(frames)).toEqual(['c901020304', 'af05060708090a']);
    expect(hexFrames(splitCommand('native', 0x3d, ten, { firstFrameDataLength: 0, maxDataPerFrame: 6 }))).toEqual([
      '3d',
      'af010203040506',
      'af0708090a',
    ]);
  });

  it('refuses impossible options', () => {
    expect(() => splitCommand('native', 0x3d, ten, { maxDataPerFrame: 0 })).toThrow(RangeError);
    expect(() => splitCommand('native', 0x3d, ten, { firstFrameDataLength: 11 })).toThrow(RangeError);
    expect(() => splitCommand('native', 0x3d, ten, { maxDataPerFrame: 4, firstFrameDataLength: 5 })).toThrow(RangeError);
  });
});

describe('card: beginCommand / continueCommand', () => {
  const frame = (cmd: number, hex: string): CommandFrame => ({ style: 'native', cmd, data: fromHex(hex) });

  it('collects a chained command until the expected length', () => {
    const first = beginCommand(frame(0x3d, '01020304'), 10);
    expect(first.complete).toBe(false);
    const pending = (first as { pending: PendingCommand }).pending;
    const second = continueCommand(pending, frame(0xaf, '0506'));
    expect(second.complete).toBe(false);
    const done = continueCommand((second as { pending: PendingCommand }).pending, frame(0xaf, '0708090a'));
    expect(done).toEqual({ complete: true, cmd: 0x3d, data: fromHex('0102030405060708090a') });
  });

  it('completes at once when the first frame holds everything', () => {
    expect(beginCommand(frame(0x60, ''), 0)).toEqual({ complete: true, cmd: 0x60, data: new Uint8Array(0) });
  });

  const pending: PendingCommand = { cmd: 0x3d, data: fromHex('0102'), expectedLength: 4 };
  it.each([
    { name: '0xAF with nothing pending', run: () => continueCommand(undefined, frame(0xaf, '01')), status: Status.ILLEGAL_COMMAND_CODE },
    { name: 'a new command while frames are expected', run: () => continueCommand(pending, frame(0x60, '')), status: Status.COMMAND_ABORTED },
    { name: '0xAF without data', run: () => continueCommand(pending, frame(0xaf, '')), status: Status.LENGTH_ERROR },
    { name: '0xAF with more than expected', run: () => continueCommand(pending, frame(0xaf, '030405')), status: Status.LENGTH_ERROR },
    { name: 'first frame longer than the command', run: () => beginCommand(frame(0x3d, '0102030405'), 4), status: Status.LENGTH_ERROR },
    { name: 'a command longer than the limit', run: () => beginCommand(frame(0x3d, '01'), 1000, 999), status: Status.LENGTH_ERROR },
  ])('$name → $status', ({ run, status }) => {
    expect(outcome(run)).toBe(status);
  });
});

describe('card: splitAnswer / beginAnswer / nextAnswer', () => {
  const data130 = Uint8Array.from({ length: 130 }, (_, i) => i);

  it('cuts a long answer into 59-byte AF frames and a final one', () => {
    const frames = splitAnswer({ status: 0x00, data: data130 });
    expect(frames.map((f) => [f.status, f.data.length])).toEqual([
      [0xaf, 59],
      [0xaf, 59],
      [0x00, 12],
    ]);
    expect(concat(...frames.map((f) => f.data))).toEqual(data130);
  });

  it('sends short and empty answers as one frame', () => {
    expect(splitAnswer({ status: 0x00, data: new Uint8Array(59) })).toHaveLength(1);
    expect(splitAnswer({ status: 0x9d, data: new Uint8Array(0) })).toEqual([{ status: 0x9d, data: new Uint8Array(0) }]);
  });

  it('honours another frame size (an EV3 answered ReadData in 48-byte frames in the desox-rs trace)', () => {
    expect(splitAnswer({ status: 0x00, data: data130 }, 48).map((f) => f.data.length)).toEqual([48, 48, 34]);
  });

  it('refuses to split an 0xAF answer (a handshake challenge is one frame)', () => {
    expect(() => splitAnswer({ status: 0xaf, data: new Uint8Array(60) })).toThrow(RangeError);
    expect(splitAnswer({ status: 0xaf, data: new Uint8Array(16) })).toHaveLength(1);
  });

  it('serves the frames one per 0xAF request', () => {
    const afRequest: CommandFrame = { style: 'wrapped', cmd: 0xaf, data: new Uint8Array(0) };
    let step = beginAnswer({ status: 0x00, data: data130 });
    const served: CardAnswer[] = [step.answer];
    while (step.pending) {
      step = nextAnswer(step.pending, afRequest);
      served.push(step.answer);
    }
    expect(served.map((a) => a.status)).toEqual([0xaf, 0xaf, 0x00]);
    expect(joinAnswers(served)).toEqual({ status: 0x00, data: data130 });
  });

  const pending: PendingAnswer = { frames: [{ status: 0x00, data: fromHex('01') }] };
  it.each([
    { name: '0xAF with no answer pending', run: () => nextAnswer(undefined, { style: 'native', cmd: 0xaf, data: new Uint8Array(0) }), status: Status.ILLEGAL_COMMAND_CODE },
    { name: 'a new command before all frames were requested', run: () => nextAnswer(pending, { style: 'native', cmd: 0x60, data: new Uint8Array(0) }), status: Status.COMMAND_ABORTED },
    { name: 'an 0xAF request carrying data', run: () => nextAnswer(pending, { style: 'native', cmd: 0xaf, data: fromHex('00') }), status: Status.LENGTH_ERROR },
  ])('$name → $status', ({ run, status }) => {
    expect(outcome(run)).toBe(status);
  });
});

describe('reader: joinAnswers', () => {
  const a = (status: number, hex: string): CardAnswer => ({ status, data: fromHex(hex) });

  it('joins AF frames and the final one', () => {
    expect(joinAnswers([a(0xaf, '0102'), a(0xaf, '03'), a(0x00, '04')])).toEqual(a(0x00, '01020304'));
  });

  it('keeps the data received before a final error status', () => {
    expect(joinAnswers([a(0xaf, '0102'), a(0x9d, '')])).toEqual(a(0x9d, '0102'));
  });

  it.each([
    { name: 'no frame', frames: [] as CardAnswer[] },
    { name: 'a middle frame that ends the chain', frames: [a(0x00, '01'), a(0x00, '02')] },
    { name: 'a chain ending in 0xAF', frames: [a(0xaf, '01')] },
    { name: 'an 0xAF frame without data', frames: [a(0xaf, ''), a(0x00, '02')] },
  ])('$name → LENGTH_ERROR', ({ frames }) => {
    expect(outcome(() => joinAnswers(frames))).toBe(Status.LENGTH_ERROR);
  });

  it('refuses more than the length limit', () => {
    expect(outcome(() => joinAnswers([a(0xaf, '0102'), a(0x00, '03')], 2))).toBe(Status.LENGTH_ERROR);
    expect(outcome(() => joinAnswers([a(0xaf, '0102'), a(0x00, '03')], 3))).toBe('accepted');
  });
});

/**
 * A tiny card made of the card-side framing functions only: GetVersion (three frames), WriteData
 * into one 400-byte file (chained command, length from its header) and ReadData (chained answer).
 * Every frame goes through parseIncomingFrame and is answered in the style it came in.
 */
function fakeCard(options: { answerFrameData?: number } = {}) {
  const file = new Uint8Array(400);
  let pendingCommand: PendingCommand | undefined;
  let pendingAnswer: PendingAnswer | undefined;
  const transcript: string[] = [];

  function run(cmd: number, data: Uint8Array): CardAnswer {
    switch (cmd) {
      case 0x60:
        return { status: 0x00, data: fromHex('04010133001605 04010103001605 04a1b2c3d4e5f6 ba5451c0a0 2b 19') };
      case 0x3d: {
        const offset = readUintLE(data, 1, 3);
        file.set(data.subarray(7), offset);
        return { status: 0x00, data: new Uint8Array(0) };
      }
      case 0xbd: {
        const offset = readUintLE(data, 1, 3);
        const length = readUintLE(data, 4, 3);
        return { status: 0x00, data: file.slice(offset, offset + length) };
      }
      default:
        return { status: Status.ILLEGAL_COMMAND_CODE, data: new Uint8Array(0) };
    }
  }

  function answer(incoming: Uint8Array): Uint8Array {
    const frame = parseIncomingFrame(incoming);
    if (frame.kind !== 'desfire') throw new Error('no ISO layer in the fake card');
    let step: CollectStep;
    if (frame.cmd === 0xaf && pendingAnswer) {
      const served = nextAnswer(pendingAnswer, frame);
      pendingAnswer = served.pending;
      return encodeAnswerFrame(frame.style, served.answer);
    }
    if (frame.cmd === 0xaf) {
      step = continueCommand(pendingCommand, frame);
    } else {
      pendingCommand = undefined;
      pendingAnswer = undefined;
      const expected = frame.cmd === 0x3d && frame.data.length >= 7 ? 7 + readUintLE(frame.data, 4, 3) : frame.data.length;
      step = beginCommand(frame, expected);
    }
    if (!step.complete) {
      pendingCommand = step.pending;
      return encodeAnswerFrame(frame.style, { status: 0xaf, data: new Uint8Array(0) });
    }
    pendingCommand = undefined;
    const served = beginAnswer(run(step.cmd, step.data), options.answerFrameData);
    pendingAnswer = served.pending;
    return encodeAnswerFrame(frame.style, served.answer);
  }

  const link: FrameLink = async (frame) => {
    let reply: Uint8Array;
    try {
      reply = answer(frame);
    } catch (e) {
      if (!(e instanceof DesfireError)) throw e;
      pendingCommand = undefined;
      pendingAnswer = undefined;
      reply = encodeAnswerFrame(frame[0] === 0x90 ? 'wrapped' : 'native', { status: e.status, data: new Uint8Array(0) });
    }
    transcript.push(`${toHex(frame)} -> ${toHex(reply)}`);
    return reply;
  };
  return { link, transcript, file };
}

describe('reader: exchange against a card built from the card-side functions', () => {
  it('GetVersion wrapped: three APDUs, exactly as a PC/SC reader sends them', async () => {
    const card = fakeCard();
    const answer = await exchange(card.link, 0x60, new Uint8Array(0), { style: 'wrapped' });
    expect(answer.status).toBe(0x00);
    expect(toHex(answer.data)).toBe('0401013300160504010103001605' + '04a1b2c3d4e5f6ba5451c0a02b19');
    // 28 bytes fit one 59-byte frame of this fake card; a real card answers in three (next test).
    expect(card.transcript).toEqual(['9060000000 -> 0401013300160504010103001605' + '04a1b2c3d4e5f6ba5451c0a02b19' + '9100']);
  });

  it('GetVersion in three frames when the card cuts at 7 bytes', async () => {
    const card = fakeCard({ answerFrameData: 7 });
    const answer = await exchange(card.link, 0x60, new Uint8Array(0), { style: 'wrapped' });
    expect(answer.data).toHaveLength(28);
    expect(card.transcript).toEqual([
      '9060000000 -> 0401013300160591af',
      '90af000000 -> 0401010300160591af',
      '90af000000 -> 04a1b2c3d4e5f691af',
      '90af000000 -> ba5451c0a02b199100',
    ]);
  });

  it.each(STYLES)('writes 150 bytes in chained frames and reads them back chained (%s)', async (style) => {
    const card = fakeCard();
    const payload = Uint8Array.from({ length: 150 }, (_, i) => (i * 7) & 0xff);
    const header = fromHex('01 050000 960000'); // file 1, offset 5, length 150
    const written = await exchange(card.link, 0x3d, concat(header, payload), { style });
    expect(written).toEqual({ status: 0x00, data: new Uint8Array(0) });
    expect(card.file.subarray(5, 155)).toEqual(payload);
    const read = await exchange(card.link, 0xbd, header, { style });
    expect(read).toEqual({ status: 0x00, data: payload });
    // 157 command bytes in 59 (native) or 54 (wrapped) per frame: 3 frames; 150 back in 59 per frame: 3 frames.
    expect(card.transcript).toHaveLength(6);
    expect(card.transcript[1].endsWith(style === 'native' ? '-> af' : '-> 91af')).toBe(true);
  });

  it('returns the card refusal when it answers an error midway', async () => {
    const link: FrameLink = async () => fromHex('9d');
    expect(await exchange(link, 0x3d, new Uint8Array(100), { style: 'native' })).toEqual({ status: 0x9d, data: new Uint8Array(0) });
  });

  it('follows no chain when asked not to (a handshake reads its challenge)', async () => {
    const link: FrameLink = async () => fromHex('af 0011223344556677');
    expect(await exchange(link, 0x0a, fromHex('00'), { style: 'native', followAnswerChain: false })).toEqual({
      status: 0xaf,
      data: fromHex('0011223344556677'),
    });
  });

  const scripted = (...replies: string[]): FrameLink => {
    let i = 0;
    return async () => fromHex(replies[Math.min(i++, replies.length - 1)]);
  };
  it.each([
    { name: 'card completes before all command frames were sent', link: scripted('00'), size: 100 },
    { name: 'card sends data while taking command frames', link: scripted('af01'), size: 100 },
    { name: 'card wants more command data than was sent', link: scripted('af'), size: 10 },
    { name: 'card never ends its answer chain', link: scripted('af' + '00'.repeat(59)), size: 0 },
  ])('$name → LENGTH_ERROR', async ({ link, size }) => {
    expect(await outcomeAsync(exchange(link, 0x3d, new Uint8Array(size), { style: 'native', maxAnswerLength: 1000 }))).toBe(Status.LENGTH_ERROR);
  });
});

describe('properties', () => {
  const codes = fc.constantFrom(...COMMANDS.map((c) => c.code));
  const styles = fc.constantFrom(...STYLES);

  it('split then collect returns the command, for any length and both wrappings, every frame within 60 bytes', () => {
    fc.assert(
      fc.property(codes, styles, fc.uint8Array({ maxLength: 700 }), fc.integer({ min: 1, max: 59 }), (cmd, style, data, max) => {
        const perFrame = style === 'wrapped' ? Math.min(max, 54) : max;
        const frames = splitCommand(style, cmd, data, { maxDataPerFrame: perFrame }).map(encodeCommandFrame);
        expect(frames.every((f) => f.length <= MAX_COMMAND_FRAME_LENGTH)).toBe(true);
        const parsed = frames.map((f) => parseIncomingFrame(f));
        const first = parsed[0];
        if (first.kind !== 'desfire') throw new Error('classified as ISO');
        expect(first.style).toBe(style);
        let step = beginCommand(first, data.length);
        for (const frame of parsed.slice(1)) {
          if (frame.kind !== 'desfire' || step.complete) throw new Error('unexpected frame');
          step = continueCommand(step.pending, frame);
        }
        expect(step).toEqual({ complete: true, cmd, data });
      }),
      { numRuns: 500 },
    );
  });

  it('cut then join returns the answer, for any length and both wrappings', () => {
    const statuses = fc.integer({ min: 0, max: 0xff }).filter((s) => s !== 0xaf);
    fc.assert(
      fc.property(statuses, styles, fc.uint8Array({ maxLength: 700 }), fc.integer({ min: 1, max: MAX_ANSWER_FRAME_DATA }), (status, style, data, max) => {
        const request: CommandFrame = { style, cmd: 0xaf, data: new Uint8Array(0) };
        let step = beginAnswer({ status, data }, max);
        const received: CardAnswer[] = [parseAnswerFrame(style, encodeAnswerFrame(style, step.answer))];
        while (step.pending) {
          step = nextAnswer(step.pending, request);
          received.push(parseAnswerFrame(style, encodeAnswerFrame(style, step.answer)));
        }
        expect(joinAnswers(received)).toEqual({ status, data });
      }),
      { numRuns: 500 },
    );
  });

  it('exchange round-trips any write and read through the fake card', async () => {
    await fc.assert(
      fc.asyncProperty(styles, fc.uint8Array({ minLength: 1, maxLength: 390 }), async (style, payload) => {
        const card = fakeCard();
        const header = Uint8Array.of(0x01, 0, 0, 0, payload.length & 0xff, payload.length >> 8, 0);
        expect((await exchange(card.link, 0x3d, concat(header, payload), { style })).status).toBe(0x00);
        expect(await exchange(card.link, 0xbd, header, { style })).toEqual({ status: 0x00, data: payload });
      }),
      { numRuns: 200 },
    );
  });
});
