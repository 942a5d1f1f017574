#!/usr/bin/env node
import { runDemo } from './demo.js';

/** The `desfire-pacs` command line. */
const USAGE = `usage: desfire-pacs <command>

commands:
  demo    a reader authenticates a virtual DESFire card in memory and reads its credential
`;

async function main(args: string[]): Promise<number> {
  const write = (line: string) => process.stdout.write(`${line}\n`);
  switch (args[0]) {
    case 'demo':
      return runDemo(write);
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
