import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceConfig } from '../config/service-config.js';
import { ApiError } from '../grpc/api-error.js';
import type { ClientIdentity } from './client-identity.js';
import { mayCall, METHOD_ROLES } from './method-roles.js';
import type { Role } from './roles.js';

/** Runs before every call of the offered services with the method's full path; throws to refuse it. */
export type Authorize = (path: string, caller: ClientIdentity | undefined) => void;

/**
 * How calls are let in, as the start log says it: `roles` (each certificate's CN maps to roles),
 * `open-mtls` (any certificate the client CA signed may call everything, as `access.open` asked),
 * `open` (no client certificates: plaintext on loopback or one-way TLS).
 */
export type AccessMode = 'roles' | 'open-mtls' | 'open';

type AccessSettings = Pick<ServiceConfig, 'tls' | 'access'>;

export function accessMode(config: AccessSettings): AccessMode {
  if (config.tls?.clientCa === undefined) return 'open';
  return config.access.roles === undefined ? 'open-mtls' : 'roles';
}

/** A refused combination of settings, naming the setting to change. */
export interface AccessRefusal {
  readonly setting: 'access.roles' | 'access.open';
  readonly message: string;
}

/**
 * Access settings that contradict each other or the transport, or undefined: roles are given
 * to client certificates, so they need mTLS to mean anything; and roles and `access.open` cannot
 * both hold. Checked when the config is loaded, naming the setting.
 */
export function accessConflict(config: AccessSettings): AccessRefusal | undefined {
  const { roles, open } = config.access;
  if (roles !== undefined && open) return { setting: 'access.open', message: 'access.open and access.roles exclude each other: roles restrict the clients, open lets every client do everything' };
  if (roles !== undefined && config.tls?.clientCa === undefined) {
    return { setting: 'access.roles', message: 'roles are given to client certificates, and none are asked for: set tls.client_ca_file (mTLS), or remove access.roles' };
  }
  return undefined;
}

/**
 * Why the service must not start with these access settings, or undefined: a conflict, or mTLS
 * without roles, which would let every certificate the client CA ever signed do everything an
 * admin can (keys included); that takes an explicit `access.open`.
 */
export function accessRefusal(config: AccessSettings): AccessRefusal | undefined {
  const conflict = accessConflict(config);
  if (conflict !== undefined || accessMode(config) !== 'open-mtls' || config.access.open) return conflict;
  return {
    setting: 'access.roles',
    message: 'mTLS is on and no roles are given, so every certificate the client CA signs could call everything (keys included): map certificate names (subject CN) to roles in access.roles, or set access.open to allow that explicitly',
  };
}

/** The check for `config`, or undefined when every call is let in (see `accessMode`). */
export function authorizer(config: AccessSettings): Authorize | undefined {
  const roles = config.access.roles;
  if (accessMode(config) !== 'roles' || roles === undefined) return undefined;
  return (path, caller) => checkAccess(roles, path, caller);
}

/**
 * Lets the call to `path` through if the caller's certificate CN has a role that may make it:
 * UNAUTHENTICATED without a CN, PERMISSION_DENIED otherwise. The refusal names the method and
 * the CN (a name the client sent, never the certificate itself).
 */
export function checkAccess(roles: ReadonlyMap<string, readonly Role[]>, path: string, caller: ClientIdentity | undefined): void {
  if (caller === undefined) throw new ApiError(GrpcStatus.UNAUTHENTICATED, `${path} needs a client certificate whose subject has one common name (CN)`);
  const held = roles.get(caller.commonName);
  if (held === undefined) throw new ApiError(GrpcStatus.PERMISSION_DENIED, `${path} refused: client certificate "${caller.commonName}" has no role in access.roles`);
  if (!mayCall(held, path)) {
    const needed = ['admin', ...(Object.hasOwn(METHOD_ROLES, path) ? METHOD_ROLES[path] : [])].join(' or ');
    throw new ApiError(GrpcStatus.PERMISSION_DENIED, `${path} refused: client certificate "${caller.commonName}" has role ${held.join(', ')}; the method needs ${needed}`);
  }
}
