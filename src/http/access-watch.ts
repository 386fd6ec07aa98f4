// A stream a caller may read only while their access lasts: the credential and the role are asked
// again every second, and the stream ends the moment either is gone (a revoked token, a removed
// collaborator), instead of flowing for as long as the connection stays open.
import type { Authenticator } from '../access/authenticator.js';
import type { AppService } from '../apps/app-service.js';
import type { User } from '../db/user-store.js';
import type { AppRole } from '../roles.js';

export const ACCESS_RECHECK_MS = 1000;

export interface AccessCheck {
  /** The token's user as of now; null when the token no longer authenticates anyone. */
  readonly token: string | undefined;
  readonly user: User | null;
  /** The app and the role the stream needs on it, when it is an app's. */
  readonly app?: { readonly name: string; readonly need: AppRole } | undefined;
}

/** Whether the caller of `check` may still read what they started reading. */
export async function stillAllowed(deps: { authenticator: Authenticator; apps: AppService }, check: AccessCheck): Promise<boolean> {
  let user: User | null = null;
  if (check.token !== undefined) {
    user = (await deps.authenticator.userForToken(check.token)) ?? null;
    if (!user || user.id !== check.user?.id) return false;
  } else if (check.user) {
    return false;
  }
  if (!check.app) return true;
  try {
    await deps.apps.require(user, check.app.name, check.app.need);
    return true;
  } catch {
    return false;
  }
}

/** Ends `stream` (through `end`) once `allowed` says no; stops asking when the stream closes. */
export function watchAccess(stream: { once(event: 'close', fn: () => void): unknown }, allowed: () => Promise<boolean>, end: () => void): void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    allowed()
      .then((ok) => {
        if (!ok) {
          clearInterval(timer);
          end();
        }
      }, () => undefined)
      .finally(() => { busy = false; });
  }, ACCESS_RECHECK_MS);
  timer.unref();
  stream.once('close', () => { clearInterval(timer); });
}
