import { FREE_ACCESS, type AccessRights } from '../../desfire/access-rights.js';
import { constantTimeEqual, readUintLE, toHex } from '../../desfire/bytes.js';
import { isDesfireError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';
import type { DesfireClient } from '../client/desfire-client.js';
import type { CardKeys, CardLayout, FileLayout } from './card-layout.js';
import type { PersonalizationJournal, PersonalizationStep } from './journal.js';
import { PersonalizationError } from './personalization-error.js';

/** The factory PICC master key: DES, all zero. */
const FACTORY_PICC_KEY = { type: 'des' as const, key: new Uint8Array(8) };
/** A new application's keys: AES, all zero (the card's default key). */
const DEFAULT_APPLICATION_KEY = { type: 'aes' as const, key: new Uint8Array(16) };
/** Key settings while encoding: everything changeable; the final ones are applied last. */
const OPEN_KEY_SETTINGS = 0x0f;
/** ChangeKey key-number byte at PICC level for an AES master key (bits 7..6 = 10). */
const PICC_AES_KEY_NO = 0x80;
const FILE_TYPE = { standard: 0x00, backup: 0x01 } as const;

/** The last step's door check: passed, or why not (a denial reason and its detail; never key material). */
export type VerifyVerdict = { readonly passed: true } | { readonly passed: false; readonly why: string };

export interface PersonalizeInput {
  readonly client: DesfireClient;
  /** The card's UID as the reader saw it (7 bytes: random-ID cards cannot be diversified before authentication). */
  readonly uid: Uint8Array;
  readonly layout: CardLayout;
  /** The card's diversified keys, for its UID. */
  readonly keys: CardKeys;
  readonly journal: PersonalizationJournal;
  /** The door check run last (`verify`): whether the encoded card passes it, and why not. */
  readonly verify: () => Promise<VerifyVerdict>;
}

export interface PersonalizationResult {
  /** Steps that changed the card in this run (none for a card that was already encoded). */
  readonly changed: readonly PersonalizationStep[];
}

/**
 * Personalization as a plan of idempotent steps. Each step first reads what the card already has
 * and is skipped when the card has it, so a card pulled out at any point and presented again is
 * completed, and an encoded card is verified and left unchanged. A card whose keys or layout are
 * neither factory nor ours is refused (PersonalizationError) before anything is written.
 * Every step is journalled before it runs and after.
 */
export async function personalize(input: PersonalizeInput): Promise<PersonalizationResult> {
  const run = new Run(input);
  await run.step('inspect', () => run.inspect());
  await run.step('picc-master-key', () => run.piccMasterKey());
  await run.step('create-application', () => run.createApplication());
  await run.step('application-keys', () => run.applicationKeys());
  await run.step('create-files', () => run.createFiles());
  await run.step('write-content', () => run.writeContent());
  await run.step('application-key-settings', () => run.applicationKeySettings());
  await run.step('picc-key-settings', () => run.piccKeySettings());
  await run.step('verify', () => run.verifyCard());
  return { changed: run.changed };
}

/**
 * What a step did: changed the card; found it already done (skipped, with why); or, for the
 * read-only steps (inspect, verify), checked it (completed without a change).
 */
type Outcome = { readonly changed: true } | { readonly changed: false; readonly why: string; readonly checked?: boolean };
const CHANGED: Outcome = { changed: true };
const done = (why: string): Outcome => ({ changed: false, why });
const checked = (why: string): Outcome => ({ changed: false, why, checked: true });

class Run {
  readonly changed: PersonalizationStep[] = [];
  readonly #in: PersonalizeInput;
  #piccIsOurs = false;

  constructor(input: PersonalizeInput) {
    this.#in = input;
  }

  async step(step: PersonalizationStep, body: () => Promise<Outcome>): Promise<void> {
    const { journal, uid } = this.#in;
    await journal.record({ uid, step, phase: 'started' });
    let outcome: Outcome;
    try {
      outcome = await body();
    } catch (e) {
      await journal.record({ uid, step, phase: 'failed', detail: e instanceof Error ? e.message : String(e) });
      throw e;
    }
    if (outcome.changed) this.changed.push(step);
    const phase = outcome.changed || outcome.checked ? 'completed' : 'skipped';
    await journal.record({ uid, step, phase, ...(outcome.changed ? {} : { detail: outcome.why }) });
  }

  get #client(): DesfireClient {
    return this.#in.client;
  }

  /** Tries an authentication; false when the card refuses the key (any other failure propagates). */
  async #tryAuthenticate(method: 'ev1' | 'ev2', keyNo: number, key: { type: 'des' | 'aes'; key: Uint8Array }): Promise<boolean> {
    try {
      await this.#client.authenticate(method, keyNo, key);
      return true;
    } catch (e) {
      if (isDesfireError(e) && e.status === Status.AUTHENTICATION_ERROR) return false;
      throw e;
    }
  }

  async #authenticatePicc(): Promise<void> {
    await this.#client.selectApplication(0);
    await this.#client.authenticate('ev2', 0, { type: 'aes', key: this.#in.keys.picc });
  }

  async #authenticateApplication(keyNo: number): Promise<void> {
    await this.#client.selectApplication(this.#in.layout.application.aid);
    await this.#client.authenticate('ev2', keyNo, { type: 'aes', key: this.#in.keys.application[keyNo] });
  }

  /** Reads only: is this a DESFire we may encode, whose PICC key is the factory one or ours, with no foreign applications? */
  async inspect(): Promise<Outcome> {
    if (this.#in.uid.length !== 7) throw new PersonalizationError('random-uid', 'the card shows a random ID; keys are diversified from the 7-byte UID');
    const version = await this.#client.getVersion().catch((e: unknown) => {
      if (isDesfireError(e)) throw new PersonalizationError('not-desfire', `GetVersion refused: ${e.message}`);
      throw e;
    });
    if (version.hardware.vendor !== 0x04 || version.hardware.type !== 0x01) throw new PersonalizationError('not-desfire', 'not an NXP MIFARE DESFire');
    if (!constantTimeEqual(version.uid, this.#in.uid)) throw new PersonalizationError('random-uid', 'GetVersion reports another UID than the reader saw');
    await this.#client.selectApplication(0);
    if (await this.#tryAuthenticate('ev2', 0, { type: 'aes', key: this.#in.keys.picc })) {
      this.#piccIsOurs = true;
    } else if (!(await this.#tryAuthenticate('ev1', 0, FACTORY_PICC_KEY))) {
      throw new PersonalizationError('unknown-picc-key', 'the PICC master key is neither the factory key nor this card\'s issuer key');
    }
    const foreign = (await this.#client.getApplicationIds()).filter((aid) => aid !== this.#in.layout.application.aid);
    if (foreign.length > 0) {
      throw new PersonalizationError('foreign-applications', `the card holds other applications: ${foreign.map((a) => a.toString(16).padStart(6, '0')).join(', ')}`);
    }
    return checked(this.#piccIsOurs ? 'issuer PICC key already set' : 'factory card');
  }

  async piccMasterKey(): Promise<Outcome> {
    if (this.#piccIsOurs) return done('PICC master key is already the issuer key');
    // Still in the factory-key session of inspect(); changing the session's own key ends the session.
    await this.#client.changeKey({ keyNo: PICC_AES_KEY_NO, newKey: this.#in.keys.picc, newKeyType: 'aes', newKeyVersion: this.#in.layout.piccKeyVersion });
    this.#piccIsOurs = true;
    return CHANGED;
  }

  async createApplication(): Promise<Outcome> {
    const app = this.#in.layout.application;
    await this.#authenticatePicc();
    if ((await this.#client.getApplicationIds()).includes(app.aid)) return done('application present');
    await this.#client.createApplication({
      aid: app.aid,
      keySettings: OPEN_KEY_SETTINGS,
      keyType: 'aes',
      keyCount: app.keyVersions.length,
      isoFid: app.isoFid,
      dfName: app.dfName,
    });
    return CHANGED;
  }

  /**
   * The application keys: the others first (with the default master key), key 0 last, so that key 0
   * being ours means all are. A key whose version already is the target one was changed by an
   * earlier, interrupted run (targets are at least 1, factory keys 0).
   */
  async applicationKeys(): Promise<Outcome> {
    const { application: app } = this.#in.layout;
    const keys = this.#in.keys.application;
    await this.#client.selectApplication(app.aid);
    if (await this.#tryAuthenticate('ev2', 0, { type: 'aes', key: keys[0] })) return done('application master key is already the issuer key');
    await this.#client.selectApplication(app.aid);
    if (!(await this.#tryAuthenticate('ev2', 0, DEFAULT_APPLICATION_KEY))) {
      throw new PersonalizationError('unknown-application-keys', 'the application master key is neither the default key nor the issuer key');
    }
    for (let keyNo = 1; keyNo < app.keyVersions.length; keyNo++) {
      if ((await this.#client.getKeyVersion(keyNo)) === app.keyVersions[keyNo]) continue;
      await this.#client.changeKey({ keyNo, newKey: keys[keyNo], newKeyType: 'aes', newKeyVersion: app.keyVersions[keyNo], oldKey: DEFAULT_APPLICATION_KEY.key });
    }
    await this.#client.changeKey({ keyNo: 0, newKey: keys[0], newKeyType: 'aes', newKeyVersion: app.keyVersions[0] });
    return CHANGED;
  }

  async createFiles(): Promise<Outcome> {
    await this.#authenticateApplication(0);
    const present = new Set(await this.#client.getFileIds());
    let created = false;
    for (const file of this.#in.layout.files) {
      if (present.has(file.fileNo)) {
        await this.#requireSameSettings(file);
        continue;
      }
      const create = file.kind === 'standard' ? this.#client.createStdDataFile.bind(this.#client) : this.#client.createBackupDataFile.bind(this.#client);
      await create(file.fileNo, file.commMode, file.access, file.size);
      created = true;
    }
    return created ? CHANGED : done('files present');
  }

  async #requireSameSettings(file: FileLayout): Promise<void> {
    const settings = await this.#client.getFileSettings(file.fileNo);
    const size = settings.details.length >= 3 ? readUintLE(settings.details, 0, 3) : -1;
    const same =
      settings.fileType === FILE_TYPE[file.kind] && settings.commMode === file.commMode && sameAccess(settings.access, file.access) && size === file.size;
    if (!same) throw new PersonalizationError('foreign-file-layout', `file ${file.fileNo} exists with other settings`);
  }

  /** Writes each file's content unless it already holds it (read with the file's read key, written with its write key). */
  async writeContent(): Promise<Outcome> {
    let wrote = false;
    for (const file of this.#in.layout.files) {
      if (!file.content) continue;
      if (await this.#holds(file)) continue;
      await this.#authenticateApplication(keyFor(file.access.write, file.access.readWrite));
      await this.#client.writeData(file.fileNo, 0, file.content, effectiveMode(file, file.access.write));
      if (file.kind === 'backup') await this.#client.commitTransaction();
      wrote = true;
    }
    return wrote ? CHANGED : done('contents present');
  }

  async #holds(file: FileLayout): Promise<boolean> {
    const content = file.content as Uint8Array;
    await this.#authenticateApplication(keyFor(file.access.read, file.access.readWrite));
    const current = await this.#client.readData(file.fileNo, 0, content.length, effectiveMode(file, file.access.read));
    return constantTimeEqual(current, content);
  }

  async applicationKeySettings(): Promise<Outcome> {
    await this.#authenticateApplication(0);
    const { keySettings } = await this.#client.getKeySettings();
    if (keySettings === this.#in.layout.application.keySettings) return done('application key settings final');
    await this.#client.changeKeySettings(this.#in.layout.application.keySettings);
    return CHANGED;
  }

  async piccKeySettings(): Promise<Outcome> {
    await this.#authenticatePicc();
    const { keySettings } = await this.#client.getKeySettings();
    if (keySettings === this.#in.layout.piccKeySettings) return done('PICC key settings final');
    await this.#client.changeKeySettings(this.#in.layout.piccKeySettings);
    return CHANGED;
  }

  async verifyCard(): Promise<Outcome> {
    this.#client.dropSession();
    const verdict = await this.#in.verify();
    if (!verdict.passed) throw new PersonalizationError('verification-failed', `card ${toHex(this.#in.uid)} does not pass the door check: ${verdict.why}`);
    return checked('verified as a door would');
  }
}

function sameAccess(a: AccessRights, b: AccessRights): boolean {
  return a.read === b.read && a.write === b.write && a.readWrite === b.readWrite && a.change === b.change;
}

/** The key to authenticate with for an access right, falling back to read&write; free rights need none but key 0 works in a session. */
function keyFor(right: number, readWrite: number): number {
  if (right <= 0x0d) return right;
  if (readWrite <= 0x0d) return readWrite;
  return 0;
}

/** A free right means plain communication; a key right the file's mode. */
function effectiveMode(file: FileLayout, right: number): FileLayout['commMode'] {
  return right === FREE_ACCESS ? 'plain' : file.commMode;
}
