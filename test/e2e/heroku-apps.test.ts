// Apps as Heroku and Dokku users write them, end to end: real apps pushed with the real git client,
// built and run on the real Docker engine, a real PostgreSQL backing service, the real OpenSSH
// client for `run` and cron:*, the CLI as a separate process.
import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { removeAppImages } from '../support/docker.js';
import { releasesOf, solumWithApp, waitFor } from '../support/fixtures.js';
import { gitClient, makeRepo, remoteRefs, writeAndCommit } from '../support/git.js';
import { vendoredPackage } from '../support/vendored.js';
import { makeSshIdentity, randomName, run, startSolum, type CommandResult, type RunningSolum, type SshIdentity } from '../support/solum.js';

const CLI = path.resolve('dist/src/cli/main.js');

/** An SSH command as the real OpenSSH client runs it; `tty` asks for a terminal (ssh -tt). */
function ssh(id: SshIdentity, solum: RunningSolum, command: string, o: { input?: string; tty?: boolean } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const args = [...id.sshCommand.split(' ').slice(1), ...(o.tty ? ['-tt'] : ['-T']), '-p', String(solum.sshPort), 'git@127.0.0.1', command];
    const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => { resolve({ code: code ?? 1, stdout, stderr }); });
    child.stdin.on('error', () => undefined);
    if (o.input !== undefined) child.stdin.end(o.input);
    else if (!o.tty) child.stdin.end();
  });
}

/** The CLI with the server's URL and admin token, nothing from the outer environment. */
const cli = (solum: RunningSolum, args: readonly string[]): Promise<CommandResult> =>
  run('node', [CLI, ...args], { env: { HOME: '/nonexistent', NO_COLOR: '1', SOLUM_URL: `http://127.0.0.1:${solum.httpPort}`, SOLUM_TOKEN: solum.token } });

/** Removes a test's service containers and volumes (instances outlive Solum by design). */
async function removeService(name: string): Promise<void> {
  const c = await run('docker', ['ps', '-aq', '--filter', `label=io.solum.service=${name}`]);
  const ids = c.stdout.split('\n').filter((l) => l.trim() !== '');
  if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
  const v = await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.service=${name}`]);
  for (const vol of v.stdout.split('\n').filter((l) => l.trim() !== '')) await run('docker', ['volume', 'rm', '-f', vol]);
}

/** Removes the app's one-off containers (a scheduled job's is kept for its logs). */
async function removeOneOffs(app: string): Promise<void> {
  const c = await run('docker', ['ps', '-aq', '--filter', `label=io.solum.app=${app}`, '--filter', 'label=io.solum.role=one-off']);
  const ids = c.stdout.split('\n').filter((l) => l.trim() !== '');
  if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
}

// GET / answers who serves; /ready is what app.json's healthcheck reads (its content checked).
const server = `
const http = require('http');
http.createServer((req, res) => {
  if (req.url === '/ready') { res.end('ready: ' + (process.env.PROFILE_GREETING || 'no profile')); return; }
  res.end('hello from ' + process.env.SOLUM_PROCESS + ' of ' + process.env.SOLUM_RELEASE);
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

// The release-phase migration: a table in the linked PostgreSQL (DATABASE_URL from the link).
const migrate = `
const { Client } = require('./vendor/node_modules/pg');
(async () => {
  const c = new Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  await c.query('CREATE TABLE IF NOT EXISTS widgets (id serial PRIMARY KEY, name text NOT NULL)');
  console.log('migrated widgets for ' + process.env.SOLUM_RELEASE + ' (' + process.env.SOLUM_PROCESS + ')');
  await c.end();
})().catch((err) => { console.error(err.message); process.exit(1); });
`;

const plainPkg = JSON.stringify({ name: 'heroku-app', version: '1.0.0', private: true, scripts: { start: 'node server.js' } });

test.serial('release phase: a migration creates a table in the linked PostgreSQL before v3 starts; a failing one keeps v3 serving; app.json healthchecks, postdeploy, sources; an invalid app.json is refused', async (t) => {
  const solum = await startSolum({ env: { SOLUM_HEALTH_TIMEOUT_SECONDS: '60' } });
  const app = randomName('relph');
  const db = randomName('db');
  t.teardown(async () => {
    await solum.stop();
    await removeOneOffs(app);
    await removeAppImages(app);
    await removeService(db);
  });
  const admin = await makeSshIdentity();
  const client = await gitClient(solum, 'ssh', admin);

  const repo = await makeRepo({ 'package.json': plainPkg, ...vendoredPackage('pg'), 'server.js': server, 'Procfile': 'web: node server.js\n' });
  const p1 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p1.code, 0, p1.stderr);
  t.regex(p1.stderr, /Released v1/);
  t.notRegex(p1.stderr, /Release phase/);

  t.is((await ssh(admin, solum, `services:create postgres ${db}`)).code, 0);
  const linked = await ssh(admin, solum, `services:link ${db} ${app}`);
  t.is(linked.code, 0, linked.stderr);
  t.regex(linked.stdout, /\(v2\)/);

  // v3: Procfile release:, Dokku's postdeploy and a startup check that needs .profile.d's variable.
  const appJson = {
    name: 'ignored-name',
    scripts: { dokku: { postdeploy: 'echo "postdeploy says $PROFILE_GREETING"' } },
    healthchecks: { web: [{ type: 'startup', name: 'ready', path: '/ready', content: 'ready: profiled', attempts: 20, wait: 1, timeout: 5 }] },
  };
  await writeAndCommit(repo, {
    'Procfile': 'web: node server.js\nrelease: node migrate.js\n',
    'migrate.js': migrate,
    '.profile.d/greeting.sh': 'export PROFILE_GREETING=profiled\n',
    'app.json': JSON.stringify(appJson),
  }, 'release phase');
  const p3 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p3.code, 0, p3.stderr);
  // The push says where each setting came from.
  t.regex(p3.stderr, /remote: -----> App settings/);
  t.regex(p3.stderr, /remote: +release phase: Procfile release \(node migrate\.js\)/);
  t.regex(p3.stderr, /remote: +postdeploy: app\.json scripts\.dokku\.postdeploy/);
  t.regex(p3.stderr, /remote: +healthchecks\.web: app\.json \(ready\)/);
  t.regex(p3.stderr, /remote: +ignored in app\.json: name/);
  // The release phase ran in the new release, before its processes, its output in the push.
  t.regex(p3.stderr, /remote: -----> Release phase: node migrate\.js \(Procfile release\)[\s\S]*remote: migrated widgets for v3 \(release\)[\s\S]*remote: -----> Release phase done[\s\S]*Launching v3/);
  t.regex(p3.stderr, /1 web process passed "ready" \(app\.json healthchecks\)/);
  t.regex(p3.stderr, /Released v3[\s\S]*remote: -----> Postdeploy: echo "postdeploy says \$PROFILE_GREETING" \(app\.json scripts\.dokku\.postdeploy\)[\s\S]*remote: postdeploy says profiled/);
  t.regex((await solum.viaRouter(app)).text, /^hello from web\.1 of v3$/);

  // The table is in the linked database (asked of the instance itself).
  const instance = (await run('docker', ['ps', '-q', '--filter', `label=io.solum.service=${db}`])).stdout.trim();
  t.regex(instance, /^[0-9a-f]+$/);
  const dbUrl = new URL(((await solum.api('GET', `/v1/apps/${app}/config`)).json as Record<string, string>).DATABASE_URL ?? '');
  dbUrl.hostname = '127.0.0.1';
  const tables = await run('docker', ['exec', instance, 'psql', dbUrl.toString(), '-tAc', "SELECT to_regclass('public.widgets')"]);
  t.is(tables.code, 0, tables.stderr);
  t.is(tables.stdout.trim(), 'widgets');

  // v4's release phase fails: the release fails, no process of v4 starts, v3 keeps serving.
  await writeAndCommit(repo, { 'migrate.js': 'console.log("migration broke"); process.exit(3);\n' }, 'broken migration');
  const p4 = await client.git(['push', client.url(app), 'main'], repo);
  t.regex(p4.stderr, /remote: migration broke/);
  t.regex(p4.stderr, /remote: !\s+Release v4 failed: the release phase \(Procfile release\) exited with status 3/);
  t.regex(p4.stderr, /remote: !\s+v3 is still serving/);
  t.notRegex(p4.stderr, /Launching v4/);
  t.notRegex(p4.stderr, /remote: postdeploy says/);
  const v4 = (await releasesOf(solum, app, 4)).find((r) => r.version === 4);
  t.is(v4?.status, 'failed');
  t.is((await run('docker', ['ps', '-aq', '--filter', `label=io.solum.app=${app}`, '--filter', 'label=io.solum.release=4'])).stdout.trim(), '', 'the release phase container is removed and no process of v4 started');
  t.regex((await solum.viaRouter(app)).text, /^hello from web\.1 of v3$/);

  // An invalid app.json: refused with the key and the reason before anything builds.
  await writeAndCommit(repo, { 'migrate.js': migrate, 'app.json': JSON.stringify({ cron: [{ command: 'true', schedule: '61 * * * *' }], formation: { web: { quantity: 'one' } } }) }, 'bad app.json');
  const p5 = await client.git(['push', client.url(app), 'main'], repo);
  t.not(p5.code, 0);
  t.regex(p5.stderr, /app\.json: .*cron\.0\.schedule: "61 \* \* \* \*"/);
  t.regex(p5.stderr, /formation\.web\.quantity: /);
  t.notRegex(p5.stderr, /-----> (Building|Node|Installing)/);
  t.is((await releasesOf(solum, app, 4)).length, 4, 'no new release');
  t.regex((await solum.viaRouter(app)).text, /^hello from web\.1 of v3$/);
});

test.serial('one-off commands and scheduled jobs: run over SSH (exit status, stdin, a pty), the API and the CLI; cron:list, cron:run and the schedule; .profile.d sourced', async (t) => {
  const { solum, app } = await solumWithApp(t, 'cron', { env: { SOLUM_HEALTH_TIMEOUT_SECONDS: '60' } });
  t.teardown(() => removeOneOffs(app));
  const admin = await makeSshIdentity();
  const client = await gitClient(solum, 'ssh', admin);
  const appJson = { cron: [{ id: 'tick', schedule: '* * * * *', command: 'echo "tick $PROFILE_GREETING $SOLUM_PROCESS"' }] };
  const repo = await makeRepo({
    'package.json': plainPkg,
    'server.js': server,
    'Procfile': 'web: node server.js\n',
    '.profile.d/greeting.sh': 'export PROFILE_GREETING=profiled\n',
    'app.json': JSON.stringify(appJson),
  });
  const p1 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p1.code, 0, p1.stderr);
  t.regex(p1.stderr, /remote: +cron: app\.json \(tick "\* \* \* \* \*"\)/);
  t.regex(p1.stderr, /remote: -----> Scheduled jobs \(UTC\): tick "\* \* \* \* \*" next \d{4}-/);

  // run over SSH: the release's config and .profile.d, the command's exit status, standard input.
  const r1 = await ssh(admin, solum, `run ${app} -- echo "$PROFILE_GREETING $SOLUM_RELEASE $SOLUM_PROCESS"; exit 7`);
  t.is(r1.code, 7, r1.stderr);
  t.regex(r1.stdout, /^profiled v1 run\.\d+\n$/);
  const r2 = await ssh(admin, solum, `run ${app} -- tr a-z A-Z`, { input: 'piped in\n' });
  t.is(r2.code, 0, r2.stderr);
  t.is(r2.stdout, 'PIPED IN\n');
  // ssh -tt: a terminal in the container (the input stays open, as a user's terminal does).
  const r3 = await ssh(admin, solum, `run ${app} -- tty; echo "term=$TERM"`, { tty: true });
  t.is(r3.code, 0, r3.stderr);
  t.regex(r3.stdout, /\/dev\/pts\/\d+\r?\nterm=\S+/);
  // A terminal whose input ends at once (ssh -tt < /dev/null) still gets the command's output.
  const r3b = await ssh(admin, solum, `run ${app} -- tty`, { tty: true, input: '' });
  t.is(r3b.code, 0, r3b.stderr);
  t.regex(r3b.stdout, /\/dev\/pts\/\d+/);
  // Without a terminal, tty says so: a pty is only given when asked.
  t.regex((await ssh(admin, solum, `run ${app} -- tty`)).stdout, /not a tty/);
  const bad = await ssh(admin, solum, 'run nosuchapp -- true');
  t.is(bad.code, 1);
  t.regex(bad.stderr, /solum: .*nosuchapp/);
  t.is((await ssh(admin, solum, `run ${app}`)).code, 2);

  // The API: JSON lines, the output then the end.
  const res = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/apps/${app}/runs`, { method: 'POST', headers: { authorization: `Bearer ${solum.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ command: 'echo from the api; exit 3' }) });
  t.is(res.status, 200);
  const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { release?: string; output?: string; exit?: { exitCode: number } });
  t.is(lines[0]?.release, 'v1');
  t.is(lines.map((l) => l.output ?? '').join(''), 'from the api\n');
  t.is(lines.at(-1)?.exit?.exitCode, 3);

  // The CLI passes the command's status on.
  const c1 = await cli(solum, ['run', '-a', app, '--', 'echo', 'cli', '$PROFILE_GREETING;', 'exit', '5']);
  t.is(c1.code, 5, c1.stderr);
  t.is(c1.stdout, 'cli profiled\n');

  // cron:list over SSH, the API and the CLI.
  const listed = await ssh(admin, solum, `cron:list ${app}`);
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, /^ID +SCHEDULE +ZONE +COMMAND +NEXT +LAST +RUNS +SKIPPED\ntick +\* \* \* \* \* +UTC +echo "tick \$PROFILE_GREETING \$SOLUM_P\.\.\. +\d{4}-/);
  const viaApi = (await solum.api('GET', `/v1/apps/${app}/cron`)).json as Array<{ id: string; runs: number; skipped: number; nextAt: string }>;
  t.like(viaApi[0], { id: 'tick', skipped: 0, command: 'echo "tick $PROFILE_GREETING $SOLUM_PROCESS"' });
  t.true(Date.parse(viaApi[0]?.nextAt ?? '') > Date.now());
  const viaCli = await cli(solum, ['cron:list', '-a', app]);
  t.is(viaCli.code, 0, viaCli.stderr);
  t.regex(viaCli.stdout, /tick/);

  // cron:run now: it waits for the end; the output is in the app's logs.
  const ran = await ssh(admin, solum, `cron:run ${app} tick`);
  t.is(ran.code, 0, ran.stderr);
  t.is(ran.stdout, `cron job tick exited with status 0 (output: logs ${app})\n`);
  t.regex((await ssh(admin, solum, `logs ${app}`)).stdout, /v1 cron\.tick \| tick profiled cron\.tick/);
  t.is((await ssh(admin, solum, `cron:run ${app} nosuch`)).code, 1);
  const apiRun = await solum.api('POST', `/v1/apps/${app}/cron/tick/runs`);
  t.like(apiRun.json, { job: 'tick', exitCode: 0 });

  // The schedule itself: within the next minute the scheduler runs it once more, on a minute.
  const before = ((await solum.api('GET', `/v1/apps/${app}/cron`)).json as Array<{ runs: number }>)[0]?.runs ?? 0;
  t.true(before >= 2);
  const scheduled = await waitFor('a scheduled run of tick', async () => {
    const list = (await solum.api('GET', `/v1/apps/${app}/cron`)).json as Array<{ runs: number; running: boolean; lastStartedAt: string; lastExitCode: number }>;
    return list[0] && list[0].runs > before && !list[0].running ? list[0] : undefined;
  }, 80_000);
  t.is(scheduled.runs, before + 1);
  t.is(scheduled.lastExitCode, 0);
  t.is(new Date(scheduled.lastStartedAt).getUTCSeconds() < 10, true, `started at ${scheduled.lastStartedAt}, not on its minute`);
});

test.serial('monorepo: the build sees only the base directory; a push changing nothing under the watch paths stores the ref without a build and says why', async (t) => {
  const { solum, app } = await solumWithApp(t, 'mono', { env: { SOLUM_HEALTH_TIMEOUT_SECONDS: '60' } });
  const client = await gitClient(solum, 'http');
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { baseDir: '../etc' })).status, 400);
  const set = await solum.api('PATCH', `/v1/apps/${app}`, { baseDir: 'apps/web', watchPaths: ['apps/web', 'libs/**/*.js'] });
  t.is(set.status, 200, set.text);
  t.like(set.json, { baseDir: 'apps/web', watchPaths: ['apps/web', 'libs/**/*.js'] });

  // The root has a package.json of another app: the build must not see it.
  const repo = await makeRepo({
    'package.json': JSON.stringify({ name: 'root', version: '1.0.0', private: true, scripts: { start: 'exit 1' } }),
    'apps/web/package.json': plainPkg,
    'apps/web/server.js': server,
    'apps/web/Procfile': 'web: node server.js\n',
    'docs/README.md': 'docs\n',
  });
  const p1 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p1.code, 0, p1.stderr);
  t.regex(p1.stderr, /remote: -----> Building apps\/web\/ of the tree/);
  t.regex(p1.stderr, /Released v1/);
  t.regex((await solum.viaRouter(app)).text, /^hello from web\.1 of v1$/);

  const docsOnly = await writeAndCommit(repo, { 'docs/README.md': 'more docs\n', 'libs/notes.txt': 'not js\n' }, 'docs');
  const p2 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p2.code, 0, p2.stderr);
  t.regex(p2.stderr, /remote: -----> refs\/heads\/main: stored without a build \(2 files changed, none under the watch paths apps\/web, libs\/\*\*\/\*\.js\)/);
  t.notRegex(p2.stderr, /Build #/);
  t.is((await remoteRefs(client, app, repo)).get('refs/heads/main'), docsOnly);
  t.is(((await solum.api('GET', `/v1/apps/${app}/builds`)).json as unknown[]).length, 1);

  await writeAndCommit(repo, { 'libs/deep/util.js': 'module.exports = 1;\n' }, 'lib');
  const p3 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p3.code, 0, p3.stderr);
  t.regex(p3.stderr, /Released v2/);

  // A base directory the tree lacks fails the build with what to do.
  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { baseDir: 'apps/api', watchPaths: [] })).status, 200);
  await writeAndCommit(repo, { 'docs/README.md': 'again\n' }, 'again');
  const p4 = await client.git(['push', client.url(app), 'main'], repo);
  t.regex(p4.stderr, /the base directory apps\/api\/ is not in the pushed tree/);
  t.regex((await solum.viaRouter(app)).text, /of v2$/);
});

test.serial('app.json env and formation: a required var stops the build until set; a generated secret is set once; the first release starts with the formation; a worker startup check', async (t) => {
  const { solum, app } = await solumWithApp(t, 'appjs', { env: { SOLUM_HEALTH_TIMEOUT_SECONDS: '60' } });
  const client = await gitClient(solum, 'http');
  const appJson = {
    env: { NEEDED: { description: 'set me first' }, SECRET_KEY: { generator: 'secret' }, GREETING: { value: 'from app.json' }, OPTIONAL: { required: false } },
    formation: { web: { quantity: 2 }, worker: { quantity: 1 } },
    healthchecks: { worker: [{ type: 'startup', name: 'stays up', uptime: 2 }] },
  };
  const repo = await makeRepo({
    'package.json': plainPkg,
    'server.js': server,
    'Procfile': 'web: node server.js\nworker: node -e "setInterval(() => {}, 1000)"\n',
    'app.json': JSON.stringify(appJson),
  });
  const p1 = await client.git(['push', client.url(app), 'main'], repo);
  t.not(p1.code, 0);
  t.regex(p1.stderr, /app\.json: env NEEDED is required and not set: set it first \(config:set .* NEEDED=…\), then push again/);
  t.notRegex(p1.stderr, /Launching/);

  t.is((await solum.api('PATCH', `/v1/apps/${app}/config`, { NEEDED: 'yes' })).status, 200);
  const p2 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p2.code, 0, p2.stderr);
  t.regex(p2.stderr, /remote: +env: app\.json NEEDED \(required\), SECRET_KEY \(generated secret\), GREETING\s/);
  t.regex(p2.stderr, /remote: -----> Generated SECRET_KEY \(app\.json env, generator: secret\)/);
  t.regex(p2.stderr, /remote: -----> Formation from app\.json: web=2 worker=1/);
  t.regex(p2.stderr, /Launching v\d+: web=2 worker=1/);
  t.regex(p2.stderr, /1 worker process passed "stays up" \(app\.json healthchecks\)/);
  const config = (await solum.api('GET', `/v1/apps/${app}/config`)).json as Record<string, string>;
  t.regex(config.SECRET_KEY ?? '', /^[0-9a-f]{64}$/);
  t.is(config.NEEDED, 'yes');
  t.is(config.GREETING, undefined, 'a default is not a config var');
  const procs = async () => ((await solum.api('GET', `/v1/apps/${app}/processes`)).json as Array<{ type: string; state: string }>).filter((p) => p.state === 'up').map((p) => p.type).sort();
  t.deepEqual(await procs(), ['web', 'web', 'worker']);
  // The default reaches the processes; the secret is what config says.
  const res = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/apps/${app}/runs`, { method: 'POST', headers: { authorization: `Bearer ${solum.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ command: 'echo "$GREETING $SECRET_KEY"' }) });
  const out = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { output?: string }).map((l) => l.output ?? '').join('');
  t.is(out, `from app.json ${config.SECRET_KEY ?? ''}\n`);

  // Later pushes keep the secret and the formation the app has now.
  t.is((await solum.api('PATCH', `/v1/apps/${app}/formation`, { web: 1 })).status, 200);
  await writeAndCommit(repo, { 'README': 'again\n' }, 'again');
  const p3 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p3.code, 0, p3.stderr);
  t.notRegex(p3.stderr, /Generated SECRET_KEY|Formation from app\.json/);
  t.regex(p3.stderr, /Launching v\d+: web=1 worker=1/);
  t.is(((await solum.api('GET', `/v1/apps/${app}/config`)).json as Record<string, string>).SECRET_KEY, config.SECRET_KEY);
});
