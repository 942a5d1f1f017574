import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../desfire/bytes.js';
import { isDesfireError } from '../desfire/errors.js';
import type { Transport } from '../desfire/transport.js';
import { factoryState } from '../emulator/factory.js';
import { importImage } from '../emulator/image.js';
import { InProcessTransport } from '../emulator/in-process-transport.js';
import { VirtualCard } from '../emulator/virtual-card.js';
import { doorConfigOf, planCard } from '../encoder/card-plan.js';
import { DesfireClient } from '../encoder/client/desfire-client.js';
import { authenticateAtDoor, doorCheck } from '../encoder/door/authenticator.js';
import { FileKeyStore, isKeyStoreError, type KeyStore } from '../encoder/keys/index.js';
import { PersonalizationError } from '../encoder/personalize/personalization-error.js';
import { personalize } from '../encoder/personalize/personalizer.js';
import { formatOfPath, loadProfileFile, parseCardData, validateProfile } from '../encoder/profile/index.js';
import { TransportError } from '../encoder/transport-error.js';
import type { Profile } from '../gen/desfirepacs/v1/profile_pb.js';
import { defaultKeyFile, keyFileSecret } from './keys.js';

/** `desfire-pacs encode` and `desfire-pacs verify`: one card, through a virtual card's image or a PC/SC reader. */

export interface CardIo {
  write(line: string): void;
  error(line: string): void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Opens the PC/SC reader named (the PC/SC transport); absent where PC/SC is not available. */
  readonly openReader?: (name: string) => Promise<Transport & { close(): Promise<void> }>;
}

export const ENCODE_USAGE = `usage: desfire-pacs encode --profile <file> --data <file|yaml> (--emulator <image> | --reader <name>) [options]
       desfire-pacs verify --profile <file> (--emulator <image> | --reader <name>) [options]

encode personalizes one card with a profile and the card's data (card number, validity), step by
step, then checks it as a door would; a card interrupted earlier is completed, an encoded card is
left as it is. verify runs the door flow only and prints the credential or the reason for refusal.

options:
  --profile <file>          the encoding profile (YAML or JSON), e.g. profiles/generic-pacs-v1.yaml
  --data <file|text>        encode: the card's data, a YAML/JSON file or inline YAML
  --emulator <image>        a virtual card's image (a new factory card when the file does not exist; saved after)
  --reader <name>           a PC/SC reader, by (part of) its name
  --keys <file>             the key file (default: the service's, $DESFIRE_PACS_DATA_DIR/keys.json, else desfire-pacs-data/keys.json);
                            unlocked with DESFIRE_PACS_KEK or DESFIRE_PACS_PASSPHRASE
  -h, --help                this help
`;

interface Options {
  profile: string;
  data?: string;
  emulator?: string;
  reader?: string;
  keys: string;
}

function parse(args: string[], io: CardIo, needsData: boolean): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      profile: { type: 'string' },
      data: { type: 'string' },
      emulator: { type: 'string' },
      reader: { type: 'string' },
      keys: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const cwd = io.cwd ?? process.cwd();
  if (values.help) return undefined;
  const missing = [!values.profile && '--profile', needsData && !values.data && '--data'].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(' and ')}`);
  if ((values.emulator === undefined) === (values.reader === undefined)) throw new UsageError('give exactly one of --emulator and --reader');
  return {
    profile: resolve(cwd, values.profile as string),
    ...(values.data !== undefined ? { data: values.data } : {}),
    ...(values.emulator !== undefined ? { emulator: resolve(cwd, values.emulator) } : {}),
    ...(values.reader !== undefined ? { reader: values.reader } : {}),
    keys: values.keys !== undefined ? resolve(cwd, values.keys) : defaultKeyFile(io.env ?? process.env, cwd),
  };
}

class UsageError extends Error {}

/**
 * Time a proximity-check round may take beyond the card's publicised response time. A PC/SC host
 * times whole exchanges through pcscd (milliseconds), not the card's frame timing, and an
 * in-process card still shares the CPU with the garbage collector: the margins say so. They make
 * the check catch slow relays only; catching fast ones needs timing at the reader's RF front end.
 */
function proximityToleranceNs(options: Options): bigint {
  return options.reader !== undefined ? 50_000_000n : 20_000_000n;
}

/** The card to work on: a virtual card from its image (saved afterwards), or a PC/SC reader's card. */
async function openCard(options: Options, io: CardIo): Promise<{ transport: Transport; uid: Uint8Array; close(): Promise<void> }> {
  if (options.emulator !== undefined) {
    const path = options.emulator;
    const card = new VirtualCard(existsSync(path) ? importImage(JSON.parse(await readFile(path, 'utf8'))) : factoryState());
    const transport = new InProcessTransport(card);
    return {
      transport,
      uid: card.uid,
      close: async () => {
        await writeFile(`${path}.tmp`, `${JSON.stringify(card.exportImage(), null, 2)}\n`);
        await rename(`${path}.tmp`, path);
      },
    };
  }
  if (!io.openReader) throw new UsageError('PC/SC is not available in this build');
  const reader = await io.openReader(options.reader as string);
  const uid = reader.card?.uid;
  if (!uid) throw new TransportError('no card on the reader');
  return { transport: reader, uid, close: () => reader.close() };
}

async function setUp(args: string[], io: CardIo, needsData: boolean) {
  const options = parse(args, io, needsData);
  if (!options) return undefined;
  const profile: Profile = validateProfile(await loadProfileFile(options.profile));
  const keyStore: KeyStore = await FileKeyStore.open(options.keys, keyFileSecret(io.env ?? process.env, options.keys).secret);
  return { options, profile, keyStore };
}

export async function runEncode(args: string[], io: CardIo): Promise<number> {
  return guarded(io, async () => {
    const setup = await setUp(args, io, true);
    if (!setup) return usage(io);
    const { options, profile, keyStore } = setup;
    const dataPath = resolve(io.cwd ?? process.cwd(), options.data as string);
    const cardData = existsSync(dataPath) ? parseCardData(await readFile(dataPath, 'utf8'), formatOfPath(dataPath)) : parseCardData(options.data as string, 'yaml');
    const card = await openCard(options, io);
    try {
      const plan = await planCard(profile, cardData, keyStore, card.uid);
      const door = doorConfigOf(profile, keyStore, { proximityToleranceNs: proximityToleranceNs(options) });
      io.write(`card ${toHex(card.uid)}: encoding with profile "${profile.name}"`);
      const result = await personalize({
        client: new DesfireClient(card.transport),
        uid: card.uid,
        ...plan,
        journal: { record: (e) => (e.phase === 'started' ? undefined : io.write(`  ${e.step}: ${e.phase}${e.detail ? ` (${e.detail})` : ''}`)) },
        verify: doorCheck(new DesfireClient(card.transport), card.uid, door),
      });
      io.write(result.changed.length === 0 ? 'already encoded; verified' : `encoded and verified (${result.changed.length} steps changed the card)`);
      return 0;
    } finally {
      await card.close();
      await keyStore.close();
    }
  });
}

export async function runVerify(args: string[], io: CardIo): Promise<number> {
  return guarded(io, async () => {
    const setup = await setUp(args, io, false);
    if (!setup) return usage(io);
    const { options, profile, keyStore } = setup;
    const card = await openCard(options, io);
    try {
      const result = await authenticateAtDoor(new DesfireClient(card.transport), card.uid, doorConfigOf(profile, keyStore, { proximityToleranceNs: proximityToleranceNs(options) }));
      if (!result.granted) {
        io.write(`card ${toHex(card.uid)}: DENIED (${result.reason}): ${result.detail}`);
        return 1;
      }
      const c = result.credential;
      io.write(`card ${toHex(card.uid)}: GRANTED (key set ${result.keySet} v${result.keyVersion})`);
      io.write(`  card number ${c.cardNumber}, issuer ${c.issuer}, site ${c.siteCode}, valid ${c.validFrom?.seconds}..${c.validTo?.seconds} (Unix seconds)`);
      return 0;
    } finally {
      await card.close();
      await keyStore.close();
    }
  });
}

function usage(io: CardIo): number {
  io.write(ENCODE_USAGE.trimEnd());
  return 0;
}

/** Runs a command; known failures become one clear line and exit 1 (2 for usage). */
async function guarded(io: CardIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      io.error(`desfire-pacs: ${e.message}\n${ENCODE_USAGE}`);
      return 2;
    }
    if (e instanceof PersonalizationError || e instanceof TransportError || isDesfireError(e) || isKeyStoreError(e) || (e instanceof Error && e.name === 'ProfileError')) {
      io.error(`desfire-pacs: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
