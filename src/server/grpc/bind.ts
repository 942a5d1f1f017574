import { ServerCredentials, type Server } from '@grpc/grpc-js';

/** `server.bindAsync` as a promise of the bound port (the one the system chose for port 0). */
export function bindServer(server: Server, address: string, credentials: ServerCredentials = ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, credentials, (error, port) => (error ? reject(new Error(`cannot listen on ${address}: ${error.message}`, { cause: error })) : resolve(port))),
  );
}
