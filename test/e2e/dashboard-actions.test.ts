// The dashboard's action buttons in headless Chromium against one real Solum (real git pushes,
// Docker and the router), each checked by its effect through the API and Docker, not only on the
// page: a pipeline gate approved with the mouse and rejected with the keyboard alone; a queued and
// a running build canceled from the live status; a canary promoted and aborted. Before each action
// a read collaborator, in a tab of their own, sees the same state without the buttons; a user
// without access gets the not-found page and none of the app's data; Try again after Solum could
// not be reached. axe-core checks each of these states for serious violations.
import test from 'ava';
import { openBrowser, signIn, type TestBrowser } from '../support/browser.js';
import { attributes, focused, focusOn, openTab, reloadUntil, seriousViolations, tabTo, watchPage, type Tab } from '../support/dashboard.js';
import { removeAppImages } from '../support/docker.js';
import { okWebServer, waitFor } from '../support/fixtures.js';
import { gitClient, makeRepo, writeAndCommit, type GitClient } from '../support/git.js';
import { randomName, run, startSolum, type RunningSolum } from '../support/solum.js';
import { createUser, type TestUser } from '../support/users.js';

interface Shared {
  solum: RunningSolum;
  browser: TestBrowser;
  base: string;
  client: GitClient;
  reader: TestUser;
  /** The read collaborator's tab, signed in as them. */
  readerTab: Tab;
  apps: string[];
}
let shared: Shared | undefined;
const s = (): Shared => {
  if (!shared) throw new Error('the shared Solum did not start');
  return shared;
};
/** A fresh app name, cleaned up after the file's tests. */
const appName = (prefix: string): string => {
  const name = randomName(prefix);
  s().apps.push(name);
  return name;
};

interface StageJson {
  name: string;
  status: string;
  decidedBy: string | null;
}
interface RunJson {
  id: number;
  status: string;
  duId: string | null;
  stages: StageJson[];
}
interface BuildJson {
  id: number;
  number: number;
  status: string;
}
interface AppJson {
  release: string | null;
  canary: { version: number; percent: number } | null;
}

test.before(async () => {
  // Canaries are not probed during these tests (every 10 min): on a loaded machine slow probes could
  // abort one before its buttons are pressed; canary.test.ts covers the probes.
  const solum = await startSolum({ env: { SOLUM_CANARY_CHECK_MS: '600000' } });
  const browser = await openBrowser();
  const base = `http://127.0.0.1:${solum.httpPort}`;
  const res = await fetch(`${base}/dashboard/app.js`);
  if (res.status !== 200) throw new Error('the dashboard is not compiled: run `npm run build`');
  watched.set(browser.page, watchPage(browser.page));
  await signIn(browser.page, base, solum.token);
  const reader = await createUser(solum, 'rita');
  const readerTab = await openTab(browser);
  watched.set(readerTab.page, watchPage(readerTab.page));
  await signIn(readerTab.page, base, reader.token);
  shared = { solum, browser, base, client: await gitClient(solum, 'http'), reader, readerTab, apps: [] };
});

test.after.always(async () => {
  if (!shared) return;
  await shared.browser.close();
  await shared.solum.stop();
  for (const app of shared.apps) await removeAppImages(app);
});

const watched = new Map<Tab['page'], ReturnType<typeof watchPage>>();
/** Waits for `locator`; if it never comes, fails saying what the page showed and still loaded. */
async function appears(page: Tab['page'], locator: ReturnType<Tab['page']['locator']>, timeout?: number): Promise<void> {
  try {
    await locator.waitFor(timeout === undefined ? {} : { timeout });
  } catch (err) {
    throw new Error(`${String(err)}\n${(await watched.get(page)?.describe()) ?? ''}`);
  }
}

/** The app page in `page`, loaded, its tab in front (a background tab's timers are throttled). */
async function openApp(page: Tab['page'], app: string): Promise<void> {
  await page.bringToFront();
  await page.goto(`${s().base}/#/apps/${app}`);
  await appears(page, page.getByRole('heading', { level: 1, name: `App ${app}` }));
}

/**
 * The app page loaded anew by navigating within the dashboard (to the apps and back), for state no
 * event announces (a run reaching its gate). Not a document reload: that loads the dashboard's
 * modules again, and on this loaded machine a reload now and then never ran them.
 */
async function reopenApp(page: Tab['page'], app: string): Promise<void> {
  await page.goto(`${s().base}/#/apps`);
  await appears(page, page.getByRole('heading', { level: 1, name: 'Apps' }));
  await openApp(page, app);
}

const runOf = async (id: number): Promise<RunJson> => (await s().solum.api('GET', `/v1/pipeline-runs/${id}`)).json as RunJson;
const stageStatuses = (r: RunJson): Record<string, string> => Object.fromEntries(r.stages.map((x) => [x.name, x.status]));
const buildsOf = async (app: string): Promise<BuildJson[]> => (await s().solum.api('GET', `/v1/apps/${app}/builds`)).json as BuildJson[];
const appOf = async (app: string): Promise<AppJson> => (await s().solum.api('GET', `/v1/apps/${app}`)).json as AppJson;
/** The running process containers of an app's release (in an environment, if given), as Docker lists them. */
const processes = (app: string, release: number, environment?: string): Promise<string[]> =>
  run('docker', ['ps', '-q', '--filter', `label=io.solum.app=${app}`, '--filter', 'label=io.solum.role=process', '--filter', `label=io.solum.release=${release}`, ...(environment ? ['--filter', `label=io.solum.environment=${environment}`] : [])]).then((r) =>
    r.stdout.split('\n').filter((l) => l.trim() !== ''),
  );

test.serial('pipeline gate: a read collaborator sees it without buttons; Approve (mouse) deploys production; Reject (keyboard alone, its dialog canceled first) stops the run', async (t) => {
  const { solum, client, reader, readerTab } = s();
  const { page } = s().browser;
  const app = appName('dpipe');
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/${reader.name}`, { role: 'read' })).status, 204);
  const created = await solum.api('POST', '/v1/pipelines', { app, stages: ['build', { gate: 'approval', role: 'write' }, { deploy: 'production' }] });
  t.is(created.status, 201, created.text);
  const repo = await makeRepo({ Procfile: 'web: sh ./serve.sh\n', 'serve.sh': okWebServer, 'build.sh': 'echo built one\n' });
  const pushToGate = async (): Promise<number> => {
    const push = await client.git(['push', client.url(app), 'main'], repo);
    t.is(push.code, 0, push.stderr);
    const gate = /Pipeline run #(\d+) waits at gate approval/.exec(push.stderr);
    if (!gate) throw new Error(`the run did not wait at the gate: ${push.stderr}`);
    return Number(gate[1]);
  };
  const first = await pushToGate();
  const runItem = (tab: Tab['page'], id: number) => tab.locator(`#pipeline-runs li[data-key="run ${id}"]`);

  // The run drawn as its stages in order, the gate current and saying who decides.
  await openApp(page, app);
  const item = runItem(page, first);
  await item.locator('li[data-stage="approval"][aria-current="step"]').waitFor();
  t.deepEqual(await item.locator('.stage-name').allTextContents(), ['build', 'approval', 'deploy-production']);
  t.deepEqual(await attributes(item.locator('li.stage'), 'data-status'), ['succeeded', 'waiting', 'pending']);
  t.regex((await item.textContent()) ?? '', /Waits for approval by an app write\./);

  // The reader sees the same run, and no way to decide it.
  await openApp(readerTab.page, app);
  const readerItem = runItem(readerTab.page, first);
  await readerItem.locator('li[data-stage="approval"][aria-current="step"]').waitFor();
  t.is(await readerItem.getByRole('button').count(), 0, 'no Approve or Reject for a reader');
  t.regex((await readerItem.textContent()) ?? '', /You cannot decide this gate: it needs approval by an app write\./);
  t.is(await readerTab.page.locator('#page button').count(), 0, 'no action button anywhere on the reader\'s page');
  t.deepEqual(await seriousViolations(page), [], 'axe: a run waiting at its gate, with Approve and Reject');
  t.deepEqual(await seriousViolations(readerTab.page), [], 'axe: the reader\'s view of it');

  // Approve with the mouse: the run goes on and production runs the build's DU.
  await page.bringToFront();
  await page.getByRole('button', { name: `Approve run #${first}` }).click();
  await page.getByRole('status').filter({ hasText: `Run #${first} approved: now succeeded.` }).waitFor({ timeout: 60_000 });
  await runItem(page, first).and(page.locator('[data-status="succeeded"]')).waitFor();
  t.is(await runItem(page, first).getByRole('button').count(), 0, 'a decided gate has no buttons');
  const approved = await runOf(first);
  t.is(approved.status, 'succeeded');
  t.like(approved.stages.find((x) => x.name === 'approval'), { status: 'succeeded', decidedBy: 'admin' });
  const production = (await solum.api('GET', `/v1/apps/${app}/environments/production/releases`)).json as Array<{ version: number; status: string; duId: string }>;
  t.like(production, [{ version: 1, status: 'active', duId: approved.duId ?? '' }]);
  t.is((await processes(app, 1, 'production')).length, 1, 'Docker runs production\'s web process');
  t.is((await solum.viaRouter(`${app}-production`)).text, 'ok');

  // The next commit waits at the gate; the page loaded anew, the keyboard alone rejects it.
  await writeAndCommit(repo, { 'build.sh': 'echo built two\n' }, 'two');
  const second = await pushToGate();
  await reopenApp(page, app);
  await appears(page, page.locator(`#reject-run-${second}`));
  t.is((await focused(page)).tag, 'H1', 'after navigation focus is on the page heading');
  const path = await tabTo(page, (el) => el.id === `reject-run-${second}`, { max: 120 });
  if (!path) throw new Error('Tab never reached the Reject button');
  t.is(path[path.length - 2]?.id, `approve-run-${second}`, 'Approve comes just before Reject');
  // Enter opens the confirmation with Cancel focused; Space on Cancel closes it and changes nothing.
  // (Enter acts on key down: a redraw between a Space's down and up on the page's own buttons would
  // swallow the press, as it would a person's.)
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: `Reject run #${second}?` });
  await appears(page, dialog);
  t.is((await focused(page)).text, 'Cancel', 'the safe choice has focus first');
  t.deepEqual(await seriousViolations(page), [], 'axe: the confirmation open');
  await page.keyboard.press('Space');
  await dialog.waitFor({ state: 'detached' });
  t.is((await focusOn(page, `reject-run-${second}`)).id, `reject-run-${second}`, 'focus goes back to Reject');
  t.is((await runOf(second)).status, 'waiting', 'canceling the dialog rejects nothing');
  // Enter opens it again; Tab goes round its two buttons only; Space on the confirm button rejects.
  await page.keyboard.press('Enter');
  await appears(page, dialog);
  await page.keyboard.press('Tab');
  t.is((await focused(page)).text, `Reject run #${second}`);
  await page.keyboard.press('Tab');
  t.is((await focused(page)).text, 'Cancel', 'Tab stays in the dialog');
  await page.keyboard.press('Shift+Tab');
  t.is((await focused(page)).text, `Reject run #${second}`);
  await page.keyboard.press('Space');
  await page.getByRole('status').filter({ hasText: `Run #${second} rejected: now rejected.` }).waitFor({ timeout: 60_000 });
  await runItem(page, second).and(page.locator('[data-status="rejected"]')).waitFor();
  t.is((await focusOn(page, 'pipeline-runs-title')).id, 'pipeline-runs-title', 'focus moves to the refreshed runs');
  const rejected = await runOf(second);
  t.is(rejected.status, 'rejected');
  t.deepEqual(stageStatuses(rejected), { build: 'succeeded', approval: 'rejected', 'deploy-production': 'skipped' });
  t.is(rejected.stages.find((x) => x.name === 'approval')?.decidedBy, 'admin');
  // Production keeps the first run's DU and its process.
  const after = (await solum.api('GET', `/v1/apps/${app}/environments/production/releases`)).json as Array<{ version: number; duId: string }>;
  t.deepEqual(after.map((r) => [r.version, r.duId]), [[1, approved.duId]]);
  t.is((await processes(app, 1, 'production')).length, 1);
  t.deepEqual(s().browser.errors(), []);
  t.deepEqual(readerTab.errors(), []);
});

test.serial('live status: builds appear without a reload; a read collaborator sees them without Cancel; Cancel of a queued and of a running build (a canceled dialog first) stops them in Docker; the duration chart draws each kind of build as it ends', async (t) => {
  const { solum, client, reader, readerTab } = s();
  const { page } = s().browser;
  const app = appName('dslow');
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/${reader.name}`, { role: 'read' })).status, 204);
  await openApp(page, app);
  const summary = page.locator('#live-summary');
  await summary.filter({ hasText: 'No builds queued or running.' }).waitFor();
  await page.locator('#live-connection').filter({ hasText: 'Live: updates as builds start and finish.' }).waitFor();
  await page.evaluate('window.solumTestMarker = 1');

  // Build #1 sleeps; build #2 (another clone's commit, forced) waits behind it.
  const push1 = client.git(['push', client.url(app), 'main'], await makeRepo({ 'build.sh': 'echo started\nsleep 120\necho done\n' }));
  const live = (p: Tab['page'], n: number, state: string) => p.locator(`#live li[data-key="#${n}"][data-status="${state}"]`);
  await live(page, 1, 'running').waitFor({ timeout: 60_000 });
  const push2 = client.git(['push', '--force', client.url(app), 'main'], await makeRepo({ 'build.sh': 'echo second\n' }));
  await live(page, 2, 'queued').waitFor({ timeout: 60_000 });
  await summary.filter({ hasText: '1 build running, 1 queued.' }).waitFor();
  t.is(await page.evaluate('window.solumTestMarker'), 1, 'the page was not reloaded');
  const builds = await buildsOf(app);
  t.deepEqual(builds.map((b) => [b.number, b.status]), [[2, 'queued'], [1, 'running']]);
  const builder = () => run('docker', ['ps', '-q', '--filter', `label=io.solum.app=${app}`, '--filter', 'label=io.solum.role=builder']).then((r) => r.stdout.trim());
  t.not(await builder(), '', 'build #1 runs in a builder container');
  t.deepEqual(await seriousViolations(page), [], 'axe: the live status with a running and a queued build');

  // The reader sees both, with no Cancel.
  await openApp(readerTab.page, app);
  await live(readerTab.page, 1, 'running').waitFor();
  await live(readerTab.page, 2, 'queued').waitFor();
  t.is(await readerTab.page.locator('#live').getByRole('button').count(), 0, 'no Cancel for a reader');
  t.regex((await readerTab.page.locator('#live-summary').textContent()) ?? '', /1 build running, 1 queued\./);

  // Cancel #2 (queued): the dialog's Cancel changes nothing; its confirm button cancels.
  await page.bringToFront();
  const cancel2 = page.getByRole('button', { name: 'Cancel build #2' });
  await cancel2.click();
  const dialog2 = page.getByRole('dialog', { name: 'Cancel build #2?' });
  await dialog2.getByRole('button', { name: 'Cancel', exact: true }).click();
  await dialog2.waitFor({ state: 'detached' });
  t.is((await focusOn(page, 'cancel-build-2')).id, 'cancel-build-2', 'focus goes back to the button');
  t.is((await buildsOf(app)).find((b) => b.number === 2)?.status, 'queued', 'a canceled dialog cancels nothing');
  await cancel2.click();
  await dialog2.getByRole('button', { name: 'Cancel build #2' }).click();
  await page.getByRole('status').filter({ hasText: 'Canceled build #2.' }).waitFor({ timeout: 60_000 });
  await page.locator('#live li[data-key="#2"]').waitFor({ state: 'detached' });
  t.is((await buildsOf(app)).find((b) => b.number === 2)?.status, 'canceled');
  t.not((await push2).code, 0, 'the push of a canceled build fails');
  t.is((await buildsOf(app)).find((b) => b.number === 1)?.status, 'running', 'build #1 still runs');

  // Cancel #1 (running): its builder container stops, and the live status empties without a reload.
  await page.getByRole('button', { name: 'Cancel build #1' }).click();
  await page.getByRole('dialog', { name: 'Cancel build #1?' }).getByRole('button', { name: 'Cancel build #1' }).click();
  await summary.filter({ hasText: 'No builds queued or running.' }).waitFor({ timeout: 60_000 });
  t.is(await page.locator('#live li').count(), 0);
  const p1 = await push1;
  t.not(p1.code, 0, 'the push of a canceled build fails');
  t.is((await buildsOf(app)).find((b) => b.number === 1)?.status, 'canceled');
  await waitFor('the builder container to go', async () => ((await builder()) === '' ? true : undefined));
  t.deepEqual((await solum.api('GET', `/v1/apps/${app}/releases`)).json, [], 'nothing was released');
  t.is(await page.evaluate('window.solumTestMarker'), 1, 'the page was not reloaded');
  // The chart counts the canceled build that ran (the queued one never started).
  await page.locator('#chart-summary').filter({ hasText: /^1 build: 0 succeeded, 0 failed, 1 canceled or abandoned;/ }).waitFor();
  t.is(await page.locator('#build-chart rect[data-kind="other"]').count(), 1);

  // A failing build and a passing one: the chart draws all three in order, each kind in its own
  // fill, the failure marked ✗, as they end (still no reload); its table opens from its summary.
  const failing = await client.git(['push', '--force', client.url(app), 'main'], await makeRepo({ 'build.sh': 'echo broken >&2\nexit 1\n' }));
  t.not(failing.code, 0);
  const passing = await client.git(['push', '--force', client.url(app), 'main'], await makeRepo({ 'build.sh': 'echo fine\n' }));
  t.is(passing.code, 0, passing.stderr);
  await page.locator('#chart-summary').filter({ hasText: /^3 builds: 1 succeeded, 1 failed, 1 canceled or abandoned;.*latest #4 succeeded/ }).waitFor({ timeout: 60_000 });
  t.deepEqual(await attributes(page.locator('#build-chart rect.bar'), 'data-build'), ['1', '3', '4'], 'oldest first; the build canceled while queued never ran');
  t.deepEqual(await attributes(page.locator('#build-chart rect.bar'), 'data-kind'), ['other', 'failed', 'succeeded']);
  const fills = await Promise.all(['other', 'failed', 'succeeded'].map((k) => page.evaluate<string>(`getComputedStyle(document.querySelector('#build-chart rect[data-kind="${k}"]')).fill`)));
  t.is(new Set(fills).size, 3, `three different fills: ${fills.join(', ')}`);
  t.is(await page.locator('#build-chart text.mark').textContent(), '✗');
  const table = page.locator('#chart details table');
  t.false(await table.isVisible());
  await page.getByText('The durations as a table').click();
  await table.waitFor();
  t.deepEqual(await attributes(table.locator('tbody tr'), 'data-key'), ['#4', '#3', '#1']);
  t.regex((await table.locator('tr[data-key="#3"]').textContent()) ?? '', /failed/);
  t.is(await page.evaluate('window.solumTestMarker'), 1, 'the page was not reloaded');
  t.deepEqual(s().browser.errors(), []);
  t.deepEqual(readerTab.errors(), []);
});

const greeter = (greeting: string): string =>
  `require('http').createServer((req, res) => res.end(${JSON.stringify(greeting)} + ' of ' + process.env.SOLUM_RELEASE)).listen(Number(process.env.PORT), '0.0.0.0');\n`;

test.serial('canary: a read collaborator sees the share and releases without Promote, Abort or Rollback; Promote makes it live; Abort (a canceled dialog first) sends everyone back', async (t) => {
  const { solum, client, reader, readerTab } = s();
  const { page } = s().browser;
  const app = appName('dcan');
  const repo = await makeRepo({ 'package.json': JSON.stringify({ name: 'web', version: '1.0.0', scripts: { start: 'node server.js' } }), 'server.js': greeter('hello'), 'solum.yaml': 'healthcheck:\n  path: /health\n  timeout: 10\n' });
  const push = async (...options: string[]): Promise<void> => {
    const r = await client.git(['push', ...options, client.url(app), 'main'], repo);
    t.is(r.code, 0, r.stderr);
  };
  await push();
  t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/${reader.name}`, { role: 'read' })).status, 204);
  await writeAndCommit(repo, { 'server.js': greeter('hello again') }, 'v2');
  await push();
  await writeAndCommit(repo, { 'server.js': greeter('hello canary') }, 'v3');
  await push('-o', 'solum.canary=30');
  t.like(await appOf(app), { release: 'v2', canary: { version: 3, percent: 30 } });

  // What the admin sees: the share, Promote and Abort, Rollback to v1.
  await openApp(page, app);
  const share = page.locator('#canary-share');
  await share.filter({ hasText: /^v3 gets 30% of new sessions since .+\.$/ }).waitFor();
  t.is(await page.locator('#canary .share').getAttribute('aria-label'), 'v3: 30% of new sessions');
  await page.locator('#rollback-v1').waitFor();

  // The reader: the same share and releases, no buttons, and why.
  await openApp(readerTab.page, app);
  await readerTab.page.locator('#canary-share').filter({ hasText: /^v3 gets 30% of new sessions/ }).waitFor();
  await readerTab.page.locator('#releases li[data-key="v1"]').waitFor();
  const releaseKeys = (p: Tab['page']) => attributes(p.locator('#releases li[data-key]'), 'data-key');
  t.deepEqual(await releaseKeys(readerTab.page), ['v3', 'v2', 'v1']);
  t.deepEqual(await releaseKeys(page), ['v3', 'v2', 'v1']);
  t.is(await readerTab.page.locator('#releases li[data-key="v2"]').getAttribute('data-status'), 'active');
  t.is(await readerTab.page.locator('#releases li[data-key="v1"]').getAttribute('data-status'), 'superseded');
  t.is(await readerTab.page.locator('#page button').count(), 0, 'no Promote, Abort or Rollback for a reader');
  t.regex((await readerTab.page.locator('#canary').textContent()) ?? '', /Promoting or aborting a canary needs write access to .+; your role is read\./);
  t.regex((await readerTab.page.locator('#rollback-note').textContent()) ?? '', /Rolling back needs write access to .+; your role is read\./);
  t.deepEqual(await seriousViolations(page), [], 'axe: a canary with Promote and Abort');
  t.deepEqual(await seriousViolations(readerTab.page), [], 'axe: the reader\'s view of it');

  // Promote (no confirmation: nothing is lost): v3 is live, v2's processes stop.
  await page.bringToFront();
  await page.getByRole('button', { name: 'Promote v3' }).click();
  await page.getByRole('status').filter({ hasText: 'Promoted v3.' }).waitFor({ timeout: 60_000 });
  await page.locator('#canary').waitFor({ state: 'hidden' });
  t.like(await appOf(app), { release: 'v3', canary: null });
  for (let i = 0; i < 10; i++) t.is((await solum.viaRouter(app)).text, 'hello canary of v3');
  await waitFor('v2 to stop', async () => ((await processes(app, 2)).length === 0 ? true : undefined));
  t.is((await processes(app, 3)).length, 1);
  await page.locator('#releases li[data-key="v3"][data-status="active"]').waitFor();

  // v4 as a canary; Abort asks first: Cancel keeps it, the confirm button aborts it.
  await writeAndCommit(repo, { 'server.js': greeter('hello v4') }, 'v4');
  await push('-o', 'solum.canary=25');
  t.like(await appOf(app), { release: 'v3', canary: { version: 4, percent: 25 } });
  await reopenApp(page, app);
  const abort = page.getByRole('button', { name: 'Abort v4' });
  await appears(page, abort);
  t.regex((await share.textContent()) ?? '', /^v4 gets 25% of new sessions/);
  await abort.click();
  const dialog = page.getByRole('dialog', { name: 'Abort canary v4?' });
  t.regex((await dialog.textContent()) ?? '', /All new sessions go back to v3\./);
  await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  t.is((await focusOn(page, 'canary-abort')).id, 'canary-abort', 'focus goes back to the button');
  t.like(await appOf(app), { canary: { version: 4 } }, 'a canceled dialog aborts nothing');
  t.is((await processes(app, 4)).length, 1);
  await abort.click();
  await dialog.getByRole('button', { name: 'Abort v4' }).click();
  await page.getByRole('status').filter({ hasText: 'Aborted canary v4.' }).waitFor({ timeout: 60_000 });
  await page.locator('#canary').waitFor({ state: 'hidden' });
  t.like(await appOf(app), { release: 'v3', canary: null });
  t.like((await solum.api('GET', `/v1/apps/${app}/releases/4`)).json, { status: 'failed' });
  await waitFor('v4 to stop', async () => ((await processes(app, 4)).length === 0 ? true : undefined));
  for (let i = 0; i < 10; i++) t.is((await solum.viaRouter(app)).text, 'hello canary of v3');
  await page.locator('#releases li[data-key="v4"][data-status="failed"]').waitFor();
  t.deepEqual(s().browser.errors(), []);
  t.deepEqual(readerTab.errors(), []);
});

test.serial('a user without access to an app gets a not-found page for it and for its builds, with none of its data; Try again after Solum could not be reached', async (t) => {
  const { solum, client, browser, base } = s();
  const app = appName('dpriv');
  const push = await client.git(['push', client.url(app), 'main'], await makeRepo({ 'build.sh': 'echo private build\n' }));
  t.is(push.code, 0, push.stderr);
  const [build] = await buildsOf(app);
  if (!build) throw new Error('no build');
  const commit = ((await solum.api('GET', `/v1/builds/${build.id}`)).json as { commit: string }).commit;
  const stranger = await createUser(solum, 'sam');
  const tab = await openTab(browser);
  watched.set(tab.page, watchPage(tab.page));
  const { page } = tab;
  await signIn(page, base, stranger.token);
  // Their apps list has none of the other tenants' apps.
  await page.getByText('No apps yet').waitFor();
  t.is(await page.getByRole('link', { name: app }).count(), 0);

  // The app's page: not found, in words, and nothing of the app.
  await page.goto(`${base}/#/apps/${app}`);
  await page.getByRole('heading', { level: 1, name: 'This page could not be loaded' }).waitFor();
  t.deepEqual(await seriousViolations(page), [], 'axe: the not-found page');
  t.is(await page.locator('#page .inline-error').textContent(), `app '${app}' does not exist or you have no access to it`);
  t.is(await page.title(), 'Error · Solum');
  t.is(await page.locator('#page section').count(), 0, 'no section of the app is drawn');
  t.is(await page.locator('#page button').count(), 0);
  await page.getByRole('link', { name: 'Back to the apps' }).waitFor();
  // Its build's page: the same.
  await page.goto(`${base}/#/builds/${build.id}`);
  await page.locator('#page .inline-error').filter({ hasText: /does not exist or you have no access to it/ }).waitFor();
  t.is(await page.getByRole('heading', { level: 1 }).textContent(), 'This page could not be loaded');
  t.is(await page.locator('#build-log').count(), 0);
  const text = (await page.locator('body').textContent()) ?? '';
  t.false(text.includes(commit.slice(0, 12)), 'the commit is not shown');
  t.false(text.includes('private build'), 'the log is not shown');
  // The API agrees: not found, not forbidden (nothing says the app exists).
  t.is((await solum.api('GET', `/v1/apps/${app}`, undefined, stranger.token)).status, 404);
  t.is((await solum.api('GET', `/v1/builds/${build.id}`, undefined, stranger.token)).status, 404);

  // Solum unreachable (the browser refuses the connection): the frame says so; Try again recovers.
  await page.goto(`${base}/#/apps`);
  await page.route('**/v1/user', (route) => route.abort('connectionrefused'));
  await reloadUntil(page, page.getByRole('heading', { level: 1, name: 'Solum cannot be reached' }));
  t.is(await page.locator('#page .inline-error').textContent(), 'Solum cannot be reached. Check your connection and try again.');
  await page.unroute('**/v1/user');
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.getByRole('heading', { level: 1, name: 'Apps' }).waitFor();
  await page.getByText('No apps yet').waitFor();
  t.is(await page.locator('#whoami').textContent(), 'sam');
  t.deepEqual(tab.errors(), []);
});
