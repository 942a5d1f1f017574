import type { Server } from '@grpc/grpc-js';

/**
 * Stops a grpc-js server: no new calls, then up to `graceMs` for the calls in progress to end
 * (`tryShutdown`), then the rest are cancelled (`forceShutdown`). Resolves with how it ended.
 */
export function shutdownServer(server: Server, graceMs: number): Promise<'drained' | 'forced'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve('forced');
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve('drained');
    });
  });
}
