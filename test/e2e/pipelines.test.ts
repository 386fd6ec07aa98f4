// Pipelines end to end with real git pushes, OpenSSH, Docker and the router: a failing tree test
// builds nothing; a run passes through staging and waits at approval across a restart; approval by
// an authorised user (and refusal of another); promotion runs the very DU staging ran with
// production's own config; an external check decided by a signed callback (a wrong signature
// changes nothing).
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { signBody } from '../../src/pipelines/definition.js';
import { openBrowser, signIn } from '../support/browser.js';
import { containersLabelled } from '../support/docker.js';
import { solumWithApp } from '../support/fixtures.js';
import { gitClient, makeRepo, transports, writeAndCommit } from '../support/git.js';
import { run, type RunningSolum } from '../support/solum.js';
import { createUser } from '../support/users.js';

const server = `
const http = require('http');
http.createServer((req, res) => {
  res.end((process.env.GREETING || 'hi') + ' from ' + process.env.SOLUM_APP);
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

// Run against staging in a container of the DU: asks the router for staging's host name.
const smoke = `
const http = require('http');
const u = new URL(process.env.SOLUM_ROUTER_URL);
console.log('smoke test of ' + process.env.SOLUM_ENV_URL);
http.get({ host: u.hostname, port: u.port, path: '/', headers: { host: process.env.SOLUM_ENV_HOST } }, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => {
    console.log('staging answered ' + res.statusCode + ': ' + body);
    process.exit(res.statusCode === 200 && body.includes('-staging') ? 0 : 1);
  });
}).on('error', (e) => { console.error(e.message); process.exit(1); });
`;

const pkg = JSON.stringify({ name: 'web', version: '1.0.0', scripts: { start: 'node server.js' } });

interface StageJson {
  name: string;
  kind: string;
  status: string;
  log: string;
  decidedBy: string | null;
}
interface RunJson {
  id: number;
  status: string;
  url: string;
  duId: string | null;
  error: string | null;
  stages: StageJson[];
}
interface ReleaseJson {
  version: number;
  status: string;
  duId: string;
  buildId: number | null;
  configKeys: string[];
}

const runsOf = async (solum: RunningSolum, app: string): Promise<RunJson[]> => (await solum.api('GET', `/v1/apps/${app}/pipeline-runs`)).json as RunJson[];
const envReleases = async (solum: RunningSolum, app: string, env: string): Promise<ReleaseJson[]> => {
  const r = await solum.api('GET', `/v1/apps/${app}/environments/${env}/releases`);
  return r.status === 200 ? (r.json as ReleaseJson[]) : [];
};
/** The image ID an environment release's running web process was started from (asked of Docker). */
async function runningImage(app: string, env: string, version = 1): Promise<string> {
  const ps = await run('docker', ['ps', '-q', '--filter', `label=io.solum.app=${app}`, '--filter', `label=io.solum.environment=${env}`, '--filter', 'label=io.solum.role=process', '--filter', `label=io.solum.release=${version}`]);
  const ids = ps.stdout.split('\n').filter((l) => l.trim() !== '');
  if (ids.length !== 1) throw new Error(`expected one process of ${app} in ${env}, found ${ids.length}`);
  return (await run('docker', ['inspect', '-f', '{{.Image}}', ids[0] ?? ''])).stdout.trim();
}
const stageStatuses = (r: RunJson | undefined): Record<string, string> => Object.fromEntries((r?.stages ?? []).map((s) => [s.name, s.status]));

for (const transport of transports) {
  test.serial(`a failing tree test stops the run before the build: no DU, push rejected [${transport}]`, async (t) => {
    const { solum, app } = await solumWithApp(t, 'pipefail');
    const client = await gitClient(solum, transport);
    const pipeline = 'pipeline:\n  stages:\n    - name: unit-test\n      test: node test.js\n    - build\n    - deploy: staging\n';
    // A pipeline that makes no sense is refused before anything runs.
    const repo = await makeRepo({
      'package.json': pkg,
      'server.js': server,
      'test.js': "console.log('1 of 3 tests failed: adds numbers'); process.exit(1);\n",
      'solum.yaml': 'pipeline:\n  stages:\n    - deploy: staging\n    - build\n',
    });
    const invalid = await client.git(['push', client.url(app), 'main'], repo);
    t.not(invalid.code, 0);
    t.regex(invalid.stderr, /solum\.yaml pipeline: stage 1: deploy needs the build before it/);
    t.deepEqual(await runsOf(solum, app), []);

    await writeAndCommit(repo, { 'solum.yaml': pipeline }, 'a pipeline with a unit test');
    const push = await client.git(['push', client.url(app), 'main'], repo);
    t.not(push.code, 0, 'the push is rejected');
    t.regex(push.stderr, new RegExp(`remote: -----> Pipeline run #\\d+ \\(solum\\.yaml\\): http://127\\.0\\.0\\.1:${solum.httpPort}/v1/pipeline-runs/\\d+`));
    t.regex(push.stderr, /remote: -----> Stage unit-test: test the pushed tree: node test\.js/);
    t.regex(push.stderr, /remote: 1 of 3 tests failed: adds numbers/);
    t.regex(push.stderr, /remote: !\s+Stage unit-test failed: the test exited with status 1/);
    t.regex(push.stderr, /no deployment unit was built/);
    t.regex(push.stderr, /Push rejected/);

    const builds = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as Array<{ status: string; duId: string | null }>;
    t.is(builds.length, 2);
    t.true(builds.every((b) => b.status === 'failed' && b.duId === null));
    const imgs = await run('docker', ['images', '-q', '--filter', `label=io.solum.app=${app}`]);
    t.is(imgs.stdout.trim(), '', 'no DU image exists');

    const [r] = await runsOf(solum, app);
    t.like(r, { status: 'failed', duId: null, error: 'stage unit-test failed' });
    t.deepEqual(stageStatuses(r), { 'unit-test': 'failed', build: 'skipped', 'deploy-staging': 'skipped' });
    t.regex(r?.stages[0]?.log ?? '', /1 of 3 tests failed/);
    t.deepEqual(await envReleases(solum, app, 'staging'), []);
    t.deepEqual((await solum.api('GET', `/v1/apps/${app}/releases`)).json, []);
    // The rejected push left main unset (the failed builds' notes are all it holds).
    t.is((await client.git(['ls-remote', '--heads', '--tags', client.url(app)], repo)).stdout.trim(), '');
  });
}

test.serial('staging, a smoke test, approval across a restart (refused for the unauthorised), promotion of the same DU with production config; a rejected gate keeps production [ssh, postgres]', async (t) => {
  const { solum, app } = await solumWithApp(t, 'pipe', { database: 'postgres' });
  const client = await gitClient(solum, 'ssh');
  // Production exists with its own config before anything is deployed.
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('POST', `/v1/apps/${app}/environments`, { name: 'production' })).status, 201);
  t.is((await solum.api('PATCH', `/v1/apps/${app}/environments/production/config`, { GREETING: 'hello production' })).status, 200);
  const carol = await createUser(solum, 'carol');
  const bob = await createUser(solum, 'bob');
  t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/carol`, { role: 'read' })).status, 204);
  t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/bob`, { role: 'write' })).status, 204);
  const dave = await createUser(solum, 'dave');

  const repo = await makeRepo({
    'package.json': pkg,
    'server.js': server,
    'test.js': "console.log('3 tests passed');\n",
    'smoke.js': smoke,
    'solum.yaml': [
      'pipeline:',
      '  stages:',
      '    - name: unit-test',
      '      test: node test.js',
      '    - build',
      '    - deploy: staging',
      '    - name: smoke',
      '      test: node smoke.js',
      '      environment: staging',
      '    - gate: approval',
      '      users: [carol]',
      '    - promote: production',
      '',
    ].join('\n'),
  });
  const push = await client.git(['push', client.url(app), 'main'], repo);
  t.is(push.code, 0, push.stderr);
  // The push names the stages up to the gate, then the gate and the run's URL.
  t.regex(push.stderr, /remote: {8}5\. approval: gate: approval by user carol/);
  t.notRegex(push.stderr, /6\. promote-production/);
  t.regex(push.stderr, /remote: {8}… 1 more after the gate/);
  t.regex(push.stderr, /remote: 3 tests passed/);
  t.regex(push.stderr, new RegExp(`remote: -----> Released staging v1 \\(DU sha256:[0-9a-f]{12}\\): http://${app}-staging\\.localhost:${solum.routerPort}/`));
  t.regex(push.stderr, new RegExp(`remote: staging answered 200: hi from ${app}-staging`));
  t.regex(push.stderr, /remote: -----> Stage smoke passed/);
  const gate = /remote: -----> Pipeline run #(\d+) waits at gate approval: approval by user carol/.exec(push.stderr);
  t.truthy(gate, push.stderr);
  const runId = Number(gate?.[1]);
  t.regex(push.stderr, new RegExp(`remote: {8}run: http://127\\.0\\.0\\.1:${solum.httpPort}/v1/pipeline-runs/${runId}`));

  // Staging answers on its own host name; the app's default environment has nothing deployed.
  t.is((await solum.viaRouter(`${app}-staging`)).text, `hi from ${app}-staging`);
  t.is((await solum.viaRouter(app)).status, 404);
  t.deepEqual(await envReleases(solum, app, 'production'), []);

  // The run waits in the database: a restart changes nothing, staging is re-adopted.
  await solum.restart();
  const waiting = (await solum.api('GET', `/v1/pipeline-runs/${runId}`)).json as RunJson;
  t.is(waiting.status, 'waiting');
  t.deepEqual(stageStatuses(waiting), { 'unit-test': 'succeeded', build: 'succeeded', 'deploy-staging': 'succeeded', smoke: 'succeeded', approval: 'waiting', 'promote-production': 'pending' });
  t.is((await solum.viaRouter(`${app}-staging`)).text, `hi from ${app}-staging`);

  // bob may push but is not named by the gate: refused, and nothing moves.
  const refused = await solum.api('POST', `/v1/pipeline-runs/${runId}/approve`, undefined, bob.token);
  t.is(refused.status, 403, refused.text);
  t.regex(refused.text, /approval by user carol/);
  const refusedSsh = await run('ssh', [...bob.identity.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', `pipelines:approve ${runId}`]);
  t.is(refusedSsh.code, 1);
  t.regex(refusedSsh.stderr, /approval by user carol/);
  // dave has no role on the app: the run does not exist for him.
  t.is((await solum.api('GET', `/v1/pipeline-runs/${runId}`, undefined, dave.token)).status, 404);
  t.is((await solum.api('POST', `/v1/pipeline-runs/${runId}/approve`, undefined, dave.token)).status, 404);
  t.is((await solum.api('POST', `/v1/pipeline-runs/${runId}/approve`, undefined, '')).status, 401);
  t.is(((await solum.api('GET', `/v1/pipeline-runs/${runId}`)).json as RunJson).status, 'waiting');
  t.deepEqual(await envReleases(solum, app, 'production'), []);

  // carol approves over SSH: production gets the DU staging ran, with production's own config.
  const approved = await run('ssh', [...carol.identity.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', `pipelines:approve ${runId}`]);
  t.is(approved.code, 0, approved.stderr);
  t.regex(approved.stdout, new RegExp(`run #${runId} approved: now succeeded`));
  const done = (await solum.api('GET', `/v1/pipeline-runs/${runId}`)).json as RunJson;
  t.is(done.status, 'succeeded');
  t.like(done.stages.find((s) => s.name === 'approval'), { status: 'succeeded', decidedBy: 'carol' });
  const [staging] = await envReleases(solum, app, 'staging');
  const [production] = await envReleases(solum, app, 'production');
  t.like(production, { version: 1, status: 'active', configKeys: ['GREETING'] });
  t.is(production?.duId, staging?.duId, 'production runs the DU staging ran');
  t.is(production?.duId, done.duId ?? undefined);
  t.is(await runningImage(app, 'production'), await runningImage(app, 'staging'), 'Docker runs both from one image');
  t.is(await runningImage(app, 'production'), done.duId ?? '');
  t.is((await solum.viaRouter(`${app}-production`)).text, `hello production from ${app}-production`);
  const builds = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as unknown[];
  t.is(builds.length, 1, 'promotion never rebuilds');

  // The environments list and the SSH run listing show the same.
  const envs = (await solum.api('GET', `/v1/apps/${app}/environments`)).json as Array<{ name: string; url: string; release: ReleaseJson | null }>;
  t.deepEqual(envs.map((e) => [e.name, e.release?.version ?? null]), [['production', 1], ['staging', 1]]);
  const listed = await run('ssh', [...carol.identity.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', `pipelines:runs ${app}`]);
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, new RegExp(`^${runId}\\s+succeeded\\s+[0-9a-f]{12}\\s.*approval:succeeded promote-production:succeeded$`, 'm'));
  // A decided gate cannot be decided again.
  t.is((await solum.api('POST', `/v1/pipeline-runs/${runId}/reject`)).status, 409);

  // The next commit reaches staging, and carol rejects it: the run stops, production keeps its DU.
  await writeAndCommit(repo, { 'server.js': `${server}\n// v2\n` }, 'v2');
  const push2 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(push2.code, 0, push2.stderr);
  const second = Number(/Pipeline run #(\d+) waits at gate approval/.exec(push2.stderr)?.[1]);
  const rejected = await solum.api('POST', `/v1/pipeline-runs/${second}/reject`, undefined, carol.token);
  t.is(rejected.status, 200, rejected.text);
  t.like(rejected.json, { status: 'rejected', error: 'stage approval was rejected' });
  t.deepEqual(stageStatuses(rejected.json as RunJson), { 'unit-test': 'succeeded', build: 'succeeded', 'deploy-staging': 'succeeded', smoke: 'succeeded', approval: 'rejected', 'promote-production': 'skipped' });
  const [staging2] = await envReleases(solum, app, 'staging');
  t.like(staging2, { version: 2, status: 'active' });
  t.not(staging2?.duId, done.duId);
  t.deepEqual((await envReleases(solum, app, 'production')).map((r) => [r.version, r.duId]), [[1, done.duId]]);
  t.is((await solum.viaRouter(`${app}-production`)).text, `hello production from ${app}-production`);
});

test.serial('an API-defined pipeline waits for an external check: a wrong signature changes nothing, a signed failure stops the run, a signed success promotes [http]', async (t) => {
  const { solum, app } = await solumWithApp(t, 'pipeext');
  const client = await gitClient(solum, 'http');
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  const bad = await solum.api('POST', '/v1/pipelines', { app, stages: [{ deploy: 'staging' }] });
  t.is(bad.status, 400);
  t.regex(bad.text, /deploy needs the build before it/);
  const created = await solum.api('POST', '/v1/pipelines', { app, stages: ['build', { deploy: 'staging' }, { gate: 'external', name: 'ci' }, { promote: 'production' }] });
  t.is(created.status, 201, created.text);
  const pipeline = created.json as { id: number; secret: string; source: string };
  t.like(pipeline, { source: 'api' });
  t.regex(pipeline.secret, /^[0-9a-f]{48}$/);
  t.is((await solum.api('POST', '/v1/pipelines', { app, stages: ['build'] })).status, 409);
  const badPut = await solum.api('PUT', `/v1/pipelines/${pipeline.id}`, { stages: ['build', { promote: 'production' }] });
  t.is(badPut.status, 400);
  t.regex(badPut.text, /promote needs an earlier deploy stage/);
  const listed = (await solum.api('GET', '/v1/pipelines')).json as Array<{ id: number; stages: unknown[]; secret?: string }>;
  t.deepEqual(listed.map((x) => [x.id, x.stages.length, x.secret]), [[pipeline.id, 4, undefined]], 'unchanged, and lists never carry the secret');
  t.like((await solum.api('GET', `/v1/pipelines/${pipeline.id}`)).json, { secret: pipeline.secret });
  t.is((await solum.api('PATCH', `/v1/apps/${app}/environments/production/config`, { GREETING: 'hello production' })).status, 200);

  const pushAndWait = async (): Promise<number> => {
    const push = await client.git(['push', client.url(app), 'main'], repo);
    t.is(push.code, 0, push.stderr);
    t.regex(push.stderr, /Pipeline run #\d+ \(the app pipeline\)/);
    const gate = /remote: -----> Pipeline run #(\d+) waits at gate ci: a signed callback from CI/.exec(push.stderr);
    t.truthy(gate, push.stderr);
    const id = Number(gate?.[1]);
    t.regex(push.stderr, new RegExp(`callback: POST http://127\\.0\\.0\\.1:${solum.httpPort}/v1/pipeline-runs/${id}/callback`));
    return id;
  };
  const callbackTo = async (id: number, body: string, signature: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/pipeline-runs/${id}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-solum-signature': signature },
      body,
    });
    return { status: res.status, text: await res.text() };
  };
  const success = JSON.stringify({ stage: 'ci', status: 'success' });
  const failure = JSON.stringify({ stage: 'ci', status: 'failure' });

  // The first run: CI reports a failure. The run stops; staging keeps serving; production gets nothing.
  const repo = await makeRepo({ 'package.json': pkg, 'server.js': server });
  const first = await pushAndWait();
  const failed = await callbackTo(first, failure, signBody(pipeline.secret, failure));
  t.is(failed.status, 200, failed.text);
  t.like(JSON.parse(failed.text), { id: first, status: 'failed' });
  t.deepEqual(stageStatuses((await solum.api('GET', `/v1/pipeline-runs/${first}`)).json as RunJson), {
    build: 'succeeded',
    'deploy-staging': 'succeeded',
    ci: 'failed',
    'promote-production': 'skipped',
  });
  t.is((await solum.viaRouter(`${app}-staging`)).text, `hi from ${app}-staging`);
  t.deepEqual(await envReleases(solum, app, 'production'), []);

  // The second run (a new commit): wrong signatures first, then a signed success.
  // Attack: a pusher commits a solum.yaml pipeline without the gate, deploying straight to
  // production. The admins' API pipeline wins: the run still waits at ci.
  await writeAndCommit(repo, { 'server.js': `${server}\n// v2\n`, 'solum.yaml': 'pipeline:\n  stages:\n    - build\n    - deploy: production\n' }, 'v2');
  const runId = await pushAndWait();
  t.deepEqual(await envReleases(solum, app, 'production'), [], 'the solum.yaml pipeline did not deploy production');
  t.is(((await solum.api('GET', `/v1/pipelines/${pipeline.id}`)).json as { source: string }).source, 'api');
  const callback = (body: string, signature: string): Promise<{ status: number; text: string }> => callbackTo(runId, body, signature);
  // Signed with another secret, or a signature of another body: refused, nothing changes.
  t.is((await callback(success, signBody('not-the-secret', success))).status, 401);
  t.is((await callback(success, signBody(pipeline.secret, failure))).status, 401);
  t.is((await callback(success, '')).status, 401);
  const still = (await solum.api('GET', `/v1/pipeline-runs/${runId}`)).json as RunJson;
  t.is(still.status, 'waiting');
  t.is(stageStatuses(still).ci, 'waiting');
  t.deepEqual(await envReleases(solum, app, 'production'), []);

  const ok = await callback(success, signBody(pipeline.secret, success));
  t.is(ok.status, 200, ok.text);
  t.like(JSON.parse(ok.text), { id: runId, status: 'succeeded' });
  const done = (await solum.api('GET', `/v1/pipeline-runs/${runId}`)).json as RunJson;
  t.like(done.stages.find((s) => s.name === 'ci'), { status: 'succeeded', decidedBy: 'callback' });
  const [staging] = await envReleases(solum, app, 'staging');
  const [production] = await envReleases(solum, app, 'production');
  t.is(production?.duId, staging?.duId);
  t.is(staging?.version, 2);
  t.is(await runningImage(app, 'production'), await runningImage(app, 'staging', 2));
  t.is((await solum.viaRouter(`${app}-production`)).text, `hello production from ${app}-production`);
  // A replayed callback finds no gate open.
  t.is((await callback(success, signBody(pipeline.secret, success))).status, 409);
  t.is(production?.buildId, 2);

  // The CLI shows the runs and the environments.
  const cliEnv = { HOME: os.tmpdir(), SOLUM_URL: `http://127.0.0.1:${solum.httpPort}`, SOLUM_TOKEN: solum.token, NO_COLOR: '1' };
  const runsCli = await run('node', [path.resolve('dist/src/cli/main.js'), 'pipelines:runs', '-a', app], { env: cliEnv });
  t.is(runsCli.code, 0, runsCli.stderr);
  t.regex(runsCli.stdout, new RegExp(`^${runId}\\s+succeeded\\s.*ci:succeeded promote-production:succeeded$`, 'm'));
  t.regex(runsCli.stdout, new RegExp(`^${first}\\s+failed\\s.*ci:failed promote-production:skipped$`, 'm'));
  const envCli = await run('node', [path.resolve('dist/src/cli/main.js'), 'environments', '-a', app, '--json'], { env: cliEnv });
  t.is(envCli.code, 0, envCli.stderr);
  t.deepEqual((JSON.parse(envCli.stdout) as Array<{ name: string }>).map((e) => e.name), ['production', 'staging']);

  // The dashboard's app page lists the runs with their stages.
  const browser = await openBrowser();
  t.teardown(() => browser.close());
  const base = `http://127.0.0.1:${solum.httpPort}`;
  await signIn(browser.page, base, solum.token);
  await browser.page.goto(`${base}/#/apps/${app}`);
  await browser.page.getByRole('heading', { level: 1, name: `App ${app}` }).waitFor();
  const runRow = (id: number) => browser.page.locator(`#pipeline-runs li[data-key="run ${id}"]`);
  t.regex((await runRow(runId).textContent()) ?? '', /succeeded.*ci: ✓? ?succeeded/s);
  t.regex((await runRow(first).textContent()) ?? '', /failed.*ci: .*failed.*promote-production: .*skipped/s);
  t.deepEqual(browser.errors(), []);

  // Without the pipeline, pushes deploy to the app itself as before.
  t.is((await solum.api('DELETE', `/v1/pipelines/${pipeline.id}`)).status, 204);
  await writeAndCommit(repo, { 'server.js': `${server}\n// v3\n`, 'solum.yaml': '# no pipeline\n' }, 'v3');
  const plain = await client.git(['push', client.url(app), 'main'], repo);
  t.is(plain.code, 0, plain.stderr);
  t.notRegex(plain.stderr, /Pipeline run/);
  t.regex(plain.stderr, new RegExp(`Released v1: http://${app}\\.localhost:${solum.routerPort}/`));
  t.is((await solum.viaRouter(app)).text, `hi from ${app}`);

  // Destroying the app stops its environments' processes too.
  t.is((await solum.api('DELETE', `/v1/apps/${app}`)).status, 204);
  t.deepEqual(await containersLabelled(`io.solum.app=${app}`, 'io.solum.environment=staging'), []);
  t.deepEqual(await containersLabelled(`io.solum.app=${app}`, 'io.solum.environment=production'), []);
  t.is((await solum.viaRouter(`${app}-production`)).status, 404);
});

test.serial('a push overtaken while its build waited ends its run as failed instead of leaving it running [http]', async (t) => {
  const { solum, app } = await solumWithApp(t, 'pipeover');
  const client = await gitClient(solum, 'http');
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('POST', '/v1/pipelines', { app, stages: ['build', { gate: 'approval' }] })).status, 201);
  const first = client.git(['push', client.url(app), 'main'], await makeRepo({ 'build.sh': 'sleep 4\necho one\n' }));
  const buildRunning = async (): Promise<boolean> => {
    for (let i = 0; i < 300; i++) {
      const list = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as Array<{ status: string }> | undefined;
      if (list?.some((b) => b.status === 'running')) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  };
  t.true(await buildRunning(), 'build #1 started');
  // Another clone pushes its own commit while #1 builds: its build waits, then finds main moved.
  const second = client.git(['push', '--force', client.url(app), 'main'], await makeRepo({ 'build.sh': 'echo two\n' }));
  const [r1, r2] = await Promise.all([first, second]);
  t.is(r1.code, 0, r1.stderr);
  t.regex(r1.stderr, /waits at gate approval/);
  t.not(r2.code, 0);
  t.regex(r2.stderr, /main moved to [0-9a-f]{12} while build #2 waited/);
  // The run of build #2 ends once its build has (the end is recorded just after the push hears it).
  let runs: RunJson[] = [];
  for (let i = 0; i < 300; i++) {
    runs = await runsOf(solum, app);
    if (runs.length === 2 && runs[0]?.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.like(runs[0], { status: 'failed', error: 'the run stopped after the build: its push was overtaken by another, or releasing failed' });
  t.deepEqual(stageStatuses(runs[0]), { build: 'succeeded', approval: 'skipped' });
  t.like(runs[1], { status: 'waiting' });
  t.is((await solum.api('POST', `/v1/pipeline-runs/${runs[0]?.id ?? 0}/approve`)).status, 409);
});
