import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { accessConflict, accessMode, accessRefusal, authorizer, checkAccess } from '../../../src/server/access/access-policy.js';
import { clientIdentity } from '../../../src/server/access/client-identity.js';
import { doorAudit } from '../../../src/server/access/door-audit.js';
import type { Role } from '../../../src/server/access/roles.js';
import type { TlsConfig } from '../../../src/server/config/service-config.js';
import { ApiError } from '../../../src/server/grpc/api-error.js';

const roles = new Map<string, readonly Role[]>([
  ['door-lobby', ['door']],
  ['ops-alice', ['operator']],
]);
const tls = { certChain: Buffer.from('c'), key: Buffer.from('k'), certFile: 'server.crt' } satisfies TlsConfig;
const mtls = { ...tls, clientCa: Buffer.from('ca'), clientCaFile: 'ca.crt' } satisfies TlsConfig;

function refusal(fn: () => void): ApiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected a refusal');
}

describe('checkAccess', () => {
  it('lets a role through to its methods', () => {
    expect(() => checkAccess(roles, '/desfirepacs.v1.AuthService/Authenticate', { commonName: 'door-lobby' })).not.toThrow();
  });

  it('is PERMISSION_DENIED for a method the role lacks, naming method, CN, its roles and what is needed', () => {
    const e = refusal(() => checkAccess(roles, '/desfirepacs.v1.EncoderService/CreateBatch', { commonName: 'door-lobby' }));
    expect(e.code).toBe(status.PERMISSION_DENIED);
    expect(e.message).toBe('/desfirepacs.v1.EncoderService/CreateBatch refused: client certificate "door-lobby" has role door; the method needs admin or operator');
  });

  it('is PERMISSION_DENIED for a CN without roles', () => {
    const e = refusal(() => checkAccess(roles, '/desfirepacs.v1.ProfileService/ListProfiles', { commonName: 'mallory' }));
    expect(e.code).toBe(status.PERMISSION_DENIED);
    expect(e.message).toBe('/desfirepacs.v1.ProfileService/ListProfiles refused: client certificate "mallory" has no role in access.roles');
  });

  it('is UNAUTHENTICATED without an identity', () => {
    expect(refusal(() => checkAccess(roles, '/desfirepacs.v1.AuthService/Authenticate', undefined)).code).toBe(status.UNAUTHENTICATED);
  });
});

describe('clientIdentity', () => {
  it('is the subject CN of the peer certificate', () => {
    expect(clientIdentity({ sslPeerCertificate: { subject: { CN: 'station-7' } } as never })).toEqual({ commonName: 'station-7' });
  });

  it('is undefined without a certificate, a CN, or with several CNs', () => {
    expect(clientIdentity(null)).toBeUndefined();
    expect(clientIdentity({})).toBeUndefined();
    expect(clientIdentity({ sslPeerCertificate: { subject: { O: 'x' } } as never })).toBeUndefined();
    expect(clientIdentity({ sslPeerCertificate: { subject: { CN: '' } } as never })).toBeUndefined();
    expect(clientIdentity({ sslPeerCertificate: { subject: { CN: ['a', 'b'] } } as never })).toBeUndefined();
  });
});

describe('access settings', () => {
  it('enforce roles only with mTLS and roles', () => {
    expect(accessMode({ tls: mtls, access: { roles, open: false } })).toBe('roles');
    expect(authorizer({ tls: mtls, access: { roles, open: false } })).toBeTypeOf('function');
    expect(accessMode({ tls: mtls, access: { open: true } })).toBe('open-mtls');
    expect(authorizer({ tls: mtls, access: { open: true } })).toBeUndefined();
    expect(accessMode({ tls: undefined, access: { open: false } })).toBe('open');
    expect(accessMode({ tls, access: { open: false } })).toBe('open');
    expect(authorizer({ tls: undefined, access: { open: false } })).toBeUndefined();
  });

  it('conflict: roles without client certificates, roles with access.open', () => {
    expect(accessConflict({ tls, access: { roles, open: false } })).toMatchObject({ setting: 'access.roles', message: expect.stringMatching(/set tls\.client_ca_file/) });
    expect(accessConflict({ tls: undefined, access: { roles, open: false } })?.setting).toBe('access.roles');
    expect(accessConflict({ tls: mtls, access: { roles, open: true } })?.setting).toBe('access.open');
    expect(accessConflict({ tls: mtls, access: { open: false } })).toBeUndefined();
  });

  it('refuse a start with mTLS and neither roles nor access.open', () => {
    expect(accessRefusal({ tls: mtls, access: { open: false } })).toMatchObject({ setting: 'access.roles', message: expect.stringMatching(/every certificate the client CA signs could call everything.*access\.open/) });
    expect(accessRefusal({ tls: mtls, access: { open: true } })).toBeUndefined();
    expect(accessRefusal({ tls: mtls, access: { roles, open: false } })).toBeUndefined();
    expect(accessRefusal({ tls: undefined, access: { open: false } })).toBeUndefined();
    expect(accessRefusal({ tls, access: { roles, open: false } })?.setting).toBe('access.roles');
  });
});

describe('doorAudit', () => {
  const context = { signal: new AbortController().signal, peer: 'ipv4:10.0.0.9:4711', metadata: new Metadata() };

  it('names the client certificate, then the door', () => {
    expect(doorAudit({ ...context, caller: { commonName: 'door-lobby' } }, 'front-1')).toEqual({ actor: 'cert:door-lobby door:front-1', purpose: 'authenticate' });
    expect(doorAudit({ ...context, caller: { commonName: 'door-lobby' } }, '')).toEqual({ actor: 'cert:door-lobby', purpose: 'authenticate' });
  });

  it('without a certificate: the door id, else the address', () => {
    expect(doorAudit(context, 'front-1').actor).toBe('front-1');
    expect(doorAudit(context, '').actor).toBe('ipv4:10.0.0.9:4711');
  });
});
