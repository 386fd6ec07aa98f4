// The build engine under stress, with real Docker: cancel, queueing per app, overtaken pushes,
// timeouts, memory limits, log caps and recovery after the server is killed mid-build.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { solumWithApp, waitFor } from '../support/fixtures.js';
import { createTestDatabase } from '../support/database.js';
import { containersLabelled, removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, writeAndCommit, type GitClient } from '../support/git.js';
import { randomName, run, type RunningSolum } from '../support/solum.js';

interface BuildJson {
  id: number;
  number: number;
  status: string;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

const builds = async (solum: RunningSolum, app: string): Promise<BuildJson[]> => {
  const res = await solum.api('GET', `/v1/apps/${app}/builds`);
  return res.status === 200 ? (res.json as BuildJson[]) : [];
};
const buildInState = (solum: RunningSolum, app: string, number: number, status: string) =>
  waitFor(`build #${number} ${status}`, async () => (await builds(solum, app)).find((b) => b.number === number && b.status === status));

async function setup(t: { teardown(fn: () => Promise<void>): void }, env: Record<string, string> = {}): Promise<{ solum: RunningSolum; app: string; client: GitClient }> {
  const { solum, app } = await solumWithApp(t, 'engine', { env });
  return { solum, app, client: await gitClient(solum, 'http') };
}

test.serial('a running build is canceled through the API; the waiting push is told and rejected', async (t) => {
  const { solum, app, client } = await setup(t);
  const repo = await makeRepo({ 'build.sh': 'echo started\nsleep 60\necho never\n' });
  const push = client.git(['push', client.url(app), 'main'], repo);
  const running = await buildInState(solum, app, 1, 'running');
  await new Promise((r) => setTimeout(r, 500));
  const cancel = await solum.api('POST', `/v1/builds/${running.id}/cancel`);
  t.is(cancel.status, 200, cancel.text);
  const result = await push;
  t.not(result.code, 0);
  t.regex(result.stderr, /remote: started/);
  t.regex(result.stderr, /Build #1 canceled after/);
  t.regex(result.stderr, /Push rejected: build #1 was canceled; main is unchanged/);
  t.notRegex(result.stderr, /never/);
  t.like((await builds(solum, app))[0], { status: 'canceled' });
  t.deepEqual(await containersLabelled(`io.solum.app=${app}`), []);
  t.is((await solum.api('POST', `/v1/builds/${running.id}/cancel`)).status, 409, 'a finished build cannot be canceled');
});

test.serial('pushes to one app queue behind its running build, say so, and a push overtaken while it waited is not released', async (t) => {
  const { solum, app, client } = await setup(t);
  const repo = await makeRepo({ 'build.sh': 'sleep 4\necho one\n' });
  const first = client.git(['push', client.url(app), 'main'], repo);
  await buildInState(solum, app, 1, 'running');

  // A second clone pushes its own commit on top of the same base while #1 runs.
  const other = await makeRepo({ 'build.sh': 'echo two\n' });
  const second = client.git(['push', '--force', client.url(app), 'main'], other);
  await buildInState(solum, app, 2, 'queued');
  // A third push is canceled while it waits.
  const third = client.git(['push', '--force', client.url(app), 'main'], await makeRepo({ 'build.sh': 'echo three\n' }));
  const queued3 = await buildInState(solum, app, 3, 'queued');
  t.is((await solum.api('POST', `/v1/builds/${queued3.id}/cancel`)).status, 200);

  const [r1, r2, r3] = await Promise.all([first, second, third]);
  t.is(r1.code, 0, r1.stderr);
  t.regex(r2.stderr, /Build #2 queued: build #1 is running \(position 1\)/);
  t.regex(r3.stderr, /Build #3 queued: build #1 is running, 1 more ahead of it \(position 2\)/);
  t.regex(r3.stderr, /Push rejected: build #3 was canceled/);
  t.not(r3.code, 0);
  // #2 ran only after #1 finished, and found main moved by #1's push: not released, push refused.
  const all = await builds(solum, app);
  const b1 = all.find((b) => b.number === 1)!;
  const b2 = all.find((b) => b.number === 2)!;
  t.true(Date.parse(b2.startedAt ?? '') >= Date.parse(b1.finishedAt ?? ''), 'one build per app at a time');
  t.is(b2.status, 'succeeded');
  t.regex(r2.stderr, /main moved to [0-9a-f]{12} while build #2 waited/);
  t.not(r2.code, 0);
  const releases = (await solum.api('GET', `/v1/apps/${app}/releases`)).json as { version: number }[];
  t.is(releases.length, 1, 'only the push that landed was released');
});

test.serial('per-app build timeout and memory limit stop a build with a clear reason', async (t) => {
  const { solum, app, client } = await setup(t);
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { buildTimeoutSeconds: 3, buildMemoryMb: 64 })).status, 200);
  const repo = await makeRepo({ 'build.sh': 'echo sleeping\nsleep 60\n' });
  const slow = await client.git(['push', client.url(app), 'main'], repo);
  t.not(slow.code, 0, slow.stderr);
  t.regex(slow.stderr, /Build #1 failed after [0-9.]+s: the build timed out after 3s/);

  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { buildTimeoutSeconds: null })).status, 200);
  await writeAndCommit(repo, { 'build.sh': 'set -e\necho eating memory\nhead -c 400000000 /dev/zero | tail -c 400000000 > /dev/null\necho survived\n' }, 'hog');
  const hog = await client.git(['push', client.url(app), 'main'], repo);
  t.not(hog.code, 0);
  t.regex(hog.stderr, /the build ran out of memory \(limit 64 MB\) and was killed/);
  t.notRegex(hog.stderr, /survived/);
  t.deepEqual(await containersLabelled(`io.solum.app=${app}`), []);
});

test.serial('a build log is capped with a note; the build itself goes on', async (t) => {
  const { solum, app, client } = await setup(t, { SOLUM_BUILD_LOG_MAX_BYTES: '2048' });
  const repo = await makeRepo({ 'build.sh': 'i=0\nwhile [ $i -lt 400 ]; do echo "line $i of noisy output"; i=$((i+1)); done\necho done > marker\n' });
  const push = await client.git(['push', client.url(app), 'main'], repo);
  t.is(push.code, 0, push.stderr);
  t.regex(push.stderr, /build output truncated: more than 2048 bytes; the build goes on/);
  t.notRegex(push.stderr, /line 399 of noisy output/);
  t.regex(push.stderr, /Build #1 succeeded/);
  const log = (await solum.api('GET', `/v1/builds/${(await builds(solum, app))[0]!.id}/log`)).text;
  t.true(log.length < 4096, `stored log is ${log.length} bytes`);
});

test.serial('after kill -9 of the server mid-build, the next start abandons the build and removes its builder', async (t) => {
  const db = await createTestDatabase('postgres');
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-crash-'));
  const app = randomName('crash');
  const env = { ...process.env, SOLUM_DATA_DIR: dataDir, DATABASE_URL: db.url ?? '', SOLUM_HTTP_PORT: '0', SOLUM_SSH_PORT: '0', SOLUM_ROUTER_PORT: '0', SOLUM_LOG_LEVEL: 'info' };
  const startServer = async () => {
    const child = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const ports = await waitFor('server start', () => {
      const m = /"httpPort":(\d+),"sshPort":(\d+)/.exec(out);
      return Promise.resolve(m ? { http: Number(m[1]), ssh: Number(m[2]) } : undefined);
    });
    return { child, ports, output: () => out };
  };
  let server = await startServer();
  t.teardown(async () => {
    server.child.kill('SIGKILL');
    await removeAppImages(app);
    await db.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  const api = async (p: string) => (await fetch(`http://127.0.0.1:${server.ports.http}${p}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<BuildJson[]>;
  const repo = await makeRepo({ 'build.sh': 'echo working\nsleep 120\n' });
  const url = () => `http://x:${token}@127.0.0.1:${server.ports.http}/${app}.git`;
  const push = run('git', ['push', url(), 'main'], { cwd: repo, env: { GIT_TERMINAL_PROMPT: '0' } });
  await waitFor('build running', async () => ((await api(`/v1/apps/${app}/builds`))[0]?.status === 'running' ? true : undefined));
  await waitFor('builder container', async () => ((await containersLabelled(`io.solum.app=${app}`)).length > 0 ? true : undefined));
  server.child.kill('SIGKILL');
  const failed = await push;
  t.not(failed.code, 0, 'the push dies with the server');

  server = await startServer();
  const abandoned = await waitFor('build abandoned', async () => {
    const b = (await api(`/v1/apps/${app}/builds`))[0];
    return b?.status === 'abandoned' ? b : undefined;
  }, 15_000);
  t.is(abandoned.error, 'the worker running this build stopped');
  await waitFor('builder removed', async () => ((await containersLabelled(`io.solum.app=${app}`)).length === 0 ? true : undefined), 15_000);
  // The app is not stuck: the next push builds.
  await writeAndCommit(repo, { 'build.sh': 'echo fine\n' }, 'fixed');
  const again = await run('git', ['push', url(), 'main'], { cwd: repo, env: { GIT_TERMINAL_PROMPT: '0' } });
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /Build #2 succeeded/);
});
