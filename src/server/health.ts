import type { Server } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

/**
 * The standard grpc.health.v1 service for the whole server ("") and each service by its full
 * name. Everything starts NOT_SERVING: load balancers and `grpc_health_probe` see SERVING only
 * once the stores are open and the port is bound, and NOT_SERVING again as soon as a shutdown
 * begins, so they stop sending calls before the server stops taking them.
 */
export class ServiceHealth {
  readonly #names: readonly string[];
  readonly #health: HealthImplementation;

  constructor(serviceNames: readonly string[]) {
    this.#names = ['', ...serviceNames];
    this.#health = new HealthImplementation(Object.fromEntries(this.#names.map((name) => [name, 'NOT_SERVING'])));
  }

  addToServer(server: Server): void {
    this.#health.addToServer(server);
  }

  /** Sets the status of the server and of every service. */
  set(status: Extract<ServingStatus, 'SERVING' | 'NOT_SERVING'>): void {
    for (const name of this.#names) this.#health.setStatus(name, status);
  }
}
