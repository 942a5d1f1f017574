import { describe, expect, it } from 'vitest';
import { mayCall, METHOD_ROLES } from '../../../src/server/access/method-roles.js';
import { ROLES } from '../../../src/server/access/roles.js';
import { SERVICES } from '../../../src/server/service.js';

const offered = SERVICES.flatMap((service) => service.methods.map((method) => `/${service.typeName}/${method.name}`));

describe('METHOD_ROLES', () => {
  it('has a rule for every method of every offered service, and none for a method that does not exist', () => {
    expect(offered.filter((path) => !Object.hasOwn(METHOD_ROLES, path))).toEqual([]);
    expect(Object.keys(METHOD_ROLES).filter((path) => !offered.includes(path))).toEqual([]);
  });

  it('is frozen and grants only known roles', () => {
    expect(Object.isFrozen(METHOD_ROLES)).toBe(true);
    for (const granted of Object.values(METHOD_ROLES)) for (const role of granted) expect(ROLES).toContain(role);
  });

  it('lets admin call every method', () => {
    for (const path of offered) expect(mayCall(['admin'], path)).toBe(true);
  });

  it('keeps keys and profile changes to admin, card keys from the emulator to testers', () => {
    const nonAdmin = ROLES.filter((r) => r !== 'admin');
    for (const path of offered.filter((p) => p.startsWith('/desfirepacs.v1.KeyService/'))) expect(mayCall(nonAdmin, path)).toBe(false);
    expect(mayCall(nonAdmin, '/desfirepacs.v1.ProfileService/PutProfile')).toBe(false);
    expect(ROLES.filter((r) => mayCall([r], '/desfirepacs.v1.EmulatorService/ExportImage'))).toEqual(['admin', 'tester']);
  });

  it('gives each role its own methods', () => {
    expect(offered.filter((p) => mayCall(['door'], p))).toEqual(['/desfirepacs.v1.AuthService/Authenticate']);
    expect(offered.filter((p) => mayCall(['station'], p))).toEqual(['/desfirepacs.v1.EncoderService/Encode']);
    expect(mayCall(['operator'], '/desfirepacs.v1.EncoderService/CreateBatch')).toBe(true);
    expect(mayCall(['operator'], '/desfirepacs.v1.EncoderService/Encode')).toBe(false);
    expect(mayCall(['operator'], '/desfirepacs.v1.ProfileService/ValidateProfile')).toBe(true);
    expect(mayCall(['door', 'station'], '/desfirepacs.v1.EncoderService/Encode')).toBe(true);
  });

  it('refuses everybody but admin a method it has no rule for', () => {
    expect(mayCall(ROLES.filter((r) => r !== 'admin'), '/desfirepacs.v1.NewService/Anything')).toBe(false);
    expect(mayCall(['admin'], '/desfirepacs.v1.NewService/Anything')).toBe(true);
    expect(mayCall(['operator'], 'toString')).toBe(false);
  });
});
