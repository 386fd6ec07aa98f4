// Preview apps (decision 0020) with real git, Docker, PostgreSQL and the router: a branch matching
// the app's pattern (or pushed with -o solum.preview) deploys as its own target at
// `<app>-<slug>.<domain>` while the app keeps serving main; a second push updates it; deleting the
// branch tears it down until nothing is left in Docker, the database or the router; a server killed
// mid-teardown finishes it at its next start; clashes, the maximum and other tenants are refused.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import pg from 'pg';
import { createTestDatabase } from '../support/database.js';
import { containersLabelled, imageExists, removeAppImages } from '../support/docker.js';
import { solumWithApp, waitFor } from '../support/fixtures.js';
import { gitClient, makeRepo, transports, writeAndCommit } from '../support/git.js';
import { makeSshIdentity, randomName, run, type RunningSolum } from '../support/solum.js';
import { createUser, gitEnvFor, urlFor } from '../support/users.js';

/** A web process that answers every request with the first line of greeting.txt ($NAME: that env var); `stubborn` ignores SIGTERM (a stop then takes Docker's 10 s). */
const serve = (stubborn = false): string =>
  `exec perl -MIO::Socket::INET -e '${stubborn ? '$SIG{TERM} = "IGNORE"; ' : ''}open(my $f, "<", "greeting.txt") or die $!; my $g = <$f>; chomp $g; $g =~ s/\\$(\\w+)/$ENV{$1}/g; $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $ENV{PORT}, Listen => 5, ReuseAddr => 1) or die $!; while ($c = $s->accept) { while (<$c>) { last if /^\\r?$/ } print $c "HTTP/1.0 200 OK\\r\\nContent-Length: " . length($g) . "\\r\\n\\r\\n$g"; close $c }'\n`;
const files = (greeting: string, stubborn = false): Record<string, string> => ({ Procfile: 'web: sh ./serve.sh\n', 'serve.sh': serve(stubborn), 'build.sh': 'echo built\n', 'greeting.txt': `${greeting}\n` });

/** The preview target keys Docker holds processes or networks of, for an app. */
async function previewKeysInDocker(app: string): Promise<string[]> {
  const keys = new Set<string>();
  const ps = await run('docker', ['ps', '-a', '--filter', `label=io.solum.app=${app}`, '--format', '{{.Label "io.solum.target"}}']);
  const nets = await run('docker', ['network', 'ls', '--filter', `label=io.solum.app=${app}`, '--format', '{{.Label "io.solum.target"}}']);
  for (const k of [...ps.stdout.split('\n'), ...nets.stdout.split('\n')]) if (k.startsWith('pre-')) keys.add(k.trim());
  return [...keys].sort();
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** Rows a preview key still has anywhere in the database. */
const rowsOf = async (url: string, id: number): Promise<number> =>
  Number((await sql<{ n: string }>(url, 'select (select count(*) from previews where id = $1) + (select count(*) from preview_releases where preview_id = $1) + (select count(*) from preview_services where preview_id = $1) + (select count(*) from preview_config_vars where preview_id = $1) as n', [id]))[0]?.n ?? -1);

/** Whether the router's HAProxy configuration still has a backend for a target key. */
const routerHolds = async (dataDir: string, key: string): Promise<boolean> => (await fs.readFile(path.join(dataDir, 'edge', 'router', 'haproxy.cfg'), 'utf8')).includes(`backend t-${key}\n`);

const previewsOf = async (solum: RunningSolum, app: string, token?: string): Promise<Array<{ name: string; branch: string; url: string; state: string; release: number | null; expiresAt: string }>> => {
  const r = await solum.api('GET', `/v1/apps/${app}/previews`, undefined, token);
  if (r.status !== 200) throw new Error(`listing previews: ${r.status} ${r.text}`);
  return r.json as Array<{ name: string; branch: string; url: string; state: string; release: number | null; expiresAt: string }>;
};

for (const transport of transports) {
  test.serial(`a pushed preview branch answers at its own host while the app serves main; a second push updates it; deleting the branch leaves nothing in Docker, the database or the router [${transport}]`, async (t) => {
    const { solum, app } = await solumWithApp(t, 'prev', { database: 'postgres', env: { SOLUM_KEEP_DUS: '1' } });
    const client = await gitClient(solum, transport);
    const repo = await makeRepo(files('main says hi'));
    const first = await client.git(['push', client.url(app), 'main'], repo);
    t.is(first.code, 0, first.stderr);

    // Off by default: a branch is stored, nothing more.
    await run('git', ['checkout', '-q', '-b', 'preview/feature-x'], { cwd: repo });
    await writeAndCommit(repo, { 'greeting.txt': 'feature x says hi\n' }, 'feature');
    const off = await client.git(['push', client.url(app), 'preview/feature-x'], repo);
    t.is(off.code, 0, off.stderr);
    t.regex(off.stderr, /stored without a build \(only main builds\)/);
    t.deepEqual(await previewsOf(solum, app), []);

    // Bad settings change nothing.
    for (const body of [{ pattern: '/etc' }, { ttl: '1s' }, { ttl: 'soon' }, { maxPreviews: 1000 }, {}]) {
      t.is((await solum.api('PATCH', `/v1/apps/${app}/preview-settings`, body)).status, 400, JSON.stringify(body));
    }
    t.like((await solum.api('GET', `/v1/apps/${app}/preview-settings`)).json, { pattern: null, ttlSeconds: 7 * 86400, maxPreviews: 10 });
    t.is((await solum.api('PATCH', `/v1/apps/${app}/preview-settings`, { pattern: 'preview/*' })).status, 200);

    await writeAndCommit(repo, { 'greeting.txt': 'feature x v1\n' }, 'feature v1');
    const host = `${app}-preview-feature-x`;
    const pushed = await client.git(['push', client.url(app), 'preview/feature-x'], repo);
    t.is(pushed.code, 0, pushed.stderr);
    t.regex(pushed.stderr, new RegExp(`Released v1: http://${host}\\.localhost:\\d+`));
    t.is((await solum.viaRouter(host)).text, 'feature x v1');
    t.is((await solum.viaRouter(app)).text, 'main says hi');
    const [listed] = await previewsOf(solum, app);
    t.like(listed, { name: 'preview-feature-x', branch: 'preview/feature-x', state: 'up', release: 1 });
    t.regex(listed?.url ?? '', new RegExp(`^http://${host}\\.localhost:\\d+/?$`));

    // The same branch again: the same preview, a new release; main is untouched.
    await writeAndCommit(repo, { 'greeting.txt': 'feature x v2\n' }, 'feature v2');
    const again = await client.git(['push', client.url(app), 'preview/feature-x'], repo);
    t.is(again.code, 0, again.stderr);
    t.regex(again.stderr, /Released v2/);
    t.is((await solum.viaRouter(host)).text, 'feature x v2');
    t.is((await solum.viaRouter(app)).text, 'main says hi');
    t.is((await previewsOf(solum, app)).length, 1);
    const keys = await previewKeysInDocker(app);
    t.is(keys.length, 1);
    const key = keys[0]!;
    const id = Number(key.slice('pre-'.length));
    t.true(await routerHolds(solum.dataDir, key));
    // Build #2 (the preview's v1) is neither the newest DU nor, once the preview is gone, released.
    t.true(await imageExists(`solum/${app}:2`));

    // Deleting the branch tears it all down.
    const gone = await client.git(['push', client.url(app), ':preview/feature-x'], repo);
    t.is(gone.code, 0, gone.stderr);
    t.regex(gone.stderr, /Preview preview-feature-x is being torn down/);
    await waitFor('teardown', async () => ((await rowsOf(solum.databaseUrl!, id)) === 0 && (await previewKeysInDocker(app)).length === 0 ? true : undefined), 60_000);
    t.deepEqual(await containersLabelled(`io.solum.target=${key}`), []);
    t.is((await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.target=${key}`])).stdout.trim(), '');
    await waitFor('router forgets it', async () => ((await routerHolds(solum.dataDir, key)) ? undefined : true), 15_000);
    t.not((await solum.viaRouter(host)).text, 'feature x v2');
    t.deepEqual(await previewsOf(solum, app), []);
    t.is((await solum.viaRouter(app)).text, 'main says hi');
    // Its DUs beyond retention went with it; main's (released) and the newest stay.
    await waitFor('DUs beyond retention removed', async () => ((await imageExists(`solum/${app}:2`)) ? undefined : true), 15_000);
    t.true(await imageExists(`solum/${app}:1`));
  });
}

test.serial('-o solum.preview previews any branch; it never deploys main; router-name clashes and the maximum are refused with nothing changed', async (t) => {
  const { solum, app } = await solumWithApp(t, 'prevo', { database: 'postgres' });
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo(files('main'));
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);

  // Asked for on the deploy branch, a preview is refused rather than deploying the app.
  await writeAndCommit(repo, { 'greeting.txt': 'not for main\n' }, 'x');
  const onMain = await client.git(['push', '-o', 'solum.preview', client.url(app), 'main'], repo);
  t.not(onMain.code, 0);
  t.regex(onMain.stderr, /solum\.preview builds a branch other than main/);
  t.is((await solum.viaRouter(app)).text, 'main');

  // Subscribers hear of previews going up and down.
  const events: Array<{ event: string; preview?: { name: string; url: string } }> = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => { events.push(JSON.parse(body) as (typeof events)[number]); res.writeHead(204).end(); });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => { resolve(); })));
  const subscribed = await solum.api('POST', `/v1/apps/${app}/notifications`, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, events: 'preview.up,preview.down' });
  t.is(subscribed.status, 201, subscribed.text);

  const forced = await client.git(['push', '-o', 'solum.preview', client.url(app), 'HEAD:topic'], repo);
  t.is(forced.code, 0, forced.stderr);
  const up = await waitFor('preview.up', () => Promise.resolve(events.find((e) => e.event === 'preview.up')));
  t.like(up.preview, { name: 'topic' });
  t.regex(up.preview?.url ?? '', new RegExp(`^http://${app}-topic\\.localhost:\\d+`));
  t.is((await solum.viaRouter(`${app}-topic`)).text, 'not for main');
  t.is((await solum.viaRouter(app)).text, 'main');

  // A preview cannot take another app's router name: `<app>-taken` is an app of its own.
  const other = `${app}-taken`;
  t.teardown(() => removeAppImages(other));
  t.is((await solum.api('POST', '/v1/apps', { name: other })).status, 201);
  const clash = await client.git(['push', '-o', 'solum.preview', client.url(app), 'HEAD:taken'], repo);
  t.not(clash.code, 0);
  t.regex(clash.stderr, new RegExp(`an app named ${other} exists: its host is not a preview's to take`));
  t.deepEqual((await previewsOf(solum, app)).map((p) => p.name), ['topic']);
  t.regex((await client.git(['ls-remote', client.url(app)], repo)).stdout, /refs\/heads\/topic/);
  t.notRegex((await client.git(['ls-remote', client.url(app)], repo)).stdout, /refs\/heads\/taken/);

  // The app's maximum, set with the CLI, which lists previews too.
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-cli-home-'));
  t.teardown(() => fs.rm(home, { recursive: true, force: true }));
  const cli = (args: string[]) => run('node', ['dist/src/cli/main.js', ...args, '-a', app], { env: { HOME: home, SOLUM_URL: `http://127.0.0.1:${solum.httpPort}`, SOLUM_TOKEN: solum.token, NO_COLOR: '1' } });
  const listed = await cli(['previews']);
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, new RegExp(`topic +topic +http://${app}-topic\\.localhost:\\d+/? +up +v1`));
  t.is((await cli(['previews:settings', '--max', 'lots'])).code, 2);
  const capped = await cli(['previews:settings', '--max', '1']);
  t.is(capped.code, 0, capped.stderr);
  t.regex(capped.stdout, /max previews: 1/);
  const full = await client.git(['push', '-o', 'solum.preview', client.url(app), 'HEAD:second'], repo);
  t.not(full.code, 0);
  t.regex(full.stderr, /has 1 preview, the most its settings allow/);
  t.deepEqual((await previewsOf(solum, app)).map((p) => p.name), ['topic']);

  // Destroyed over SSH by name: gone from the list, from Docker and from the router.
  const keys = await previewKeysInDocker(app);
  t.is(keys.length, 1);
  const id = await makeSshIdentity();
  t.is((await solum.api('POST', '/v1/users/admin/keys', { name: 'ssh', publicKey: id.publicKey })).status, 201);
  const ssh = (cmd: string) => run('ssh', [...id.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', cmd]);
  t.regex((await ssh(`previews ${app}`)).stdout, new RegExp(`topic +topic +http://${app}-topic\\.localhost:\\d+/? +up +v1`));
  const bad = await ssh(`previews:destroy ${app} ../etc`);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /is not a preview name/);
  t.is((await ssh(`previews:destroy ${app} topic`)).stdout, `destroyed preview topic of ${app}\n`);
  t.deepEqual(await previewsOf(solum, app), []);
  t.deepEqual(await previewKeysInDocker(app), []);
  t.is((await solum.viaRouter(app)).text, 'main');
  t.is((await ssh(`previews ${app}`)).stdout, 'no previews\n');
  t.like(await waitFor('preview.down', () => Promise.resolve(events.find((e) => e.event === 'preview.down'))), { preview: { name: 'topic' } });
});

test.serial("regression: an ordinary user cannot list or destroy another tenant's previews (the attack: naming another owner's app in the previews routes)", async (t) => {
  const { solum, app } = await solumWithApp(t, 'prevt', { database: 'postgres' });
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo(files('main $COLOR'));
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
  t.is((await solum.api('PATCH', `/v1/apps/${app}/config`, { COLOR: 'red' })).status, 200);
  t.is((await client.git(['push', '-o', 'solum.preview', client.url(app), 'HEAD:secret'], repo)).code, 0);
  // The preview's config is a copy of the app's.
  t.is((await solum.viaRouter(`${app}-secret`)).text, 'main red');
  const mallory = await createUser(solum, randomName('mallory'));
  for (const [method, route] of [
    ['GET', `/v1/apps/${app}/previews`],
    ['DELETE', `/v1/apps/${app}/previews/secret`],
    ['GET', `/v1/apps/${app}/preview-settings`],
    ['PATCH', `/v1/apps/${app}/preview-settings`],
    ['GET', `/v1/apps/${app}/previews/secret/config`],
    ['PATCH', `/v1/apps/${app}/previews/secret/config`],
  ] as const) {
    const r = await solum.api(method, route, method === 'PATCH' ? (route.endsWith('config') ? { COLOR: 'stolen' } : { pattern: '*' }) : undefined, mallory.token);
    t.is(r.status, 404, `${method} ${route}`);
    t.notRegex(r.text, /secret|red/);
  }
  // A read collaborator lists but neither destroys nor reads the preview's config (it holds secrets, as the app's does).
  t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/${mallory.name}`, { role: 'read' })).status, 204);
  t.deepEqual((await previewsOf(solum, app, mallory.token)).map((p) => p.name), ['secret']);
  t.is((await solum.api('DELETE', `/v1/apps/${app}/previews/secret`, undefined, mallory.token)).status, 403);
  t.is((await solum.api('GET', `/v1/apps/${app}/previews/secret/config`, undefined, mallory.token)).status, 403);
  t.deepEqual((await previewsOf(solum, app)).map((p) => p.name), ['secret']);
  t.is((await solum.viaRouter(`${app}-secret`)).text, 'main red');

  // The preview's own config vars override the app's copy, in a new release of the preview only.
  for (const bad of [{ 'NOT A NAME': 'x' }, { PORT: '1' }, {}]) t.is((await solum.api('PATCH', `/v1/apps/${app}/previews/secret/config`, bad)).status, 400, JSON.stringify(bad));
  const set = await solum.api('PATCH', `/v1/apps/${app}/previews/secret/config`, { COLOR: 'blue' });
  t.is(set.status, 200, set.text);
  t.like(set.json, { config: ['COLOR'], release: { version: 2 } });
  t.deepEqual((await solum.api('GET', `/v1/apps/${app}/previews/secret/config`)).json, { COLOR: 'blue' });
  t.is((await solum.viaRouter(`${app}-secret`)).text, 'main blue');
  t.is((await solum.viaRouter(app)).text, 'main red');
  t.is((await solum.api('PATCH', `/v1/apps/${app}/previews/secret/config`, { COLOR: null })).status, 200);
  t.is((await solum.viaRouter(`${app}-secret`)).text, 'main red');
});

test.serial("a preview of an app that links postgres gets a fresh instance of its own, reached by name on the preview's network only, and loses it with the preview", async (t) => {
  const { solum, app } = await solumWithApp(t, 'prevs', { database: 'postgres', env: { SOLUM_PREVIEW_RECONCILE_SECONDS: '2' } });
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo(files('db $DATABASE_URL'));
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
  const svc = randomName('db');
  t.is((await solum.api('POST', '/v1/services', { kind: 'postgres', name: svc })).status, 201);
  t.teardown(async () => { await solum.api('DELETE', `/v1/services/${svc}?confirm=${svc}&force=1`); });
  t.is((await solum.api('PUT', `/v1/services/${svc}/links/${app}`)).status, 200);
  t.regex((await solum.viaRouter(app)).text, new RegExp(`^db postgres://.*@${svc}:\\d+/`));

  const pushed = await client.git(['push', '-o', 'solum.preview', client.url(app), 'HEAD:withdb'], repo);
  t.is(pushed.code, 0, pushed.stderr);
  const [key] = await previewKeysInDocker(app);
  const id = Number(key!.slice('pre-'.length));
  const fresh = `pre${id}-${svc}`;
  t.regex(pushed.stderr, new RegExp(`Creating postgres service ${fresh} for this preview`));
  t.regex((await solum.viaRouter(`${app}-withdb`)).text, new RegExp(`^db postgres://.*@${fresh}:\\d+/${fresh}$`));
  t.regex((await solum.viaRouter(app)).text, new RegExp(`@${svc}:`));
  // On the preview's network under its own name; not on the app's.
  const members = async (target: string): Promise<string> => {
    const net = (await run('docker', ['network', 'ls', '-q', '--filter', `label=io.solum.target=${target}`])).stdout.trim();
    return (await run('docker', ['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', net])).stdout;
  };
  t.regex(await members(key!), new RegExp(`solum-svc-${fresh}-`));
  // Its data volume is labelled with the preview for good: found even without the preview's rows.
  t.regex((await run('docker', ['volume', 'ls', '--filter', `label=io.solum.target=${key!}`, '--format', '{{.Label "io.solum.service"}}'])).stdout, new RegExp(`^${fresh}$`, 'm'));
  const appKey = (await run('docker', ['ps', '--filter', `label=io.solum.app=${app}`, '--format', '{{.Label "io.solum.target"}}'])).stdout.split('\n').find((k) => k.startsWith('app-'))!;
  t.notRegex(await members(appKey), new RegExp(fresh));
  // A second push reuses it.
  await writeAndCommit(repo, { 'greeting.txt': 'again $DATABASE_URL\n' }, 'again');
  const again = await client.git(['push', '-o', 'solum.preview', client.url(app), 'HEAD:withdb'], repo);
  t.is(again.code, 0, again.stderr);
  t.notRegex(again.stderr, /Creating postgres service/);
  t.regex((await solum.viaRouter(`${app}-withdb`)).text, new RegExp(`^again postgres://.*@${fresh}:`));

  t.is((await solum.api('DELETE', `/v1/apps/${app}/previews/withdb`)).status, 204);
  t.deepEqual(await containersLabelled(`io.solum.service=${fresh}`), []);
  t.is((await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.service=${fresh}`])).stdout.trim(), '');
  t.is((await solum.api('GET', `/v1/services/${fresh}`)).status, 404);
  t.is((await rowsOf(solum.databaseUrl!, id)), 0);
  t.deepEqual(await previewKeysInDocker(app), []);
  t.regex((await solum.viaRouter(app)).text, new RegExp(`@${svc}:`));

  // Destroying the app takes a live preview's fresh instance with it (the app's own is only unlinked).
  t.is((await client.git(['push', '-o', 'solum.preview', client.url(app), 'HEAD:second'], repo)).code, 0);
  const [secondKey] = await previewKeysInDocker(app);
  const second = `pre${secondKey!.slice('pre-'.length)}-${svc}`;
  t.is((await containersLabelled(`io.solum.service=${second}`)).length, 1);
  t.true(await routerHolds(solum.dataDir, secondKey!));
  t.is((await solum.api('DELETE', `/v1/apps/${app}`)).status, 204);
  t.deepEqual(await containersLabelled(`io.solum.service=${second}`), []);
  t.is((await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.service=${second}`])).stdout.trim(), '');
  t.is((await solum.api('GET', `/v1/services/${second}`)).status, 404);
  t.deepEqual(await previewKeysInDocker(app), []);
  t.is((await solum.api('GET', `/v1/services/${svc}`)).status, 200);
  // Its rows went with the app's; the reconciler's next pass drops its router entry too.
  await waitFor('the router forgets the destroyed app\'s preview', async () => ((await routerHolds(solum.dataDir, secondKey!)) ? undefined : true), 20_000);
});

test.serial("a pull request becomes a preview when the app's settings allow it, without the app's config; closing it tears the preview down", async (t) => {
  const { solum, app } = await solumWithApp(t, 'prevpr', { database: 'postgres' });
  const src = await makeRepo(files('main'));
  await run('git', ['checkout', '-q', '-b', 'feature'], { cwd: src });
  const head = await writeAndCommit(src, { 'greeting.txt': 'pull request 7 [$COLOR]\n' }, 'pr');
  await run('git', ['update-ref', 'refs/pull/7/head', head], { cwd: src });
  const broken = await writeAndCommit(src, { 'build.sh': 'echo broken; exit 1\n' }, 'broken');
  await run('git', ['update-ref', 'refs/pull/9/head', broken], { cwd: src });
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('PUT', `/v1/apps/${app}/source`, { url: `file://${src}`, ref: 'main' })).status, 200);
  t.is((await solum.api('PATCH', `/v1/apps/${app}/config`, { COLOR: 'red' })).status, 200);
  const { secret } = (await solum.api('POST', `/v1/apps/${app}/webhook/secret`)).json as { secret: string };
  const send = async (delivery: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    const sig = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const res = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/apps/${app}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': delivery, 'x-hub-signature-256': sig }, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const opened = { action: 'opened', number: 7, pull_request: { number: 7, head: { sha: head }, updated_at: new Date().toISOString() } };
  t.like(await send('d-1', opened), { status: 200, json: { status: 'ignored' } }, 'off by default');
  t.deepEqual(await previewsOf(solum, app), []);
  t.is((await solum.api('PATCH', `/v1/apps/${app}/preview-settings`, { pullRequests: true })).status, 200);
  t.like(await send('d-2', opened), { status: 202, json: { status: 'queued', preview: 'pr-7' } });
  await waitFor('the pull request preview', async () => ((await previewsOf(solum, app))[0]?.state === 'up' ? true : undefined), 120_000);
  t.like((await previewsOf(solum, app))[0], { name: 'pr-7', branch: 'pull/7', release: 1 });
  // A pull request's code never sees the app's config (its secrets).
  t.is((await solum.viaRouter(`${app}-pr-7`)).text, 'pull request 7 []');
  const [key] = await previewKeysInDocker(app);
  const id = Number(key!.slice('pre-'.length));
  // A pull request whose build fails is listed as failed, with nothing running.
  t.like(await send('d-5', { action: 'opened', number: 9, pull_request: { number: 9, head: { sha: broken }, updated_at: new Date().toISOString() } }), { status: 202, json: { preview: 'pr-9' } });
  t.like(await waitFor('the failed preview', async () => (await previewsOf(solum, app)).find((p) => p.name === 'pr-9' && p.state === 'failed'), 120_000), { release: null });
  t.is((await previewKeysInDocker(app)).length, 1);
  t.like(await send('d-6', { action: 'closed', number: 9, pull_request: { number: 9, updated_at: new Date().toISOString() } }), { status: 200, json: { status: 'torn-down', preview: 'pr-9' } });

  t.like(await send('d-3', { action: 'closed', number: 7, pull_request: { number: 7, merged: false, updated_at: new Date().toISOString() } }), { status: 200, json: { status: 'torn-down', preview: 'pr-7' } });
  await waitFor('teardown', async () => ((await rowsOf(solum.databaseUrl!, id)) === 0 && (await previewKeysInDocker(app)).length === 0 ? true : undefined), 60_000);
  t.deepEqual(await previewsOf(solum, app), []);
  t.like(await send('d-4', { action: 'closed', number: 8, pull_request: { number: 8, updated_at: new Date().toISOString() } }), { status: 200, json: { status: 'ignored' } });
});

test.serial("a preview counts against its app owner's quotas: its fresh service instances and its processes; beyond them nothing is made", async (t) => {
  const { solum, app } = await solumWithApp(t, 'prevq', { database: 'postgres', env: { SOLUM_QUOTA_PROCESSES: '2', SOLUM_QUOTA_SERVICES: '1' } });
  const carol = await createUser(solum, randomName('carol'));
  t.is((await solum.api('POST', '/v1/apps', { name: app }, carol.token)).status, 201);
  const repo = await makeRepo(files('main'));
  const push = (args: string[]) => run('git', ['push', ...args], { cwd: repo, env: gitEnvFor(carol) });
  t.is((await push([urlFor(solum, 'http', app, carol), 'main'])).code, 0);
  // Her one service instance is linked to the app: a preview's fresh one would be her second.
  const svc = randomName('db');
  t.is((await solum.api('POST', '/v1/services', { kind: 'postgres', name: svc }, carol.token)).status, 201);
  t.teardown(async () => { await solum.api('DELETE', `/v1/services/${svc}?confirm=${svc}&force=1`); });
  t.is((await solum.api('PUT', `/v1/services/${svc}/links/${app}`, undefined, carol.token)).status, 200);
  const one = await push(['-o', 'solum.preview', urlFor(solum, 'http', app, carol), 'HEAD:one']);
  t.regex(one.stderr, /the owner of .* owns 1 service instances already, the most a user may: this preview gets no fresh postgres/);
  t.like((await previewsOf(solum, app, carol.token))[0], { name: 'one', state: 'failed', release: null });
  t.is(((await solum.api('GET', '/v1/services', undefined, carol.token)).json as unknown[]).length, 1);
  // The preview's web process counts too: a second preview would be her third process.
  const two = await push(['-o', 'solum.preview', urlFor(solum, 'http', app, carol), 'HEAD:two']);
  t.not(two.code, 0);
  t.regex(two.stderr, /would run 3 processes with this preview, more than the 2 a user may/);
  t.deepEqual((await previewsOf(solum, app, carol.token)).map((p) => p.name), ['one']);
  // Her previews' processes count for scaling the app too.
  t.is((await solum.api('PATCH', `/v1/apps/${app}/formation`, { web: 2 }, carol.token)).status, 403);
});

test.serial('an idle preview past its TTL is torn down by the reconciler on its own', async (t) => {
  const { solum, app } = await solumWithApp(t, 'prevttl', { database: 'postgres', env: { SOLUM_PREVIEW_RECONCILE_SECONDS: '1' } });
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo(files('main'));
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
  t.is((await solum.api('PATCH', `/v1/apps/${app}/preview-settings`, { ttl: '10s' })).status, 200);
  t.is((await client.git(['push', '-o', 'solum.preview', client.url(app), 'HEAD:brief'], repo)).code, 0);
  const [key] = await previewKeysInDocker(app);
  const id = Number(key!.slice('pre-'.length));
  const [p] = await previewsOf(solum, app);
  t.true(Date.parse(p!.expiresAt) - Date.now() <= 10_000);
  await waitFor('idle teardown', async () => ((await rowsOf(solum.databaseUrl!, id)) === 0 && (await previewKeysInDocker(app)).length === 0 ? true : undefined), 40_000);
  t.regex(solum.logs(), /preview idle past its TTL: doomed/);
  t.is((await solum.viaRouter(app)).text, 'main');
});

test.serial('a server killed with SIGKILL mid-teardown finishes the teardown at its next start: nothing is left', async (t) => {
  const db = await createTestDatabase('postgres');
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-prevkill-'));
  const app = randomName('prevk');
  const env = { ...process.env, SOLUM_DATA_DIR: dataDir, DATABASE_URL: db.url ?? '', SOLUM_HTTP_PORT: '0', SOLUM_SSH_PORT: '0', SOLUM_ROUTER_PORT: '0', SOLUM_HTTPS_PORT: 'off', SOLUM_BIND: '127.0.0.1', SOLUM_LOG_LEVEL: 'info', SOLUM_DEPLOY_GRACE_SECONDS: '1' };
  const start = async () => {
    const child = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const ports = await waitFor('server start', () => {
      const m = /"httpPort":(\d+),"sshPort":(\d+),"routerPort":(\d+)/.exec(out);
      return Promise.resolve(m ? { http: Number(m[1]), router: Number(m[3]) } : undefined);
    });
    return { child, ports, output: () => out };
  };
  let server = await start();
  t.teardown(async () => {
    server.child.kill('SIGKILL');
    const ids = (await run('docker', ['ps', '-aq', '--filter', `label=io.solum.app=${app}`])).stdout.split('\n').filter((l) => l !== '');
    if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
    for (const n of (await run('docker', ['network', 'ls', '-q', '--filter', `label=io.solum.app=${app}`])).stdout.split('\n').filter((l) => l !== '')) await run('docker', ['network', 'rm', n]);
    await removeAppImages(app);
    await db.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  const url = () => `http://x:${token}@127.0.0.1:${server.ports.http}/${app}.git`;
  const git = (args: string[]) => run('git', args, { cwd: repo, env: { GIT_TERMINAL_PROMPT: '0' } });
  const viaRouter = (host: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.ports.router, path: '/', headers: { host: `${host}.localhost` }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => { resolve(text); });
      });
      req.on('error', reject);
    });
  // The preview's web process ignores SIGTERM: stopping it takes Docker's 10 s, the window the kill lands in.
  const repo = await makeRepo(files('main', true));
  t.is((await git(['push', url(), 'main'])).code, 0);
  const pushed = await git(['push', '-o', 'solum.preview', url(), 'HEAD:doomed']);
  t.is(pushed.code, 0, pushed.stderr);
  t.is(await viaRouter(`${app}-doomed`), 'main');
  const [key] = await previewKeysInDocker(app);
  t.truthy(key);
  const id = Number(key!.slice('pre-'.length));

  t.is((await git(['push', url(), ':doomed'])).code, 0);
  await waitFor('teardown under way', () => Promise.resolve(server.output().includes('"msg":"tearing down a preview"') ? true : undefined));
  server.child.kill('SIGKILL');
  await new Promise((r) => server.child.once('exit', r));
  // Killed mid-teardown: the rows and the network are still there.
  t.true((await rowsOf(db.url!, id)) > 0);

  server = await start();
  await waitFor('teardown finished', async () => ((await rowsOf(db.url!, id)) === 0 && (await previewKeysInDocker(app)).length === 0 ? true : undefined), 60_000);
  t.deepEqual(await containersLabelled(`io.solum.target=${key!}`), []);
  t.false(await routerHolds(dataDir, key!));
  t.is(await viaRouter(app), 'main');
});
