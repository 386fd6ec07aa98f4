// App roles, weakest first: read (clone, see builds) < write (push, build) < admin (manage).
export type AppRole = 'read' | 'write' | 'admin';
export const appRoles: readonly AppRole[] = ['read', 'write', 'admin'];

export function parseAppRole(raw: string): AppRole | undefined {
  return (appRoles as readonly string[]).includes(raw) ? (raw as AppRole) : undefined;
}

export const atLeast = (role: AppRole, need: AppRole): boolean => appRoles.indexOf(role) >= appRoles.indexOf(need);
