// The access policy: one pure function decides every git route and every API route.
import type { App } from '../db/app-store.js';
import type { User } from '../db/user-store.js';
import { atLeast, type AppRole } from '../roles.js';

export type { AppRole };

export type AccessRequest =
  /**
   * Something done to an app. `app` is null when no app of that name exists; `membership` is the
   * caller's collaborator role on it; `publicRead` says the route honours the app's public switch
   * (git fetches over HTTP).
   */
  | {
      readonly kind: 'app';
      readonly appName: string;
      readonly app: App | null;
      readonly membership: AppRole | null;
      readonly need: AppRole;
      readonly createIfMissing: boolean;
      readonly publicRead?: boolean;
    }
  /** Managing a user's own things (keys, tokens): the user themself or an admin. */
  | { readonly kind: 'user'; readonly userId: number }
  /** Managing users: admins only. */
  | { readonly kind: 'admin' }
  /** Listing apps or reading one's own identity: any signed-in user. */
  | { readonly kind: 'signed-in' };

export interface PolicySettings {
  /** Whether any signed-in user may create an app (by pushing to a new name or explicitly). */
  readonly createAppsOnPush: boolean;
}

export type Decision =
  | { readonly allow: true; readonly create: boolean; readonly role: AppRole | null }
  | { readonly allow: false; readonly code: 'unauthenticated' | 'forbidden' | 'not_found'; readonly message: string };

const yes = (role: AppRole | null = null): Decision => ({ allow: true, create: false, role });
const unauthenticated: Decision = { allow: false, code: 'unauthenticated', message: 'authentication required' };

/** The caller's effective role on an app: admin for site admins and the owner, else their collaborator role. */
export function effectiveRole(user: User | null, app: App, membership: AppRole | null): AppRole | null {
  if (!user) return null;
  if (user.isAdmin || app.ownerId === user.id) return 'admin';
  return membership;
}

export function decide(user: User | null, request: AccessRequest, settings: PolicySettings): Decision {
  switch (request.kind) {
    case 'signed-in':
      return user ? yes() : unauthenticated;
    case 'admin':
      if (!user) return unauthenticated;
      return user.isAdmin ? yes() : { allow: false, code: 'forbidden', message: 'only admins may manage users' };
    case 'user':
      if (!user) return unauthenticated;
      return user.isAdmin || user.id === request.userId
        ? yes()
        : { allow: false, code: 'forbidden', message: "you may not manage another user's keys or tokens" };
    case 'app': {
      const hidden: Decision = { allow: false, code: 'not_found', message: `app '${request.appName}' does not exist or you have no access to it` };
      const { app } = request;
      if (!app) {
        if (!user) return unauthenticated;
        if (request.createIfMissing && request.need === 'write') {
          if (settings.createAppsOnPush || user.isAdmin) return { allow: true, create: true, role: 'admin' };
          return { allow: false, code: 'forbidden', message: `app '${request.appName}' does not exist, and on this server only admins create apps` };
        }
        return hidden;
      }
      const role = effectiveRole(user, app, request.membership);
      if (role && atLeast(role, request.need)) return yes(role);
      // A public app is readable by anyone on the routes that honour the switch; never writable.
      if (request.need === 'read' && app.public && request.publicRead === true) return yes(role);
      if (!user) return unauthenticated;
      // Callers with no role at all learn nothing about the app's existence.
      if (!role) return app.public && request.publicRead === true ? { allow: false, code: 'forbidden', message: `you have no ${request.need} access to app '${request.appName}'` } : hidden;
      return { allow: false, code: 'forbidden', message: `your role on app '${request.appName}' is ${role}: ${request.need} access is needed` };
    }
  }
}
