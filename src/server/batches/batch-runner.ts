import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { Logger } from 'pino';
import { isDesfireError, type DesfireError } from '../../desfire/errors.js';
import type { Transport } from '../../desfire/transport.js';
import { doorConfigOf, planCard, type DoorOptions } from '../../encoder/card-plan.js';
import { DesfireClient } from '../../encoder/client/desfire-client.js';
import { doorCheck } from '../../encoder/door/authenticator.js';
import type { KeyStore } from '../../encoder/keys/index.js';
import { PersonalizationError } from '../../encoder/personalize/personalization-error.js';
import { personalize } from '../../encoder/personalize/personalizer.js';
import { TransportError } from '../../encoder/transport-error.js';
import type { CardData, Profile } from '../../gen/desfirepacs/v1/profile_pb.js';
import { runWithAudit } from '../audit-context.js';
import { isJournalError, type Journal } from '../journal/index.js';
import type { BatchRecord, CardRecord, CardState } from '../journal/records.js';
import { BatchEvents } from './batch-events.js';
import { cardDataOf } from './card-data.js';
import { keyVersionFor, profileForCard } from './card-profile.js';
import { NoCardLeft } from './no-card-left.js';

/** Where batches get their profiles; NOT_FOUND (an ApiError) for an unknown name. */
export interface ProfileSource {
  get(name: string, field?: string): Profile | Promise<Profile>;
}

export interface EncodeInput {
  /** The card's link: a virtual card, a PC/SC reader, a remote station's relay. */
  readonly transport: Transport;
  /** The card's UID as the reader saw it. */
  readonly uid: Uint8Array;
  /** The batch to take a number from; absent: the card's own batch if it has a number, else the oldest open batch with numbers left. */
  readonly batchId?: string;
  /** Who encodes: the audit actor and the station the card is counted for. */
  readonly stationId: string;
  /** Checked before a card number is taken; a card once claimed runs to its end (its link fails fast if the card goes). */
  readonly signal: AbortSignal;
  /**
   * Tries the card again at once, up to this many tries in all (default 1), while it fails in a
   * way that may pass: its link failed (a virtual card that lost power at a write powers up at
   * the next command), or the final door check failed (read-only; e.g. a proximity round slowed
   * by the machine's load, as stations sharing a process slow each other). For cards that stay in
   * the field; each failed try is journalled.
   */
  readonly attempts?: number;
}

export interface EncodeOutcome {
  /** The card's journal record after the attempt. */
  readonly card: CardRecord;
  /** Steps that changed the card in this attempt (none for a card already encoded). */
  readonly changed: readonly string[];
  /** Why the attempt did not end with an encoded card. */
  readonly failure?: string;
  /** The card's refusal behind the failure, when it refused a command. */
  readonly desfire?: DesfireError;
}

export interface BatchRunnerDeps {
  readonly journal: Journal;
  readonly profiles: ProfileSource;
  readonly keyStore: KeyStore;
  readonly logger: Logger;
  /** Door options for the verification step (proximity tolerance, timer, clock). Accepted key sets come from the card's profile. */
  readonly door?: Omit<DoorOptions, 'acceptedKeySets' | 'refusedKeySets'>;
  /** Where card and batch changes are published (default: a new one, see `events`). */
  readonly events?: BatchEvents;
}

/** Steps that only read the card: a card whose journal shows no other step was never written to. */
const READ_ONLY_STEPS: ReadonlySet<string> = new Set(['inspect']);

/**
 * Encodes cards for batches: one card presented on any station (emulated, PC/SC, remote) gets
 * a card number from the journal and is personalized with the batch's profile and key set.
 *
 * A card's fate: `encoded` once it passes the door check; `refused` when the personalizer
 * refuses it (not a DESFire, foreign keys or applications...) and the journal shows nothing
 * was ever written to it, so its number goes back to the batch; otherwise `failed` with the
 * reason (link lost mid-way, a command refused, verification failed), keeping its number: the
 * same card presented again continues where it stopped, since every step is idempotent and
 * written ahead. After each card the batch is completed when none of its cards is pending or
 * encoding.
 */
export class BatchRunner {
  /** Card and batch changes made through this runner. */
  readonly events: BatchEvents;
  readonly #journal: Journal;
  readonly #profiles: ProfileSource;
  readonly #keyStore: KeyStore;
  readonly #logger: Logger;
  readonly #door: DoorOptions;

  constructor(deps: BatchRunnerDeps) {
    this.#journal = deps.journal;
    this.#profiles = deps.profiles;
    this.#keyStore = deps.keyStore;
    this.#logger = deps.logger;
    this.#door = deps.door ?? {};
    this.events = deps.events ?? new BatchEvents();
  }

  /**
   * Encodes the presented card, under the audit context of its station. Throws before a card
   * number is taken (NoCardLeft, unknown batch, a UID that belongs to another batch, a finished
   * batch for a new card, the signal's reason); once a number is taken, every failure is
   * journalled on the card and returned in the outcome.
   */
  encodeCard(input: EncodeInput): Promise<EncodeOutcome> {
    return runWithAudit({ actor: input.stationId, purpose: 'encode' }, () => this.#encode(input));
  }

  async #encode(input: EncodeInput): Promise<EncodeOutcome> {
    input.signal.throwIfAborted();
    const batch = this.#batchFor(input.uid, input.batchId);
    const profile = await this.#profiles.get(batch.profile);
    const claimed = this.#journal.claimCard(batch.id, {
      uid: input.uid,
      keySet: batch.keySet,
      keyVersion: await keyVersionFor(profile, batch.keySet, this.#keyStore),
    });
    if (claimed === undefined) throw new NoCardLeft(batch.id);
    const log = this.#logger.child({ batch: batch.id, card: claimed.id, station: input.stationId });
    let tried = await this.#attempt(claimed, profile, input, log);
    for (let tries = 1; tries < (input.attempts ?? 1) && tried.mayPass; tries++) {
      tried = await this.#attempt(tried.outcome.card, profile, input, log);
    }
    this.#completeIfDone(batch.id);
    return tried.outcome;
  }

  /** One try at the card, journalled; `mayPass` when it failed in a way another try may get past (see `attempts`). */
  async #attempt(claimed: CardRecord, profile: Profile, input: EncodeInput, log: Logger): Promise<{ outcome: EncodeOutcome; mayPass: boolean }> {
    const card = claimed.state === 'pending' || claimed.state === 'failed' ? this.#setState(claimed, 'encoding', input.stationId) : claimed;
    try {
      const changed = await this.#personalize(card, profile, input);
      log.info({ changed: changed.length }, 'card encoded');
      return { outcome: { card: this.#setState(card, 'encoded', input.stationId), changed }, mayPass: false };
    } catch (e) {
      const outcome = this.#failed(card, e, input.stationId);
      log.warn({ state: outcome.card.state, failure: outcome.failure }, 'card not encoded');
      const transient = e instanceof TransportError || (e instanceof PersonalizationError && e.reason === 'verification-failed');
      return { outcome, mayPass: outcome.card.state === 'failed' && transient };
    }
  }

  /** The batch named; else the batch the card already has a number in; else the oldest open batch with numbers left. */
  #batchFor(uid: Uint8Array, batchId: string | undefined): BatchRecord {
    if (batchId !== undefined) return this.#journal.getBatch(batchId);
    const own = this.#liveCard(uid);
    if (own?.batchId !== undefined) return this.#journal.getBatch(own.batchId);
    const next = this.#journal.nextOpenBatch();
    if (next === undefined) throw new NoCardLeft();
    return this.#journal.getBatch(next);
  }

  #liveCard(uid: Uint8Array): CardRecord | undefined {
    try {
      const card = this.#journal.getCardByUid(uid);
      return card.state === 'refused' ? undefined : card;
    } catch (e) {
      if (isJournalError(e, 'UNKNOWN_CARD')) return undefined;
      throw e;
    }
  }

  /** Plans and personalizes the card; the steps that changed it. The card keys are wiped afterwards. */
  async #personalize(card: CardRecord, profile: Profile, input: EncodeInput): Promise<readonly string[]> {
    const cardProfile = profileForCard(profile, card.keySet!, card.keyVersion!);
    const data = cardDataOf(card);
    const plan = await planCard(cardProfile, data, this.#keyStore, input.uid);
    try {
      const door = doorConfigOf(cardProfile, this.#keyStore, { ...this.#door, now: withinValidity(data, this.#door.now ?? (() => new Date())) });
      const client = new DesfireClient(input.transport);
      await endSession(client);
      const result = await personalize({
        client,
        uid: input.uid,
        ...plan,
        journal: this.#journal,
        // Its own client: the door starts from a fresh session, as a real door would.
        verify: doorCheck(new DesfireClient(input.transport), input.uid, door),
      });
      return result.changed;
    } finally {
      plan.keys.picc.fill(0);
      for (const key of plan.keys.application) key.fill(0);
    }
  }

  /**
   * Journals why the card is not encoded: refused when the card was refused and never written
   * to, failed otherwise. An encoded card stays encoded (that state is final): a failed re-check
   * is only reported.
   */
  #failed(card: CardRecord, error: unknown, stationId: string): EncodeOutcome {
    const failure = error instanceof Error ? error.message : String(error);
    const desfire = isDesfireError(error) ? { desfire: error } : {};
    if (card.state === 'encoded') return { card, changed: [], failure, ...desfire };
    const refusal = error instanceof PersonalizationError && error.reason !== 'verification-failed';
    const written = this.#journal.steps(card.id).some((s) => !READ_ONLY_STEPS.has(s.step));
    const state: CardState = refusal && !written ? 'refused' : 'failed';
    return {
      card: this.#setState(card, state, stationId, failure),
      changed: [],
      failure,
      ...desfire,
    };
  }

  #setState(card: CardRecord, state: CardState, stationId: string, detail?: string): CardRecord {
    const updated = this.#journal.setCardState(card.id, state, detail);
    if (updated.state !== card.state) this.events.publish({ kind: 'card', card: updated, stationId });
    return updated;
  }

  #completeIfDone(batchId: string): void {
    const completed = this.#journal.completeIfDone(batchId);
    if (completed) this.events.publish({ kind: 'batch', batch: completed });
  }
}

/**
 * The verification step's clock: now, moved into the card's validity. The step proves the card
 * is encoded right (keys, layout, credential), as a door reads it; cards are often issued before
 * their validity starts, and a door's "not yet valid" would fail them for the wrong reason.
 */
function withinValidity(card: CardData, now: () => Date): () => Date {
  const from = card.validFrom ? timestampDate(card.validFrom) : undefined;
  const to = card.validTo ? timestampDate(card.validTo) : undefined;
  return () => {
    const t = now();
    if (from !== undefined && t < from) return from;
    if (to !== undefined && t > to) return to;
    return t;
  };
}

/**
 * A card still in the field after an earlier try may still be in that try's session (the door
 * check's, for one), and would refuse the personalizer's first plain command. Selecting the PICC
 * level ends any authentication, as a new field would. A card that refuses the selection is left
 * to the personalizer's inspection to judge.
 */
async function endSession(client: DesfireClient): Promise<void> {
  try {
    await client.selectApplication(0);
  } catch (e) {
    if (!isDesfireError(e)) throw e;
  }
}
