import { Server } from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import { ActiveCalls } from './active-calls.js';
import type { ServiceHooks } from './add-service.js';
import { bindServer } from './bind.js';

export interface LoopbackServer {
  /** 127.0.0.1:port */
  readonly address: string;
  readonly calls: ActiveCalls;
  /** Ends the calls still open, then stops the server. */
  close(): Promise<void>;
}

/**
 * A grpc-js server on a loopback port the system chooses, carrying what `register` adds through
 * `addService`, as the service does: for tests and benchmarks of single services.
 */
export async function startLoopbackServer(register: (server: Server, hooks: ServiceHooks) => void, logger: Logger = pino({ level: 'silent' })): Promise<LoopbackServer> {
  const server = new Server();
  const calls = new ActiveCalls();
  register(server, { logger, calls });
  const port = await bindServer(server, '127.0.0.1:0');
  return {
    address: `127.0.0.1:${port}`,
    calls,
    close: async () => {
      calls.abortAll('server closed');
      server.forceShutdown();
    },
  };
}
