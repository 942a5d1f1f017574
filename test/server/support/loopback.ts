import { Server, ServerCredentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import { ActiveCalls } from '../../../src/server/grpc/active-calls.js';
import type { ServiceHooks } from '../../../src/server/grpc/add-service.js';

export interface LoopbackServer {
  /** 127.0.0.1:port */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * A grpc-js server on a loopback port the system picks, with what `register` adds through
 * `addService` (silent logs). `close` cancels what is still open and stops it.
 */
export async function loopbackServer(register: (server: Server, hooks: ServiceHooks) => void): Promise<LoopbackServer> {
  const server = new Server();
  register(server, { logger: pino({ level: 'silent' }), calls: new ActiveCalls() });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    close: async () => server.forceShutdown(),
  };
}
