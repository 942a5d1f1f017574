import type { PeerCertificate } from 'node:tls';

/** What grpc-js's `call.getAuthContext()` tells of the TLS peer (its AuthContext type is not exported). */
export interface CallAuth {
  readonly sslPeerCertificate?: PeerCertificate;
}

/** Who is calling, as the client certificate says (mTLS only). */
export interface ClientIdentity {
  /** The certificate subject's common name (CN). */
  readonly commonName: string;
}

/**
 * The caller's identity from the call's TLS peer certificate: its subject CN. Undefined without
 * a certificate, or when the subject has no CN or several (which name would be meant is unclear).
 */
export function clientIdentity(auth: CallAuth | null | undefined): ClientIdentity | undefined {
  const cn: unknown = auth?.sslPeerCertificate?.subject?.CN;
  return typeof cn === 'string' && cn !== '' ? { commonName: cn } : undefined;
}
