/** What a client certificate may be allowed to do (ARCHITECTURE.md §6); `access.roles` maps certificate names to these. */
export const ROLES = ['door', 'station', 'operator', 'admin', 'tester'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}
