import { Server, ServerCredentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import { ActiveCalls } from '../../../../src/server/grpc/active-calls.js';
import { addService } from '../../../../src/server/grpc/add-service.js';

export const silentLogger = pino({ level: 'silent' });

export interface TestServer {
  /** 127.0.0.1:port */
  readonly address: string;
  readonly calls: ActiveCalls;
  close(): Promise<void>;
}

/**
 * A grpc-js server on a loopback port chosen by the system, with the services `register` adds
 * (through `addService`, as the service does). `close` ends calls still open, then shuts down.
 */
export async function startServer(register: (server: Server, hooks: Parameters<typeof addService>[3]) => void): Promise<TestServer> {
  const server = new Server();
  const calls = new ActiveCalls();
  register(server, { logger: silentLogger, calls });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
