// Users, their SSH keys and API tokens, managed by the users themselves or by admins.
import type { User, UserStore, SshKey, ApiToken } from '../db/user-store.js';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import { parseUserName } from '../names.js';
import { decide, type AccessRequest, type PolicySettings } from './policy.js';
import { parsePublicKey } from './public-key.js';
import { generateToken, hashToken } from './tokens.js';

export interface AccountService {
  listUsers(actor: User | null): Promise<User[]>;
  getUser(actor: User | null, name: string): Promise<User>;
  createUser(actor: User | null, name: string, options: { admin: boolean }): Promise<User>;
  removeUser(actor: User | null, name: string): Promise<void>;
  addKey(actor: User | null, userName: string, keyName: string, publicKey: string): Promise<SshKey>;
  listKeys(actor: User | null, userName: string): Promise<SshKey[]>;
  removeKey(actor: User | null, userName: string, keyName: string): Promise<void>;
  createToken(actor: User | null, userName: string, name: string, expiresAt: Date | null): Promise<{ token: string; info: ApiToken }>;
  listTokens(actor: User | null, userName: string): Promise<ApiToken[]>;
  revokeToken(actor: User | null, userName: string, tokenId: number): Promise<void>;
}

const KEY_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export function createAccountService(deps: {
  users: UserStore;
  policy: PolicySettings;
  /** Apps a user owns (a user who owns apps cannot be removed). */
  ownedApps: (userId: number) => Promise<string[]>;
  now?: () => Date;
}): AccountService {
  const now = deps.now ?? (() => new Date());
  const authorize = (actor: User | null, request: AccessRequest): void => {
    const d = decide(actor, request, deps.policy);
    if (!d.allow) throw new AppError(d.code, d.message);
  };
  /** The target user, after checking the actor may manage them (without telling strangers who exists). */
  const managed = async (actor: User | null, userName: string): Promise<User> => {
    const target = await deps.users.findUserByName(userName);
    authorize(actor, { kind: 'user', userId: target?.id ?? -1 });
    if (!target) throw notFound(`user '${userName}' does not exist`);
    return target;
  };

  return {
    async listUsers(actor) {
      authorize(actor, { kind: 'admin' });
      return deps.users.listUsers();
    },
    getUser: managed,
    async createUser(actor, name, options) {
      authorize(actor, { kind: 'admin' });
      const created = await deps.users.createUser(parseUserName(name), options.admin);
      if (created === 'duplicate') throw conflict(`user '${name}' already exists`);
      return created;
    },
    async removeUser(actor, name) {
      authorize(actor, { kind: 'admin' });
      const target = await deps.users.findUserByName(name);
      if (!target) throw notFound(`user '${name}' does not exist`);
      if (actor?.id === target.id) throw badRequest('you cannot remove yourself');
      const owned = await deps.ownedApps(target.id);
      if (owned.length > 0) throw conflict(`user '${name}' owns apps (${owned.join(', ')}): destroy them first`);
      await deps.users.deleteUser(target.id);
    },
    async addKey(actor, userName, keyName, publicKey) {
      const target = await managed(actor, userName);
      if (!KEY_NAME.test(keyName)) throw badRequest('key names use 1-64 of A-Z a-z 0-9 . _ @ -');
      const parsed = parsePublicKey(publicKey);
      const key = await deps.users.addKey(target.id, { name: keyName, ...parsed });
      if (key === 'duplicate') throw conflict('that key is already registered (to this or another user), or this user already has a key with that name');
      return key;
    },
    async listKeys(actor, userName) {
      return deps.users.listKeys((await managed(actor, userName)).id);
    },
    async removeKey(actor, userName, keyName) {
      const target = await managed(actor, userName);
      if (!(await deps.users.removeKey(target.id, keyName))) throw notFound(`user '${userName}' has no key named '${keyName}'`);
    },
    async createToken(actor, userName, name, expiresAt) {
      const target = await managed(actor, userName);
      if (!/^[\w .@-]{1,64}$/.test(name)) throw badRequest('token names use 1-64 letters, digits, spaces and . _ @ -');
      if (expiresAt && expiresAt.getTime() <= now().getTime()) throw badRequest('expiry must be in the future');
      const token = generateToken('solum');
      const id = await deps.users.addToken(target.id, name, hashToken(token), expiresAt);
      const info = (await deps.users.listTokens(target.id)).find((t) => t.id === id);
      if (!info) throw new Error('token vanished after insert');
      return { token, info };
    },
    async listTokens(actor, userName) {
      return deps.users.listTokens((await managed(actor, userName)).id);
    },
    async revokeToken(actor, userName, tokenId) {
      const target = await managed(actor, userName);
      if (!(await deps.users.revokeToken(target.id, tokenId))) throw notFound(`user '${userName}' has no live token ${tokenId}`);
    },
  };
}
