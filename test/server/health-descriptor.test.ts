import { create, createFileRegistry, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { service as served } from 'grpc-health-check';
import { describe, expect, it } from 'vitest';
import { HEALTH_FILE } from '../../src/server/health-descriptor.js';

const registry = createFileRegistry(HEALTH_FILE, () => undefined);
const message = (name: string) => registry.getMessage(`grpc.health.v1.${name}`) as DescMessage;

describe('grpc.health.v1 descriptor for reflection', () => {
  it('has the methods grpc-health-check serves, with their paths and stream kinds', () => {
    const health = registry.getService('grpc.health.v1.Health')!;
    const ours = Object.fromEntries(health.methods.map((m) => [m.name, { path: `/${health.typeName}/${m.name}`, responseStream: m.methodKind === 'server_streaming', requestStream: false }]));
    const theirs = Object.fromEntries(Object.entries(served).map(([name, m]) => [name, { path: m.path, responseStream: m.responseStream, requestStream: m.requestStream }]));
    expect(ours).toEqual(theirs);
  });

  it('reads and writes the bytes grpc-health-check reads and writes', () => {
    const answer = served.Check.responseSerialize({ status: 'NOT_SERVING' });
    expect(fromBinary(message('HealthCheckResponse'), answer)).toMatchObject({ status: 2 });
    const request = toBinary(message('HealthCheckRequest'), create(message('HealthCheckRequest'), { service: 'desfirepacs.v1.KeyService' }));
    expect(served.Check.requestDeserialize(Buffer.from(request))).toMatchObject({ service: 'desfirepacs.v1.KeyService' });
    const list = served.List.responseSerialize({ statuses: { '': { status: 'SERVING' } } });
    expect(fromBinary(message('HealthListResponse'), list)).toMatchObject({ statuses: { '': { status: 1 } } });
  });
});
