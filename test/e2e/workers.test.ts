// `solum worker` processes on one PostgreSQL beside a server that runs no builds itself: every build
// runs exactly once, a worker without the server's disk fetches archives over HTTP, pushes stream
// the worker's output and end with the server's release, and a killed worker's build is abandoned.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { removeAppImages } from '../support/docker.js';
import { waitFor } from '../support/fixtures.js';
import { gitClient, makeRepo, writeAndCommit, type GitClient } from '../support/git.js';
import { randomName, startSolum, type RunningSolum } from '../support/solum.js';
import { startWorker, type WorkerProcess } from '../support/workers.js';

const server = (greeting: string): string =>
  `require('http').createServer((q, s) => s.end(${JSON.stringify(greeting)} + ' ' + process.env.SOLUM_RELEASE)).listen(Number(process.env.PORT), '0.0.0.0');\n`;
const pkg = JSON.stringify({ name: 'web', version: '1.0.0', scripts: { start: 'node server.js' } });

interface BuildJson {
  id: number;
  number: number;
  status: string;
  error: string | null;
  worker: string | null;
  release: string | null;
  duManifest: { processTypes?: Record<string, string>; languagePack?: string } | null;
}

async function worker(t: { teardown(fn: () => Promise<void>): void }, env: Record<string, string>, dataDir: string): Promise<WorkerProcess> {
  const w = await startWorker(env, dataDir);
  t.teardown(() => w.stop());
  return w;
}

/** The build IDs a worker's log says it started. */
const startedBy = (w: WorkerProcess): number[] =>
  w
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"build started"'))
    .map((l) => (JSON.parse(l) as { buildId: number }).buildId);

async function setup(t: { teardown(fn: () => Promise<void>): void }): Promise<{ solum: RunningSolum; token: string; shared: Record<string, string>; http: GitClient; ssh: GitClient }> {
  const token = randomBytes(24).toString('hex');
  // The server runs no builds itself: SOLUM_BUILD_CONCURRENCY=0.
  const solum = await startSolum({ database: 'postgres', env: { SOLUM_BUILD_CONCURRENCY: '0', SOLUM_WORKER_TOKEN: token } });
  t.teardown(() => solum.stop());
  const shared = { DATABASE_URL: solum.databaseUrl ?? '' };
  return { solum, token, shared, http: await gitClient(solum, 'http'), ssh: await gitClient(solum, 'ssh') };
}

const buildsOf = async (solum: RunningSolum, app: string): Promise<BuildJson[]> => (await solum.api('GET', `/v1/apps/${app}/builds`)).json as BuildJson[];

test.serial('two solum workers on one PostgreSQL: every build runs exactly once; pushes stream worker output and release through the server', async (t) => {
  const { solum, token, shared, http, ssh } = await setup(t);
  const otherDisk = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-worker-'));
  t.teardown(() => fs.rm(otherDisk, { recursive: true, force: true }));
  // A shares the server's disk; B is "another machine": its own disk, archives over HTTP.
  const a = await worker(t, shared, solum.dataDir);
  const b = await worker(t, { ...shared, SOLUM_SERVER_URL: `http://127.0.0.1:${solum.httpPort}`, SOLUM_WORKER_TOKEN: token }, otherDisk);

  const apps = [randomName('wk'), randomName('wk'), randomName('wk'), randomName('wk')];
  t.teardown(async () => { for (const app of apps) await removeAppImages(app); });
  const repos = await Promise.all(apps.map((app) => makeRepo({ 'package.json': pkg, 'server.js': server(`${app} one`) })));
  const clientFor = (i: number): GitClient => (i % 2 === 0 ? ssh : http);
  const round = async (): Promise<void> => {
    const pushes = await Promise.all(apps.map((app, i) => clientFor(i).git(['push', clientFor(i).url(app), 'main'], repos[i]!)));
    for (const [i, p] of pushes.entries()) {
      t.is(p.code, 0, p.stderr);
      // Worker output, streamed from the database into the push…
      t.regex(p.stderr, /remote: -----> Building .* with language pack node/);
      t.regex(p.stderr, /remote: -----> Build #\d+ succeeded/);
      // …then the server's release, in the same stream.
      t.regex(p.stderr, new RegExp(`remote: -----> Released v\\d+: http://${apps[i]!}\\.localhost:${solum.routerPort}/`));
    }
  };
  await round();
  for (const [i, app] of apps.entries()) await writeAndCommit(repos[i]!, { 'server.js': server(`${app} two`) }, 'two');
  await round();

  for (const app of apps) t.is((await solum.viaRouter(app)).text, `${app} two v2`);
  const all = (await Promise.all(apps.map((app) => buildsOf(solum, app)))).flat();
  t.is(all.length, 8);
  for (const build of all) {
    t.is(build.status, 'succeeded');
    t.is(build.release, 'done');
    t.true(build.worker === a.id || build.worker === b.id, `build ${build.id} ran on ${build.worker ?? 'nothing'}`);
    // The DU manifest is in the database, not only in the image's labels.
    t.is(build.duManifest?.processTypes?.web, 'npm start');
    t.is(build.duManifest?.languagePack, 'node');
  }
  // Exactly once: each build started by one worker, once, and the database agrees with the logs.
  const byA = startedBy(a);
  const byB = startedBy(b);
  t.deepEqual([...byA, ...byB].sort((x, y) => x - y), all.map((x) => x.id).sort((x, y) => x - y));
  t.deepEqual(all.filter((x) => x.worker === a.id).map((x) => x.id).sort(), [...byA].sort());
  t.true(byA.length > 0 && byB.length > 0, `A ran ${byA.length}, B ran ${byB.length}`);
  // No archive is left behind on either disk.
  t.deepEqual(await fs.readdir(path.join(solum.dataDir, 'archives')), []);
  t.deepEqual(await fs.readdir(path.join(otherDisk, 'archives')), []);
});

test.serial('a worker with the wrong token cannot fetch sources; kill -9 of a worker mid-build abandons the build and the push is told', async (t) => {
  const { solum, shared, http } = await setup(t);
  const app = randomName('wk');
  t.teardown(() => removeAppImages(app));
  const otherDisk = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-worker-'));
  t.teardown(() => fs.rm(otherDisk, { recursive: true, force: true }));

  // Wrong token: the build fails with the reason; the push is rejected; the ref is unchanged.
  const wrong = await worker(t, { ...shared, SOLUM_SERVER_URL: `http://127.0.0.1:${solum.httpPort}`, SOLUM_WORKER_TOKEN: 'x'.repeat(40) }, otherDisk);
  const repo = await makeRepo({ 'build.sh': 'echo built\n' });
  const refused = await http.git(['push', http.url(app), 'main'], repo);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /the source archive could not be fetched: .* answered HTTP 401/);
  const [first] = await buildsOf(solum, app);
  t.is(first?.status, 'failed');
  t.is(first?.worker, wrong.id);
  t.is((await http.git(['ls-remote', '--heads', '--tags', http.url(app)], repo)).stdout.trim(), '', 'no branch stored (the failed build is only noted)');
  await wrong.stop();

  // A worker killed mid-build: the server sees its process is gone and abandons the build.
  const doomed = await worker(t, shared, solum.dataDir);
  await writeAndCommit(repo, { 'build.sh': 'echo working\nsleep 120\n' }, 'slow');
  const push = http.git(['push', http.url(app), 'main'], repo);
  await waitFor('build running', async () => ((await buildsOf(solum, app))[0]?.status === 'running' ? true : undefined));
  await waitFor('build output', async () => ((await solum.api('GET', `/v1/builds/${(await buildsOf(solum, app))[0]!.id}/log`)).text.includes('working') ? true : undefined));
  doomed.child.kill('SIGKILL');
  const died = await push;
  t.not(died.code, 0);
  t.regex(died.stderr, /remote: working/);
  t.regex(died.stderr, /Push rejected: build #2 abandoned/);
  const [second] = await buildsOf(solum, app);
  t.is(second?.status, 'abandoned');

  // The next worker builds the next push; nothing is left locked by the dead one.
  await worker(t, shared, solum.dataDir);
  await writeAndCommit(repo, { 'build.sh': 'echo fine\n' }, 'fixed');
  const ok = await http.git(['push', http.url(app), 'main'], repo);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /remote: fine/);
  t.regex(ok.stderr, /Build #3 succeeded/);

  // A pipeline's tree test runs on the worker too: its failure stops the run, no DU is built,
  // and nothing goes live (the gates hold wherever the build runs).
  await writeAndCommit(repo, { 'solum.yaml': 'pipeline:\n  stages:\n    - name: unit-test\n      test: echo 1 of 3 tests failed; exit 1\n    - build\n    - deploy: staging\n' }, 'pipeline');
  const gated = await http.git(['push', http.url(app), 'main'], repo);
  t.not(gated.code, 0);
  t.regex(gated.stderr, /remote: -----> Stage unit-test: test the pushed tree/);
  t.regex(gated.stderr, /remote: 1 of 3 tests failed/);
  const runs = (await solum.api('GET', `/v1/apps/${app}/pipeline-runs`)).json as Array<{ status: string; duId: string | null }>;
  t.like(runs[0], { status: 'failed', duId: null });
  t.is((await buildsOf(solum, app))[0]?.duManifest, null);
});
