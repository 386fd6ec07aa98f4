// Turns credentials (API token, SSH public key) into a user; knows nothing of transports.
import type { User, UserStore } from '../db/user-store.js';
import { hashToken } from './tokens.js';

export interface Authenticator {
  /** The user behind a bearer/basic token, or undefined for a missing, unknown, revoked or expired one. */
  userForToken(token: string | undefined): Promise<User | undefined>;
  /** Whether a public key blob is registered (answers the unsigned probe; binds no identity). */
  isKnownPublicKey(blob: Buffer): Promise<boolean>;
  /** Whether an authenticated SSH key is still registered (checked before every command). */
  isKeyStillValid(keyId: number): Promise<boolean>;
  /** The user owning an SSH public key blob; the caller must have verified a signature first. */
  userForPublicKey(blob: Buffer): Promise<{ user: User; keyId: number } | undefined>;
}

export function createAuthenticator(deps: { users: UserStore; now?: () => Date }): Authenticator {
  const now = deps.now ?? (() => new Date());
  return {
    async userForToken(token) {
      if (!token || token.length > 200) return undefined;
      return deps.users.findUserByTokenHash(hashToken(token), now());
    },
    async isKnownPublicKey(blob) {
      return (await deps.users.findKeyOwner(blob.toString('base64'))) !== undefined;
    },
    isKeyStillValid: (keyId) => deps.users.keyExists(keyId),
    async userForPublicKey(blob) {
      const found = await deps.users.findKeyOwner(blob.toString('base64'));
      if (!found) return undefined;
      await deps.users.touchKey(found.key.id);
      return { user: found.user, keyId: found.key.id };
    },
  };
}
