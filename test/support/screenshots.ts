// `npm run screenshots`: starts a Solum, deploys small apps (no npm registry needed), and saves
// dashboard pages as docs/screenshots/<page>.png: sign-in, apps, app (live status with a build
// running, the build-duration chart with a failed build, the release timeline, backing services),
// app-canary (a canary's share), app-pipeline (pipeline runs, one waiting at its gate), services,
// build and keys.
import fs from 'node:fs/promises';
import path from 'node:path';
import { openBrowser, signIn } from './browser.js';
import { removeAppImages } from './docker.js';
import { okWebServer, waitFor } from './fixtures.js';
import { gitClient, makeRepo, writeAndCommit } from './git.js';
import { makeSshIdentity, run, startSolum } from './solum.js';

const out = path.resolve('docs/screenshots');
const app = 'hello-web';
const pipelineApp = 'hello-pipeline';
const services = [
  { kind: 'redis', name: 'hello-cache', linkTo: app },
  { kind: 'postgres', name: 'reports-db', linkTo: null },
] as const;
const pkg = JSON.stringify({ name: 'hello-web', version: '1.0.0', scripts: { build: 'sh build.sh', start: 'node server.js' } });
const buildSh = (seconds: number): string => `echo "compiling assets"\nsleep ${seconds}\necho "wrote public/app.css (2.1 kB)"\necho "wrote public/app.js (14.8 kB)"\n`;
const server = (greeting: string): string =>
  `require('http').createServer((req, res) => res.end(${JSON.stringify(greeting)})).listen(Number(process.env.PORT), '0.0.0.0');\n`;

const check = (what: string, res: { status: number; text: string }): void => {
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${res.text}`);
};

/** Removes the screenshots' service containers and volumes (instances outlive Solum by design). */
async function removeServices(installation: string | undefined): Promise<void> {
  if (!installation) return;
  for (const { name } of services) {
    const filters = ['--filter', `label=io.solum.service=${name}`, '--filter', `label=io.solum.installation=${installation}`];
    const c = await run('docker', ['ps', '-aq', ...filters]);
    const ids = c.stdout.split('\n').filter((l) => l.trim() !== '');
    if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
    const v = await run('docker', ['volume', 'ls', '-q', ...filters]);
    for (const vol of v.stdout.split('\n').filter((l) => l.trim() !== '')) await run('docker', ['volume', 'rm', '-f', vol]);
  }
}

const solum = await startSolum();
const browser = await openBrowser({ viewport: { width: 1200, height: 800 } });
try {
  await fs.mkdir(out, { recursive: true });
  const base = `http://127.0.0.1:${solum.httpPort}`;
  const { page } = browser;
  const client = await gitClient(solum, 'http');
  const push = async (name: string, dir: string, ...options: string[]): Promise<string> => {
    const r = await client.git(['push', ...options, client.url(name), 'main'], dir);
    if (r.code !== 0) throw new Error(`push failed: ${r.stderr}`);
    return r.stderr;
  };

  // hello-web: builds of different lengths, one failed, for the chart; three releases for the timeline.
  const repo = await makeRepo({ 'package.json': pkg, 'build.sh': buildSh(1), 'server.js': server('hello v1') });
  await push(app, repo);
  await writeAndCommit(repo, { 'build.sh': buildSh(3), 'server.js': server('hello v2') }, 'v2');
  await push(app, repo);
  await writeAndCommit(repo, { 'build.sh': `${buildSh(2)}echo "error: public/app.js: unexpected token" >&2\nexit 1\n` }, 'broken');
  const failed = await client.git(['push', client.url(app), 'main'], repo);
  if (failed.code === 0) throw new Error('the broken build was released');
  await writeAndCommit(repo, { 'build.sh': buildSh(2), 'server.js': server('hello v3') }, 'v3');
  await push(app, repo);
  check('config', await solum.api('PATCH', `/v1/apps/${app}/config`, { GREETING: 'hi' }));
  check('user', await solum.api('POST', '/v1/users', { name: 'bob' }));
  check('collaborator', await solum.api('PUT', `/v1/apps/${app}/collaborators/bob`, { role: 'write' }));
  check('key', await solum.api('POST', '/v1/users/admin/keys', { name: 'laptop', publicKey: (await makeSshIdentity()).publicKey }));
  check('key', await solum.api('POST', '/v1/users/admin/keys', { name: 'ci', publicKey: (await makeSshIdentity('ecdsa')).publicKey }));
  for (const s of services) {
    check(`service ${s.name}`, await solum.api('POST', '/v1/services', { kind: s.kind, name: s.name }));
    if (s.linkTo) check(`link ${s.name}`, await solum.api('PUT', `/v1/services/${s.name}/links/${s.linkTo}`));
  }
  const builds = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as { id: number }[];
  const latest = builds[0];
  if (!latest) throw new Error('no build');

  // hello-pipeline: build, staging, an approval gate, production. The first run approved, the second waiting.
  check('app', await solum.api('POST', '/v1/apps', { name: pipelineApp }));
  check('pipeline', await solum.api('POST', '/v1/pipelines', { app: pipelineApp, stages: ['build', { deploy: 'staging' }, { gate: 'approval', role: 'write' }, { promote: 'production' }] }));
  const pipeRepo = await makeRepo({ Procfile: 'web: sh ./serve.sh\n', 'serve.sh': okWebServer, 'build.sh': 'echo "packing site"\n' });
  const gate = (stderr: string): number => {
    const m = /Pipeline run #(\d+) waits at gate/.exec(stderr);
    if (!m) throw new Error(`the run did not wait at its gate: ${stderr}`);
    return Number(m[1]);
  };
  check('approve', await solum.api('POST', `/v1/pipeline-runs/${gate(await push(pipelineApp, pipeRepo))}/approve`));
  await writeAndCommit(pipeRepo, { 'build.sh': 'echo "packing site, with the new pricing page"\n' }, 'pricing page');
  gate(await push(pipelineApp, pipeRepo));

  const shoot = async (name: string): Promise<void> => {
    // Nothing focused or hovered, so the shot shows the page at rest.
    await page.evaluate('document.activeElement?.blur()');
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
    console.log(`docs/screenshots/${name}.png`);
  };

  await page.goto(`${base}/`);
  await page.getByLabel('API token').waitFor();
  await shoot('sign-in');
  await signIn(page, base, solum.token);
  await page.locator(`tr[data-key="${app}"]`).waitFor();
  await page.locator(`tr[data-key="${pipelineApp}"]`).waitFor();
  await shoot('apps');

  // The app page while a build runs: the live status shows it (and updates when it ends).
  await page.goto(`${base}/#/apps/${app}`);
  await page.locator('#releases li[data-key="v5"]').waitFor();
  await writeAndCommit(repo, { 'build.sh': buildSh(60), 'server.js': server('hello v4') }, 'v4');
  const slow = client.git(['push', client.url(app), 'main'], repo);
  await page.locator('#live li[data-status="running"]').waitFor({ timeout: 60_000 });
  await page.locator('#services tr[data-key="hello-cache"]').waitFor();
  await page.locator('#live-connection', { hasText: 'Live:' }).waitFor();
  await shoot('app');
  const running = ((await solum.api('GET', `/v1/apps/${app}/builds`)).json as { id: number; status: string }[]).find((b) => b.status === 'running');
  if (running) check('cancel', await solum.api('POST', `/v1/builds/${running.id}/cancel`));
  await slow;

  // A canary of v4 taking a fifth of new sessions.
  await writeAndCommit(repo, { 'build.sh': buildSh(2) }, 'v4, quicker');
  await push(app, repo, '-o', 'solum.canary=20');
  await page.reload();
  await page.locator('#canary-share').waitFor();
  await page.locator('#live-summary', { hasText: 'No builds queued or running.' }).waitFor();
  await shoot('app-canary');

  await page.goto(`${base}/#/apps/${pipelineApp}`);
  await page.locator('#pipeline-runs li[data-status="waiting"] li[aria-current="step"]').waitFor();
  await shoot('app-pipeline');

  await page.goto(`${base}/#/services`);
  for (const s of services) await page.locator(`#page tr[data-key="${s.name}"]`).waitFor();
  await waitFor('the services to run', async () => ((await page.locator('#page [data-status="running"]').count()) === services.length ? true : undefined));
  await shoot('services');

  await page.goto(`${base}/#/builds/${latest.id}`);
  await page.locator('#log-state', { hasText: 'Complete' }).waitFor();
  await shoot('build');
  await page.goto(`${base}/#/keys`);
  await page.locator('#keys tr[data-key="laptop"]').waitFor();
  await shoot('keys');
} finally {
  await browser.close();
  const installation = /"installation":"([0-9a-f]+)"/.exec(solum.logs())?.[1];
  await solum.stop();
  await removeAppImages(app);
  await removeAppImages(pipelineApp);
  await removeServices(installation);
}
