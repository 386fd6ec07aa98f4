// Users, keys, tokens, apps and collaborators managed the three ways: API, SSH commands, git.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import test from 'ava';
import { removeAppImages } from '../support/docker.js';
import { makeRepo } from '../support/git.js';
import { makeSshIdentity, randomName, run, startSolum } from '../support/solum.js';
import { createUser, gitEnvFor, urlFor } from '../support/users.js';

const sshArgs = (sshCommand: string, port: number): string[] => [...sshCommand.split(' ').slice(1), '-p', String(port), 'git@127.0.0.1'];

test.serial('SSH commands: keys, whoami, apps and collaborators in the style of Dokku', async (t) => {
  const solum = await startSolum();
  t.teardown(() => solum.stop());
  const carol = await createUser(solum, 'carol');
  const dave = await createUser(solum, 'dave');
  const ssh = (cmd: string, input = '') => run('ssh', [...sshArgs(carol.identity.sshCommand, solum.sshPort), cmd], { input });

  t.is((await ssh('whoami')).stdout, 'carol\n');
  t.like(JSON.parse((await ssh('whoami --json')).stdout) as object, { name: 'carol', admin: false });
  const help = await ssh('help');
  t.is(help.code, 0);
  for (const c of ['keys:add', 'keys:list', 'keys:remove', 'whoami', 'apps:list', 'apps:create', 'apps:destroy', 'apps:collaborators:add']) t.true(help.stdout.includes(c), c);

  // keys:add from standard input; keys:list shows the fingerprint exactly as ssh-keygen -lf.
  const second = await makeSshIdentity('ecdsa');
  const added = await ssh('keys:add desktop', second.publicKey);
  t.is(added.code, 0, added.stderr);
  const fp = execFileSync('ssh-keygen', ['-lf', `${second.privateKeyPath}.pub`]).toString().split(' ')[1] ?? '';
  t.regex(added.stdout, new RegExp(`added key desktop \\(ecdsa-sha2-nistp256 ${fp.replace(/[+/]/g, '\\$&')}\\)`));
  const list = JSON.parse((await ssh('keys:list --json')).stdout) as { name: string; fingerprint: string; type: string; createdAt: string; lastUsedAt: string | null }[];
  t.deepEqual(list.map((k) => k.name), ['laptop', 'desktop']);
  t.is(list[1]?.fingerprint, fp);
  t.truthy(list[0]?.lastUsedAt, 'the key in use has a last-used time');
  t.regex((await ssh('keys:list')).stdout, /^NAME +TYPE +FINGERPRINT +ADDED +LAST USED\nlaptop +ssh-ed25519 +SHA256:/);
  // The new key works on its own.
  t.is((await run('ssh', [...sshArgs(second.sshCommand, solum.sshPort), 'whoami'])).stdout, 'carol\n');
  // A key belongs to one user only; bad keys get clear errors.
  const dup = await run('ssh', [...sshArgs(dave.identity.sshCommand, solum.sshPort), 'keys:add stolen'], { input: second.publicKey });
  t.is(dup.code, 1);
  t.regex(dup.stderr, /already registered/);
  const dsa = await ssh('keys:add old', 'ssh-dss AAAAB3NzaC1kc3MAAACBAP== old\n');
  t.regex(dsa.stderr, /DSA keys are not accepted/);
  const two = await ssh('keys:add two', `${second.publicKey}\n${carol.identity.publicKey}\n`);
  t.regex(two.stderr, /exactly one public key/);
  const opts = await ssh('keys:add opt', `no-pty ${(await makeSshIdentity()).publicKey}`);
  t.regex(opts.stderr, /options are not accepted/);
  t.is((await ssh('keys:remove desktop')).code, 0);
  t.not((await run('ssh', [...sshArgs(second.sshCommand, solum.sshPort), 'whoami'])).code, 0, 'removed key no longer works');

  // Apps and collaborators.
  const app = randomName('cmd');
  t.is((await ssh(`apps:create ${app}`)).stdout, `created app ${app}\n`);
  t.regex((await ssh(`apps:create ${app}`)).stderr, /already exists/);
  t.regex((await ssh('apps:create Bad_Name')).stderr, /invalid app name/);
  t.regex((await ssh('apps:list')).stdout, new RegExp(`^NAME +PUBLIC +CREATED\\n${app} +no `));
  t.is((await ssh(`apps:collaborators:add ${app} dave --role write`)).stdout, `dave has write access to ${app}\n`);
  t.is((await ssh(`apps:collaborators:add ${app} dave --role boss`)).code, 2);
  t.deepEqual(JSON.parse((await ssh(`apps:collaborators ${app} --json`)).stdout), [{ user: 'dave', role: 'write' }]);
  // dave (write) can push; dave cannot destroy (admin only).
  const repo = await makeRepo({ 'build.sh': 'echo hi\n', Procfile: 'web: true\n' });
  const push = await run('git', ['push', urlFor(solum, 'ssh', app, dave), 'main'], { cwd: repo, env: gitEnvFor(dave) });
  t.is(push.code, 0, push.stderr);
  const daveSsh = (cmd: string) => run('ssh', [...sshArgs(dave.identity.sshCommand, solum.sshPort), cmd]);
  t.regex((await daveSsh(`apps:destroy ${app} --force`)).stderr, /role on app .* is write: admin access is needed/);
  t.regex((await daveSsh(`builds ${app}`)).stdout, /^# +STATUS +COMMIT +DU +CREATED\n1 +succeeded /);
  // Destroy asks for --force, then removes repo, builds and DU images.
  t.regex((await ssh(`apps:destroy ${app}`)).stderr, /repeat with --force/);
  t.is((await ssh(`apps:destroy ${app} --force`)).stdout, `destroyed app ${app}\n`);
  t.false(fs.existsSync(`${solum.dataDir}/repos/${app}.git`));
  t.is((await run('docker', ['images', '-q', '--filter', `label=io.solum.app=${app}`])).stdout.trim(), '');
  t.is((await solum.api('GET', `/v1/apps/${app}`)).status, 404);
  await removeAppImages(app);

  // Unknown commands and bad quoting are usage errors.
  t.is((await ssh('rm -rf /')).code, 2);
  t.is((await ssh("whoami 'unterminated")).code, 2);
});

test.serial('API: users and tokens (shown once, hashed, expiring, revocable); admins manage anyone', async (t) => {
  const solum = await startSolum();
  t.teardown(() => solum.stop());
  t.is((await solum.api('POST', '/v1/users', { name: 'erin' })).status, 201);
  t.is((await solum.api('POST', '/v1/users', { name: 'erin' })).status, 409);
  t.is((await solum.api('POST', '/v1/users', { name: '../erin' })).status, 400);
  const created = await solum.api('POST', '/v1/users/erin/tokens', { name: 'ci', expiresAt: new Date(Date.now() + 3000).toISOString() });
  t.is(created.status, 201);
  const { token, id } = created.json as { token: string; id: number };
  t.regex(token, /^solum_[A-Za-z0-9_-]{43}$/);
  t.is(((await solum.api('GET', '/v1/user', undefined, token)).json as { name: string }).name, 'erin');
  const listed = (await solum.api('GET', '/v1/users/erin/tokens')).json as Record<string, unknown>[];
  t.deepEqual(Object.keys(listed[0] ?? {}).sort(), ['createdAt', 'expiresAt', 'id', 'name', 'revokedAt'], 'the token itself is never listed');
  // The database holds only its hash.
  t.false(JSON.stringify(listed).includes(token));
  await new Promise((r) => setTimeout(r, 3200));
  t.is((await solum.api('GET', '/v1/user', undefined, token)).status, 401, 'expired');
  const token2 = ((await solum.api('POST', '/v1/users/erin/tokens', { name: 'ci2' })).json as { token: string; id: number });
  t.is((await solum.api('GET', '/v1/user', undefined, token2.token)).status, 200);
  t.is((await solum.api('DELETE', `/v1/users/erin/tokens/${token2.id}`)).status, 204);
  t.is((await solum.api('GET', '/v1/user', undefined, token2.token)).status, 401, 'revoked');
  t.not(id, token2.id);
  t.is((await solum.api('POST', '/v1/users/erin/tokens', { name: 'past', expiresAt: '2000-01-01T00:00:00Z' })).status, 400);
  // A user who owns apps cannot be removed; one who does not can, with keys and tokens.
  const erinToken = ((await solum.api('POST', '/v1/users/erin/tokens', { name: 'x' })).json as { token: string }).token;
  t.is((await solum.api('POST', '/v1/apps', { name: 'erins' }, erinToken)).status, 201);
  t.is((await solum.api('DELETE', '/v1/users/erin')).status, 409);
  t.is((await solum.api('DELETE', '/v1/apps/erins', undefined, erinToken)).status, 204);
  t.is((await solum.api('DELETE', '/v1/users/erin')).status, 204);
  t.is((await solum.api('GET', '/v1/user', undefined, erinToken)).status, 401);
  t.is((await solum.api('DELETE', '/v1/users/admin')).status, 400, 'admins cannot remove themselves');
});

test.serial('with app creation by push turned off, only admins create apps', async (t) => {
  const solum = await startSolum({ env: { SOLUM_CREATE_APPS_ON_PUSH: 'false' } });
  t.teardown(() => solum.stop());
  const fred = await createUser(solum, 'fred');
  const repo = await makeRepo({ 'build.sh': 'true\n' });
  const name = randomName('nope');
  for (const transport of ['ssh', 'http'] as const) {
    const r = await run('git', ['push', urlFor(solum, transport, name, fred), 'main'], { cwd: repo, env: gitEnvFor(fred) });
    t.not(r.code, 0);
  }
  t.is((await solum.api('POST', '/v1/apps', { name }, fred.token)).status, 403);
  t.is((await solum.api('GET', '/v1/apps')).text, '[]');
});
