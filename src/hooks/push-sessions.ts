// Per-push tokens: minted when a transport starts receive-pack, bound to one app repo and one push,
// usable by its hook once, gone when the push ends or expires.
import { generateToken, hashToken } from '../access/tokens.js';
import type { AppName } from '../names.js';
import type { AppRole } from '../roles.js';

export interface PushSession {
  readonly appId: number;
  readonly app: AppName;
  readonly userId: number;
  readonly repoPath: string;
  /** The pusher's role on the app when the push started. */
  readonly role: AppRole;
  readonly expiresAt: number;
}

export interface PushSessions {
  /** Mints a token for one push; `end` must be called when receive-pack exits. */
  open(session: Omit<PushSession, 'expiresAt'>): { token: string; end: () => void };
  /** Takes the session of a token once; a second use, an unknown or an expired token get undefined. */
  take(token: string): PushSession | undefined;
  size(): number;
}

export function createPushSessions(options: { ttlMs: number; now?: () => number }): PushSessions {
  const now = options.now ?? Date.now;
  // Keyed by hash so a heap dump or debug print of the map holds no usable token.
  const sessions = new Map<string, PushSession>();
  const sweep = (): void => {
    const t = now();
    for (const [k, s] of sessions) if (s.expiresAt <= t) sessions.delete(k);
  };
  return {
    open(session) {
      sweep();
      const token = generateToken('push');
      const key = hashToken(token);
      sessions.set(key, { ...session, expiresAt: now() + options.ttlMs });
      return { token, end: () => sessions.delete(key) };
    },
    take(token) {
      const key = hashToken(token);
      const s = sessions.get(key);
      if (!s) return undefined;
      sessions.delete(key);
      return s.expiresAt > now() ? s : undefined;
    },
    size: () => sessions.size,
  };
}
