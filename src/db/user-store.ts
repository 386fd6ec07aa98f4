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

export interface ApiToken {
  readonly id: number;
  readonly name: string;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
}

interface TokenRow {
  id: number;
  user_id: number;
  name: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
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
const toToken = (r: TokenRow): ApiToken => ({ id: r.id, name: r.name, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at });
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
  /** Creates a user; 'duplicate' when the name is taken. */
  createUser(name: UserName, isAdmin: boolean): Promise<User | 'duplicate'>;
  listUsers(): Promise<User[]>;
  /** Deletes a user with their keys and tokens; false when there was none. */
  deleteUser(id: number): Promise<boolean>;
  findUserByName(name: string): Promise<User | undefined>;
  findUserById(id: number): Promise<User | undefined>;
  addKey(userId: number, key: { name: string; algo: string; blob: string; fingerprint: string }): Promise<SshKey | 'duplicate'>;
  listKeys(userId: number): Promise<SshKey[]>;
  removeKey(userId: number, name: string): Promise<boolean>;
  /** Whether a key is still registered (a removed key ends access at once, even mid-connection). */
  keyExists(keyId: number): Promise<boolean>;
  /** The user owning a public key blob, for SSH authentication. */
  findKeyOwner(blob: string): Promise<{ user: User; key: SshKey } | undefined>;
  touchKey(keyId: number): Promise<void>;
  addToken(userId: number, name: string, tokenHash: string, expiresAt: Date | null): Promise<number>;
  listTokens(userId: number): Promise<ApiToken[]>;
  revokeToken(userId: number, tokenId: number): Promise<boolean>;
  /** The user behind a live token (not revoked, not expired). */
  findUserByTokenHash(tokenHash: string, now: Date): Promise<User | undefined>;
}

export function createUserStore(knex: Knex): UserStore {
  return {
    async createUser(name, isAdmin) {
      const [row] = await knex<UserRow>('users').insert({ name, is_admin: isAdmin }).onConflict('name').ignore().returning('*');
      return row ? toUser(row) : 'duplicate';
    },
    async listUsers() {
      return (await knex<UserRow>('users').orderBy('name')).map(toUser);
    },
    async deleteUser(id) {
      return (await knex('users').where({ id }).delete()) === 1;
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
    async removeKey(userId, name) {
      return (await knex('ssh_keys').where({ user_id: userId, name }).delete()) === 1;
    },
    async keyExists(keyId) {
      return (await knex('ssh_keys').where({ id: keyId }).first('id')) !== undefined;
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
    async listTokens(userId) {
      return (await knex<TokenRow>('api_tokens').where({ user_id: userId }).orderBy('id')).map(toToken);
    },
    async revokeToken(userId, tokenId) {
      return (await knex('api_tokens').where({ user_id: userId, id: tokenId }).whereNull('revoked_at').update({ revoked_at: knex.fn.now() })) === 1;
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
