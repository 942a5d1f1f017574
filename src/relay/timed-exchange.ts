import type { NanoTimer } from '../desfire/proximity-check.js';
import type { TimedAnswer, Transport } from '../desfire/transport.js';

/**
 * A TimedExchangeTask run where the card is: each command sent as it is, in order, with nothing
 * in between, each timed from before its transceive to after its answer on `clock` (monotonic).
 */
export async function runTimedExchange(transport: Transport, commands: readonly Uint8Array[], clock: NanoTimer): Promise<TimedAnswer[]> {
  const answers: TimedAnswer[] = [];
  for (const command of commands) {
    const start = clock();
    const response = await transport.transceive(command);
    answers.push({ response, elapsedNs: clock() - start });
  }
  return answers;
}
