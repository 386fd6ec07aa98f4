// First start: the `admin` user and its API token, written once to $SOLUM_DATA_DIR/admin-token.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { UserStore } from '../db/user-store.js';
import { parseUserName } from '../names.js';
import { generateToken, hashToken } from './tokens.js';

export async function ensureAdmin(users: UserStore, dataDir: string): Promise<{ created: boolean; tokenFile: string }> {
  const tokenFile = path.join(dataDir, 'admin-token');
  if (await users.findUserByName('admin')) return { created: false, tokenFile };
  const admin = await users.createUser(parseUserName('admin'), true);
  if (admin === 'duplicate') return { created: false, tokenFile };
  const token = generateToken('solum');
  await users.addToken(admin.id, 'initial admin token', hashToken(token), null);
  await fs.writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  await fs.chmod(tokenFile, 0o600);
  return { created: true, tokenFile };
}
