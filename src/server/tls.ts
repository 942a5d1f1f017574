import { ServerCredentials } from '@grpc/grpc-js';
import type { ServiceConfig, TlsConfig } from './config/service-config.js';
import { isLoopbackHost } from './loopback.js';

/** How the gRPC port is protected, as the start log says it. */
export type TransportSecurity = 'mTLS' | 'TLS' | 'plaintext';

export function transportSecurity(tls: TlsConfig | undefined): TransportSecurity {
  if (tls === undefined) return 'plaintext';
  return tls.clientCa === undefined ? 'TLS' : 'mTLS';
}

/** The port's credentials: TLS with the configured certificate, client certificates required when a client CA is set. */
export function serverCredentials(tls: TlsConfig | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.certChain }], tls.clientCa !== undefined);
}

/** A host:port whose host reaches only this machine. */
export function isLoopbackListen(listen: string): boolean {
  return isLoopbackHost(listen.slice(0, listen.lastIndexOf(':')));
}

/**
 * Why the service must not listen as configured, or undefined: without TLS, calls (key sets,
 * relayed card sessions) would cross the network in clear, so plaintext stays on loopback
 * unless explicitly allowed (a TLS-terminating proxy in front, ARCHITECTURE.md §6).
 */
export function plaintextRefusal(config: Pick<ServiceConfig, 'listen' | 'tls' | 'allowPlaintext'>): string | undefined {
  if (config.tls !== undefined || config.allowPlaintext || isLoopbackListen(config.listen)) return undefined;
  return `${config.listen} is not a loopback address and no TLS is configured: set tls.cert_file and tls.key_file (and tls.client_ca_file for mTLS), listen on 127.0.0.1 / [::1] / localhost, or set allow_plaintext when a TLS-terminating proxy is in front`;
}
