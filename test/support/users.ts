// Other users for access tests: created through the API as admin, each with a token and an SSH key.
import { makeSshIdentity, type RunningSolum, type SshIdentity } from './solum.js';

export interface TestUser {
  readonly name: string;
  readonly token: string;
  readonly identity: SshIdentity;
}

export async function createUser(solum: RunningSolum, name: string): Promise<TestUser> {
  const u = await solum.api('POST', '/v1/users', { name });
  if (u.status !== 201) throw new Error(`creating ${name}: ${u.text}`);
  const t = await solum.api('POST', `/v1/users/${name}/tokens`, { name: 'test' });
  if (t.status !== 201) throw new Error(`token for ${name}: ${t.text}`);
  const token = (t.json as { token: string }).token;
  const identity = await makeSshIdentity();
  const k = await solum.api('POST', `/v1/users/${name}/keys`, { name: 'laptop', publicKey: identity.publicKey }, token);
  if (k.status !== 201) throw new Error(`key for ${name}: ${k.text}`);
  return { name, token, identity };
}

/** `git` over SSH or HTTP as this user (or anonymously over HTTP when `user` is null). */
export function urlFor(solum: RunningSolum, transport: 'ssh' | 'http', app: string, user: TestUser | null): string {
  if (transport === 'ssh') return `ssh://git@127.0.0.1:${solum.sshPort}/${app}.git`;
  return user ? `http://${user.name}:${user.token}@127.0.0.1:${solum.httpPort}/${app}.git` : `http://127.0.0.1:${solum.httpPort}/${app}.git`;
}

export function gitEnvFor(user: TestUser | null): NodeJS.ProcessEnv {
  return {
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: user?.identity.sshCommand ?? 'ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o IdentityFile=/dev/null',
  };
}
