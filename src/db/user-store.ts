// Users, their SSH public keys and API tokens (stored hashed).
import type { Knex } from 'knex';
import type { UserName } from '../names.js';

export interface User {
  readonly id: number;
  readonly name: UserName;
  readonly isAdmin: boolean;
  readonly createdAt: Date;
}

export interface SshKey {
  readonly id: number;
  readonly userId: number;
  readonly name: string;
  readonly algo: string;
  readonly fingerprint: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

interface UserRow {
  id: number;
  name: string;
  is_admin: boolean;
  created_at: Date;
}

interface KeyRow {
  id: number;
  user_id: number;
  name: string;
  algo: string;
  blob: string;
  fingerprint: string;
  created_at: Date;
  last_used_at: Date | null;
}

const toUser = (r: UserRow): User => ({ id: r.id, name: r.name as UserName, isAdmin: r.is_admin, createdAt: r.created_at });
const toKey = (r: KeyRow): SshKey => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  algo: r.algo,
  fingerprint: r.fingerprint,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

export interface UserStore {
  createUser(name: UserName, isAdmin: boolean): Promise<User>;
  findUserByName(name: string): Promise<User | undefined>;
  findUserById(id: number): Promise<User | undefined>;
  addKey(userId: number, key: { name: string; algo: string; blob: string; fingerprint: string }): Promise<SshKey | 'duplicate'>;
  listKeys(userId: number): Promise<SshKey[]>;
  /** The user owning a public key blob, for SSH authentication. */
  findKeyOwner(blob: string): Promise<{ user: User; key: SshKey } | undefined>;
  touchKey(keyId: number): Promise<void>;
  addToken(userId: number, name: string, tokenHash: string, expiresAt: Date | null): Promise<number>;
  /** The user behind a live token (not revoked, not expired). */
  findUserByTokenHash(tokenHash: string, now: Date): Promise<User | undefined>;
}

export function createUserStore(knex: Knex): UserStore {
  return {
    async createUser(name, isAdmin) {
      const [row] = await knex<UserRow>('users').insert({ name, is_admin: isAdmin }).returning('*');
      if (!row) throw new Error('insert returned no row');
      return toUser(row);
    },
    async findUserByName(name) {
      const row = await knex<UserRow>('users').where({ name }).first();
      return row && toUser(row);
    },
    async findUserById(id) {
      const row = await knex<UserRow>('users').where({ id }).first();
      return row && toUser(row);
    },
    async addKey(userId, key) {
      const rows = await knex<KeyRow>('ssh_keys')
        .insert({ user_id: userId, name: key.name, algo: key.algo, blob: key.blob, fingerprint: key.fingerprint })
        .onConflict()
        .ignore()
        .returning('*');
      const row = rows[0];
      return row ? toKey(row) : 'duplicate';
    },
    async listKeys(userId) {
      const rows = await knex<KeyRow>('ssh_keys').where({ user_id: userId }).orderBy('id');
      return rows.map(toKey);
    },
    async findKeyOwner(blob) {
      const row = await knex<KeyRow>('ssh_keys').where({ blob }).first();
      if (!row) return undefined;
      const user = await knex<UserRow>('users').where({ id: row.user_id }).first();
      return user ? { user: toUser(user), key: toKey(row) } : undefined;
    },
    async touchKey(keyId) {
      await knex('ssh_keys').where({ id: keyId }).update({ last_used_at: knex.fn.now() });
    },
    async addToken(userId, name, tokenHash, expiresAt) {
      const [row] = await knex('api_tokens')
        .insert({ user_id: userId, name, token_hash: tokenHash, expires_at: expiresAt })
        .returning<{ id: number }[]>('id');
      if (!row) throw new Error('insert returned no row');
      return row.id;
    },
    async findUserByTokenHash(tokenHash, now) {
      const row = await knex<UserRow>('users')
        .join('api_tokens', 'api_tokens.user_id', 'users.id')
        .where('api_tokens.token_hash', tokenHash)
        .whereNull('api_tokens.revoked_at')
        .where((q) => { void q.whereNull('api_tokens.expires_at').orWhere('api_tokens.expires_at', '>', now); })
        .first<UserRow | undefined>('users.*');
      return row && toUser(row);
    },
  };
}
