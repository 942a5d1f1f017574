import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/desfire/bytes.js';
import { DesfireClient } from '../../src/encoder/client/desfire-client.js';
import { authenticateAtDoor, doorCheck } from '../../src/encoder/door/authenticator.js';
import { PERSONALIZATION_STEPS, type StepEvent } from '../../src/encoder/personalize/journal.js';
import { PersonalizationError } from '../../src/encoder/personalize/personalization-error.js';
import { personalize } from '../../src/encoder/personalize/personalizer.js';
import { TransportError } from '../../src/encoder/transport-error.js';
import type { Transport } from '../../src/desfire/transport.js';
import { CardPowerLost } from '../../src/emulator/card-endpoint.js';
import { factoryState } from '../../src/emulator/factory.js';
import { exportImage } from '../../src/emulator/image.js';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { AID, cardKeys, credential, doorConfig, layout, OTHER, OURS, type KeySet } from './support/fixture.js';

const UID = fromHex('04c0ffee123456');
const CONTENT = credential('00012345', new Date('2026-01-01T00:00:00Z'), new Date('2028-01-01T00:00:00Z'));

/** Presents `card` to a reader and personalizes it with `set`; returns the journal. */
async function encode(card: VirtualCard, set: KeySet = OURS, transport: Transport = new InProcessTransport(card)): Promise<{ events: StepEvent[]; changed: readonly string[] }> {
  const events: StepEvent[] = [];
  const client = new DesfireClient(transport);
  const result = await personalize({
    client,
    uid: card.uid,
    layout: layout(CONTENT),
    keys: cardKeys(set, card.uid),
    journal: { record: (e) => void events.push(e) },
    verify: doorCheck(new DesfireClient(transport), card.uid, doorConfig({ accepted: [set] })),
  });
  return { events, changed: result.changed };
}

async function door(card: VirtualCard, config = doorConfig({ accepted: [OURS] })) {
  const transport = new InProcessTransport(card);
  return authenticateAtDoor(new DesfireClient(transport), card.uid, config);
}

const newCard = () => new VirtualCard(factoryState({ uid: UID }));

describe('personalization', () => {
  it('encodes a factory card step by step, journals every step before and after, and the door grants it', async () => {
    const card = newCard();
    const { events, changed } = await encode(card);
    expect(changed).toEqual(['picc-master-key', 'create-application', 'application-keys', 'create-files', 'write-content', 'application-key-settings', 'picc-key-settings']);
    for (const step of PERSONALIZATION_STEPS) {
      expect(events.filter((e) => e.step === step).map((e) => e.phase)[0]).toBe('started');
      expect(events.filter((e) => e.step === step).length).toBe(2);
    }
    const result = await door(card);
    expect(result.granted && result.credential).toEqual({ cardNumber: '00012345' });
    expect(card.state.masterKeyType).toBe('aes');
    expect(card.state.applications.get(AID)?.keySettings).toBe(0x00);
  });

  it("fails the verification step with the door's reason when the door refuses the encoded card", async () => {
    const card = newCard();
    const transport = new InProcessTransport(card);
    const events: StepEvent[] = [];
    const run = personalize({
      client: new DesfireClient(transport),
      uid: card.uid,
      layout: layout(CONTENT),
      keys: cardKeys(OURS, card.uid),
      journal: { record: (e) => void events.push(e) },
      // A door that knows the card's key set but does not accept it.
      verify: doorCheck(new DesfireClient(transport), card.uid, doorConfig({ accepted: [OTHER], known: [OURS] })),
    });
    await expect(run).rejects.toThrow(PersonalizationError);
    await expect(run).rejects.toThrow(/verification-failed: .*does not pass the door check: key-set-not-accepted/);
    expect(events.at(-1)).toMatchObject({ step: 'verify', phase: 'failed' });
  });

  it('leaves an encoded card unchanged and verifies it', async () => {
    const card = newCard();
    await encode(card);
    const before = JSON.stringify(exportImage(card.state));
    const { changed, events } = await encode(card);
    expect(changed).toEqual([]);
    expect(events.filter((e) => e.phase === 'skipped').length).toBe(PERSONALIZATION_STEPS.length - 2); // all but inspect and verify, which always complete
    expect(JSON.stringify(exportImage(card.state))).toBe(before);
  });

  it('refuses, without touching it, a card with foreign applications or an unknown PICC key', async () => {
    const foreign = newCard();
    foreign.state.applications.set(0x010203, { aid: 0x010203, keySettings: 0x0f, keyType: 'aes', keys: [{ key: new Uint8Array(16), version: 0 }], files: new Map() });
    const before = JSON.stringify(exportImage(foreign.state));
    await expect(encode(foreign)).rejects.toMatchObject({ reason: 'foreign-applications' });
    expect(JSON.stringify(exportImage(foreign.state))).toBe(before);

    const locked = newCard();
    locked.state.masterKeyType = 'aes';
    locked.state.masterKey = { key: fromHex('99999999999999999999999999999999'), version: 3 };
    const lockedBefore = JSON.stringify(exportImage(locked.state));
    const error = await encode(locked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersonalizationError);
    expect((error as PersonalizationError).reason).toBe('unknown-picc-key');
    expect(JSON.stringify(exportImage(locked.state))).toBe(lockedBefore);
  });

  it('completes a card interrupted at every APDU (transport failure), and the door grants it', async () => {
    let total = 0;
    await encode(newCard(), OURS, countingTransport(newCard(), () => total++));
    expect(total).toBeGreaterThan(40);
    for (let failAt = 1; failAt <= total; failAt++) {
      const card = newCard();
      let sent = 0;
      const failing = countingTransport(card, () => {
        if (++sent === failAt) throw new TransportError(`reader lost the card at APDU ${failAt}`);
      });
      await expect(encode(card, OURS, failing)).rejects.toBeInstanceOf(TransportError);
      card.powerOff();
      const { events } = await encode(card);
      expect(events.filter((e) => e.phase === 'failed')).toEqual([]);
      expect((await door(card)).granted).toBe(true);
    }
  });

  it('completes a card that lost power at every persistent write (tearing)', async () => {
    const counter = newCard();
    await encode(counter);
    const writes = counter.completedWrites;
    expect(writes).toBeGreaterThan(5);
    for (let tearAt = 1; tearAt <= writes; tearAt++) {
      const card = newCard();
      card.tearAtWrite(tearAt);
      const first = await encode(card).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(TransportError);
      expect((first as TransportError).cause).toBeInstanceOf(CardPowerLost);
      await encode(card);
      expect((await door(card)).granted).toBe(true);
    }
  });
});

describe('door authentication', () => {
  it('denies an unencoded card, another key set, a wrong read key and a clone, each with its own reason', async () => {
    const genuine = newCard();
    await encode(genuine);
    const trusted = [genuine.originalityPublicKey];

    const unencoded = await door(newCard());
    const otherSet = newCard();
    await encode(otherSet, OTHER);
    const otherResult = await door(otherSet, doorConfig({ accepted: [OURS], known: [OTHER] }));
    const wrongKey = newCard();
    await encode(wrongKey);
    wrongKey.state.applications.get(AID)!.keys[1] = { key: fromHex('77777777777777777777777777777777'), version: 1 };
    const wrongKeyResult = await door(wrongKey);
    // A clone: the same UID and the same layout, copied as far as a reader can read it, but none of the keys.
    const clone = new VirtualCard(factoryState({ uid: UID }));
    const copied = structuredClone(genuine.state.applications.get(AID)!);
    copied.keys = copied.keys.map(() => ({ key: new Uint8Array(16), version: 1 }));
    clone.state.applications.set(AID, copied);
    const cloneResult = await door(clone, doorConfig({ accepted: [OURS], trusted }));
    const cloneWithoutOriginality = await door(clone);

    const reasons = [unencoded, otherResult, wrongKeyResult, cloneResult].map((r) => (r.granted ? 'granted' : r.reason));
    expect(reasons).toEqual(['not-encoded', 'key-set-not-accepted', 'authentication-failed', 'not-genuine']);
    // Without the originality check the clone still fails where it matters: it cannot authenticate.
    expect(cloneWithoutOriginality.granted ? 'granted' : cloneWithoutOriginality.reason).toBe('authentication-failed');
    expect((await door(genuine, doorConfig({ accepted: [OURS], trusted }))).granted).toBe(true);
  });

  it('checks validity dates and the key version', async () => {
    const card = newCard();
    await encode(card);
    const expired = await door(card, doorConfig({ accepted: [OURS], now: new Date('2030-01-01T00:00:00Z') }));
    expect(expired.granted ? 'granted' : expired.reason).toBe('expired');
    const early = await door(card, doorConfig({ accepted: [OURS], now: new Date('2025-01-01T00:00:00Z') }));
    expect(early.granted ? 'granted' : early.reason).toBe('not-yet-valid');
    const strict = { ...doorConfig({ accepted: [OURS] }), policy: { proximityCheck: 'never' as const, minKeyVersion: 2 } };
    const old = await door(card, strict);
    expect(old.granted ? 'granted' : old.reason).toBe('key-version-too-old');
  });

  it('runs the proximity check on EV3 cards and refuses a relayed card', async () => {
    const card = newCard();
    await encode(card);
    expect((await door(card, doorConfig({ accepted: [OURS], proximityCheck: true }))).granted).toBe(true);
    card.answerDelayMs = 60; // well beyond the 20 ms tolerance the test door allows
    const relayed = await door(card, doorConfig({ accepted: [OURS], proximityCheck: true }));
    expect(relayed.granted ? 'granted' : relayed.reason).toBe('relay-suspected');
    expect(toHex(card.uid)).toBe(toHex(UID));
  });
});

describe('door authentication against a relay that rewrites answers', () => {
  it('a relay claiming an older card (GetVersion major 0x12) cannot skip the proximity check: the MACed answer fails', async () => {
    const card = newCard();
    await encode(card);
    const inner = new InProcessTransport(card);
    const relay: Transport = {
      get card() {
        return inner.card;
      },
      transceive: async (apdu) => {
        const answer = await inner.transceive(apdu);
        // The first GetVersion frame: 04 01 01 33 ... → 04 01 01 12 ... (an EV2, which the policy would not check).
        if (answer.length >= 4 && answer[0] === 0x04 && answer[3] === 0x33) answer[3] = 0x12;
        return answer;
      },
    };
    const result = await authenticateAtDoor(new DesfireClient(relay), card.uid, doorConfig({ accepted: [OURS], proximityCheck: true }));
    expect(result.granted ? 'granted' : result.reason).toBe('proximity-check-failed');
  });
});

/** An in-process transport that calls `before` ahead of each APDU (to count or to fail). */
function countingTransport(card: VirtualCard, before: () => void): Transport {
  const inner = new InProcessTransport(card);
  return {
    get card() {
      return inner.card;
    },
    transceive: async (apdu) => {
      before();
      return inner.transceive(apdu);
    },
  };
}
