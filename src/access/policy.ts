// The access policy: one pure function decides every git route and every API route.
import type { App } from '../db/app-store.js';
import type { User } from '../db/user-store.js';

export type AppRole = 'read' | 'write' | 'admin';

export type AccessRequest =
  /** Something done to an app; `app` is null when no app of that name exists. */
  | { readonly kind: 'app'; readonly appName: string; readonly app: App | null; readonly need: AppRole; readonly createIfMissing: boolean }
  /** Managing a user's own things (keys, tokens): the user themself or an admin. */
  | { readonly kind: 'user'; readonly userId: number }
  /** Listing apps: any signed-in user sees what they may read. */
  | { readonly kind: 'list-apps' };

export interface PolicySettings {
  /** Whether any signed-in user may create an app by pushing to a new name. */
  readonly createAppsOnPush: boolean;
}

export type Decision =
  | { readonly allow: true; readonly create: boolean }
  | { readonly allow: false; readonly code: 'unauthenticated' | 'forbidden' | 'not_found'; readonly message: string };

const allow: Decision = { allow: true, create: false };

function roleOn(user: User, app: App): AppRole | null {
  if (user.isAdmin || app.ownerId === user.id) return 'admin';
  return null;
}

const rank: Record<AppRole, number> = { read: 1, write: 2, admin: 3 };

export function decide(user: User | null, request: AccessRequest, settings: PolicySettings): Decision {
  if (!user) return { allow: false, code: 'unauthenticated', message: 'authentication required' };
  switch (request.kind) {
    case 'list-apps':
      return allow;
    case 'user':
      return user.isAdmin || user.id === request.userId
        ? allow
        : { allow: false, code: 'forbidden', message: "you may not manage another user's keys or tokens" };
    case 'app': {
      if (!request.app) {
        if (request.createIfMissing && request.need === 'write' && (settings.createAppsOnPush || user.isAdmin)) {
          return { allow: true, create: true };
        }
        return { allow: false, code: 'not_found', message: `app '${request.appName}' does not exist` };
      }
      const role = roleOn(user, request.app);
      if (role && rank[role] >= rank[request.need]) return allow;
      return { allow: false, code: 'forbidden', message: `you have no ${request.need} access to app '${request.appName}'` };
    }
  }
}
