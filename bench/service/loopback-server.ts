import { Server, ServerCredentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import { ActiveCalls } from '../../src/server/grpc/active-calls.js';
import type { ServiceHooks } from '../../src/server/grpc/add-service.js';

export const silentLogger = pino({ level: 'silent' });

export interface LoopbackServer {
  /** 127.0.0.1:port */
  readonly address: string;
  close(): void;
}

/** A grpc-js server on a loopback port the system chooses, with what `register` adds (through addService, as the service does). */
export async function startLoopbackServer(register: (server: Server, hooks: ServiceHooks) => void): Promise<LoopbackServer> {
  const server = new Server();
  const calls = new ActiveCalls();
  register(server, { logger: silentLogger, calls });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    close: () => {
      calls.abortAll('benchmark over');
      server.forceShutdown();
    },
  };
}
