// Pull builds from a git URL (file:// and HTTP over loopback) and webhooks from GitHub, Gitea,
// GitLab and generic senders, with real HMACs, bad ones, replays and ignored events.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { releasesOf, solumWithApp } from '../support/fixtures.js';
import { removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { randomName, run, startSolum, type RunningSolum } from '../support/solum.js';
import { createUser } from '../support/users.js';

interface BuildJson {
  id: number;
  number: number;
  status: string;
  ref: string;
  commit: string;
  source: string;
}

async function settle(solum: RunningSolum, app: string): Promise<BuildJson[]> {
  for (let i = 0; i < 160; i++) {
    const list = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as BuildJson[];
    if (list.every((b) => b.status !== 'queued' && b.status !== 'running')) return list;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('builds did not settle');
}

test.serial('pull builds from file:// and from another git server over HTTP; only-if-changed; a named commit', async (t) => {
  const solum = await startSolum();
  const app = randomName('pull');
  const upstream = randomName('upstream');
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
    await removeAppImages(upstream);
  });
  const src = await makeRepo({ 'build.sh': 'echo pulled source v1\n' });
  const first = (await run('git', ['rev-parse', 'HEAD'], { cwd: src })).stdout.trim();
  const second = await writeAndCommit(src, { 'build.sh': 'echo pulled source v2\n' }, 'v2');
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  const none = await solum.api('POST', `/v1/apps/${app}/builds`, {});
  t.is(none.status, 409, 'no source yet');

  t.is((await solum.api('PUT', `/v1/apps/${app}/source`, { url: `file://${src}`, ref: 'main' })).status, 200);
  const b1 = await solum.api('POST', `/v1/apps/${app}/builds`, {});
  t.is(b1.status, 201, b1.text);
  t.like(b1.json, { number: 1, ref: 'refs/solum/source/main', commit: second, source: 'api' });
  const [done] = await settle(solum, app);
  t.like(done, { status: 'succeeded' });
  t.regex((await solum.api('GET', `/v1/builds/${done!.id}/log`)).text, /pulled source v2/);
  t.is((await releasesOf(solum, app, 1)).length, 1, 'a pull build goes live');

  const same = await solum.api('POST', `/v1/apps/${app}/builds`, { onlyIfChanged: true });
  t.like(same.json, { status: 'skipped', commit: second });
  const older = await solum.api('POST', `/v1/apps/${app}/builds`, { commit: first });
  t.like(older.json, { number: 2, commit: first });
  t.is((await solum.api('POST', `/v1/apps/${app}/builds`, { commit: 'f'.repeat(40) })).status, 400);
  await settle(solum, app);

  // file:// reads the server's disk: not for app owners who are not admins.
  const bob = await createUser(solum, 'bob');
  t.is((await solum.api('POST', '/v1/apps', { name: `${app}-b` }, bob.token)).status, 201);
  t.is((await solum.api('PUT', `/v1/apps/${app}-b/source`, { url: `file://${src}` }, bob.token)).status, 403);
  t.is((await solum.api('PUT', `/v1/apps/${app}-b/source`, { url: '--upload-pack=touch /tmp/x' }, bob.token)).status, 400);

  // HTTP: the source is another (public) app on a git server reached over loopback.
  const client = await gitClient(solum, 'http');
  const up = await makeRepo({ 'build.sh': 'echo from the http upstream\n' });
  t.is((await client.git(['push', '-o', 'solum.skip-build', client.url(upstream), 'main'], up)).code, 0);
  t.is((await solum.api('PATCH', `/v1/apps/${upstream}`, { public: true })).status, 200);
  // A source on this machine is an admin's choice: an app owner may not aim Solum's fetches at it.
  t.is((await solum.api('PUT', `/v1/apps/${app}-b/source`, { url: `http://127.0.0.1:${solum.httpPort}/${upstream}.git`, ref: 'main' }, bob.token)).status, 400);
  t.is((await solum.api('PUT', `/v1/apps/${app}-b/source`, { url: `http://127.0.0.1:${solum.httpPort}/${upstream}.git`, ref: 'main' })).status, 200);
  const viaHttp = await solum.api('POST', `/v1/apps/${app}-b/builds`, {}, bob.token);
  t.is(viaHttp.status, 201, viaHttp.text);
  const [hb] = await settle(solum, `${app}-b`);
  t.like(hb, { status: 'succeeded' });
  t.regex((await solum.api('GET', `/v1/builds/${hb!.id}/log`)).text, /from the http upstream/);
  await removeAppImages(`${app}-b`);
  // An ssh:// source gets a deploy key to show.
  t.is((await solum.api('PUT', `/v1/apps/${app}-b/source`, { url: 'git@localhost:x.git' }, bob.token)).status, 400);
  const sshSource = await solum.api('PUT', `/v1/apps/${app}-b/source`, { url: 'ssh://git@127.0.0.1:1/x.git' });
  t.regex((sshSource.json as { deployKey: string }).deployKey, /^ssh-ed25519 AAAA\S+ solum-deploy-key$/);
});

test.serial('webhooks: GitHub, Gitea, GitLab and generic senders; bad signatures, replays, ignored events, secret rotation', async (t) => {
  const { solum, app } = await solumWithApp(t, 'hook');
  const src = await makeRepo({ 'build.sh': 'echo webhook build\n' });
  const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: src })).stdout.trim();
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('PUT', `/v1/apps/${app}/source`, { url: `file://${src}`, ref: 'main' })).status, 200);
  const rotated = await solum.api('POST', `/v1/apps/${app}/webhook/secret`);
  t.is(rotated.status, 201);
  const { url, secret } = rotated.json as { url: string; secret: string };
  t.is(url, `http://127.0.0.1:${solum.httpPort}/v1/apps/${app}/webhook`);
  const sign = (body: string, key = secret): string => createHmac('sha256', key).update(body).digest('hex');
  /** POSTs the payload with the given headers; `{sig}` in a header value becomes the body's HMAC. */
  const send = async (template: Record<string, string>, payload: unknown) => {
    const body = JSON.stringify(payload);
    const headers = Object.fromEntries(Object.entries(template).map(([k, v]) => [k, v.replace('{sig}', sign(body))]));
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  let headersIn: Record<string, string>;
  const count = async () => ((await solum.api('GET', `/v1/apps/${app}/builds`)).json as unknown[]).length;

  // Generic: {ref, commit} signed like GitHub's, with a delivery ID.
  headersIn = { 'x-solum-signature-256': 'sha256={sig}', 'x-solum-delivery': 'd-1' };
  t.like(await send(headersIn, { ref: 'main', commit: head }), { status: 202, json: { status: 'queued', build: 1 } });
  t.like(await send(headersIn, { ref: 'main', commit: head }), { status: 200, json: { status: 'duplicate' } }, 'a redelivery queues nothing');
  headersIn = { 'x-solum-signature-256': 'sha256=0000', 'x-solum-delivery': 'd-2' };
  t.is((await send(headersIn, { ref: 'main', commit: head })).status, 401);
  headersIn = { 'x-solum-delivery': 'd-3' };
  t.is((await send(headersIn, { ref: 'main', commit: head })).status, 401, 'no signature at all');

  // GitHub: push builds, ping is ignored, another branch is ignored, a wrong HMAC is refused.
  headersIn = { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256={sig}', 'x-github-delivery': 'gh-1' };
  t.like(await send(headersIn, { ref: 'refs/heads/main', after: head }), { status: 202, json: { build: 2 } });
  headersIn = { 'x-github-event': 'ping', 'x-hub-signature-256': 'sha256={sig}', 'x-github-delivery': 'gh-2' };
  t.like(await send(headersIn, { zen: 'hi' }), { status: 200, json: { status: 'ignored', reason: 'ping events do not build' } });
  headersIn = { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256={sig}', 'x-github-delivery': 'gh-3' };
  t.like(await send(headersIn, { ref: 'refs/heads/other', after: head }), { status: 200, json: { status: 'ignored', reason: 'only main builds' } });
  t.like(await send({ ...headersIn, 'x-github-delivery': 'gh-4' }, { ref: 'refs/heads/main', after: '0'.repeat(40) }), { status: 200, json: { reason: 'a branch deletion' } });
  headersIn = { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'ab'.repeat(32)}`, 'x-github-delivery': 'gh-5' };
  t.is((await send(headersIn, { ref: 'refs/heads/main', after: head })).status, 401);

  // Gitea / Forgejo: the same HMAC, hex in its own header.
  headersIn = { 'x-gitea-event': 'push', 'x-gitea-signature': '{sig}', 'x-gitea-delivery': 'gt-1' };
  t.like(await send(headersIn, { ref: 'refs/heads/main', after: head }), { status: 202, json: { build: 3 } });
  // GitLab: a shared token.
  headersIn = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret, 'x-gitlab-event-uuid': 'gl-1' };
  t.like(await send(headersIn, { ref: 'refs/heads/main', checkout_sha: head }), { status: 202, json: { build: 4 } });
  headersIn = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'wrong', 'x-gitlab-event-uuid': 'gl-2' };
  t.is((await send(headersIn, { ref: 'refs/heads/main', checkout_sha: head })).status, 401);

  // Rotating the secret: the old one stops working, the new one works.
  const fresh = ((await solum.api('POST', `/v1/apps/${app}/webhook/secret`)).json as { secret: string }).secret;
  headersIn = { 'x-solum-signature-256': 'sha256={sig}', 'x-solum-delivery': 'd-9' };
  t.is((await send(headersIn, { ref: 'main', commit: head })).status, 401, 'old secret');
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-solum-signature-256': `sha256=${sign('{"ref":"main","commit":"' + head + '"}', fresh)}`, 'x-solum-delivery': 'd-10' }, body: `{"ref":"main","commit":"${head}"}` });
  t.is(res.status, 202);
  // Unknown apps look like bad signatures.
  t.is((await fetch(`http://127.0.0.1:${solum.httpPort}/v1/apps/no-such-app/webhook`, { method: 'POST', body: '{}' })).status, 401);

  const list = await settle(solum, app);
  t.is(list.length, 5);
  t.is(await count(), 5);
  t.true(list.every((b) => b.status === 'succeeded' && b.source === 'webhook' && b.commit === head));
});

test.serial('commit statuses reach a GitHub-compatible endpoint: pending then success or failure; failures to report are retried and never fail the build', async (t) => {
  const received: Array<{ path: string; auth: string | undefined; body: { state: string; target_url: string; context: string } }> = [];
  let refuseFirst = 1;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      if (refuseFirst-- > 0) {
        res.statusCode = 502;
        res.end();
        return;
      }
      received.push({ path: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(text) as { state: string; target_url: string; context: string } });
      res.statusCode = 201;
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const solum = await startSolum();
  const app = randomName('status');
  t.teardown(async () => {
    server.close();
    await solum.stop();
    await removeAppImages(app);
  });
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'build.sh': 'echo ok\n' });
  t.is((await client.git(['push', '-o', 'solum.skip-build', client.url(app), 'main'], repo)).code, 0);
  t.is((await solum.api('PUT', `/v1/apps/${app}/commit-status`, { url: `http://127.0.0.1:${port}/repos/o/r/statuses`, token: 'status-token' })).status, 200);
  const good = await writeAndCommit(repo, { 'x.txt': '1' }, 'good');
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
  const bad = await writeAndCommit(repo, { 'build.sh': 'exit 1\n' }, 'bad');
  t.not((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
  for (let i = 0; i < 60 && received.length < 4; i++) await new Promise((r) => setTimeout(r, 250));
  const states = (sha: string) => received.filter((r) => r.path === `/repos/o/r/statuses/${sha}`).map((r) => r.body.state);
  t.deepEqual(states(good), ['pending', 'success'], 'the first report was refused once and retried');
  t.deepEqual(states(bad), ['pending', 'failure']);
  t.true(received.every((r) => r.auth === 'token status-token' && r.body.context === 'solum/build' && /\/v1\/builds\/\d+$/.test(r.body.target_url)));
  t.false(solum.logs().includes('status-token'), 'the token is not logged');
});
