import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import type { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { AuthService, DenialReason } from '../../src/gen/desfirepacs/v1/auth_pb.js';
import { authenticateCard } from '../../src/relay/authenticate-card.js';
import { serviceClient, type ServiceClient } from '../../src/server/grpc/client.js';
import { serviceDefinition } from '../../src/server/grpc/service-definition.js';
import { nsToMs, quantile, tally } from './stats.js';

/** What the reader hosts saw in one measured window. */
export interface DoorWindow {
  readonly streams: number;
  readonly seconds: number;
  readonly granted: number;
  /** Denials by reason (the API's enum name). */
  readonly denied: ReadonlyMap<string, number>;
  /** Calls that ended with a gRPC error instead of a verdict, by error text. */
  readonly failed: ReadonlyMap<string, number>;
  readonly authentications: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time of the whole process (service, reader hosts, virtual cards) per authentication. */
  readonly cpuMsPerAuth: number;
}

/**
 * Door reader hosts in this process, one per card, each with a gRPC connection of its own
 * (grpc-js would share one per address otherwise), authenticating their cards over and over
 * through AuthService.Authenticate with the relay's reader-host side.
 */
export class ReaderHosts {
  readonly #clients: ServiceClient<typeof AuthService>[];

  constructor(
    address: string,
    private readonly readers: readonly InProcessTransport[],
  ) {
    const Client = makeGenericClientConstructor(serviceDefinition(AuthService), AuthService.typeName);
    this.#clients = readers.map(() => serviceClient(AuthService, address, new Client(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })));
  }

  /** Authenticates for `windowMs` after an unmeasured warm-up of a fifth of it; `between` runs after the warm-up. */
  async measure(windowMs: number, between: () => void = () => {}): Promise<DoorWindow> {
    await this.#run(windowMs / 5);
    between();
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const outcomes = await this.#run(windowMs);
    const seconds = nsToMs(process.hrtime.bigint() - start) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    const latencies = outcomes.map((o) => o.ms);
    return {
      streams: this.readers.length,
      seconds,
      granted: outcomes.filter((o) => o.verdict === 'granted').length,
      denied: tally(outcomes.flatMap((o) => (o.verdict === 'denied' ? [o.reason] : []))),
      failed: tally(outcomes.flatMap((o) => (o.verdict === 'failed' ? [o.reason] : []))),
      authentications: outcomes.length,
      perSecond: outcomes.length / seconds,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      cpuMsPerAuth: (user + system) / 1000 / outcomes.length,
    };
  }

  close(): void {
    for (const client of this.#clients) client.grpc.close();
  }

  /** Every reader host authenticates its card, one after the other, until `windowMs` has passed. */
  async #run(windowMs: number): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const deadline = process.hrtime.bigint() + BigInt(Math.round(windowMs * 1e6));
    await Promise.all(
      this.readers.map(async (reader, i) => {
        while (process.hrtime.bigint() < deadline) {
          const start = process.hrtime.bigint();
          const verdict = await authenticateCard(this.#clients[i], reader, { doorId: `door-${i + 1}` }).then(
            (result) => (result.granted ? { verdict: 'granted' as const, reason: '' } : { verdict: 'denied' as const, reason: DenialReason[result.reason] }),
            (e: unknown) => ({ verdict: 'failed' as const, reason: (e as Partial<ServiceError>).details ?? String(e) }),
          );
          outcomes.push({ ...verdict, ms: nsToMs(process.hrtime.bigint() - start) });
        }
      }),
    );
    return outcomes;
  }
}

interface Outcome {
  readonly verdict: 'granted' | 'denied' | 'failed';
  readonly reason: string;
  readonly ms: number;
}
