#!/usr/bin/env node
import { runBatch } from './batch.js';
import { runDemo } from './demo.js';
import { runDoor } from './door.js';
import { runEmulate } from './emulate.js';
import { PcscTransport } from '../encoder/transports/index.js';
import { runEncode, runVerify, type CardIo } from './encode.js';
import { runKeys } from './keys.js';
import { runServe } from './serve.js';
import { runStation } from './station.js';
import { createVirtualCard } from './virtual-card-factory.js';

/** The `desfire-pacs` command line. */
const USAGE = `usage: desfire-pacs <command>

commands:
  serve     the gRPC service: door authentication, batch encoding, virtual cards (serve --help)
  batch     batches on a running service: create, watch, list, cancel, cards (batch --help)
  station   a remote encoding station relaying a reader's cards to the service (station --help)
  door      authenticate one card through the service, as a door's reader host (door --help)
  demo      a reader authenticates a virtual DESFire card in memory and reads its credential
  emulate   a virtual DESFire EV3 card in vsmartcard's vpcd reader, for PC/SC programs (emulate --help)
  keys      key sets in the encrypted key file: create, add-version, set-current, list (keys --help)
  encode    personalize one card with a profile and its data (encode --help)
  verify    check one card as a door would (verify --help)
`;

/** encode/verify: output lines, and a PC/SC reader that waits for the card to be placed. */
function cardIo(write: (line: string) => void): CardIo {
  return {
    write,
    error: (line) => process.stderr.write(`${line}\n`),
    openReader: async (name) => {
      const transport = await PcscTransport.open(name);
      write(`place a card on ${transport.readerName}`);
      await transport.waitForCard({ timeoutMs: 60_000 });
      return transport;
    },
  };
}

async function main(args: string[]): Promise<number> {
  const write = (line: string) => process.stdout.write(`${line}\n`);
  const error = (line: string) => process.stderr.write(`${line}\n`);
  switch (args[0]) {
    case 'demo':
      return runDemo(write);
    case 'serve':
      return runServe(args.slice(1), { write, error });
    case 'batch':
      return runBatch(args.slice(1), { write, error, isTTY: process.stdout.isTTY });
    case 'station':
      return runStation(args.slice(1), { write, error });
    case 'door':
      return runDoor(args.slice(1), { write, error });
    case 'keys':
      return runKeys(args.slice(1), { write, error });
    case 'encode':
      return runEncode(args.slice(1), cardIo(write));
    case 'verify':
      return runVerify(args.slice(1), cardIo(write));
    case 'emulate':
      return runEmulate(args.slice(1), { write, error, createCard: createVirtualCard });
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return args[0] === undefined ? 2 : 0;
    default:
      process.stderr.write(`desfire-pacs: unknown command "${args[0]}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`desfire-pacs: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
