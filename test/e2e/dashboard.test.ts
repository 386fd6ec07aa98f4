// The web dashboard in headless Chromium against a real Solum: sign in, apps, a build's log
// followed live, rollback from the app page, SSH keys added and removed through the form.
import fs from 'node:fs/promises';
import test from 'ava';
import { openBrowser, signIn } from '../support/browser.js';
import { focusOn, reloadUntil } from '../support/dashboard.js';
import { removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { makeSshIdentity, randomName, run, startSolum, type RunningSolum } from '../support/solum.js';

const server = (greeting: string): string => `
const http = require('http');
http.createServer((req, res) => res.end(${JSON.stringify(greeting)} + ' of ' + process.env.SOLUM_RELEASE))
  .listen(Number(process.env.PORT), '0.0.0.0');
`;
// The build prints a line, waits, prints another: long enough to watch it arrive. (A script file,
// because npm echoes an inline command, words and all, before running it.)
const pkg = JSON.stringify({ name: 'web', version: '1.0.0', scripts: { build: 'sh build.sh', start: 'node server.js' } });
const buildSh = 'echo first line\nsleep 3\necho second line\n';

/** The dashboard's compiled scripts are served (they come from `npm run build`). */
async function assertDashboardBuilt(solum: RunningSolum): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${solum.httpPort}/dashboard/app.js`);
  if (res.status !== 200) throw new Error('the dashboard is not compiled: run `npm run build` (tsc -p tsconfig.dashboard.json)');
}

test('sign in; a build followed live; rollback from the app page', async (t) => {
  const solum = await startSolum();
  const browser = await openBrowser();
  const app = randomName('dash');
  t.teardown(async () => {
    await browser.close();
    await solum.stop();
    await removeAppImages(app);
  });
  await assertDashboardBuilt(solum);
  const base = `http://127.0.0.1:${solum.httpPort}`;
  const { page } = browser;

  // A wrong token is refused with the API's message and not kept; the right one signs in.
  await page.goto(`${base}/`);
  t.is(await page.evaluate('document.compatMode'), 'CSS1Compat', 'standards mode');
  // The first page of a fresh browser on a loaded machine: as signIn does, once more if its
  // modules never ran.
  const tokenField = page.getByLabel('API token');
  await tokenField.waitFor({ timeout: 45_000 }).catch(() => reloadUntil(page, tokenField));
  await tokenField.fill('solum_not-a-real-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That token was not accepted: invalid, revoked or expired token.').waitFor();
  t.is(await page.evaluate("sessionStorage.getItem('solum.token')"), null);
  await signIn(page, base, solum.token);
  t.is(await page.evaluate("sessionStorage.getItem('solum.token')"), solum.token);
  await page.getByText('No apps yet').waitFor();
  t.is(await page.locator('#whoami').textContent(), 'admin');

  // Push without waiting; open the build's page while it runs.
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'package.json': pkg, 'build.sh': buildSh, 'server.js': server('hello v1') });
  const push1 = client.git(['push', client.url(app), 'main'], repo);
  let buildId: number | undefined;
  for (let i = 0; i < 300 && buildId === undefined; i++) {
    const list = await solum.api('GET', `/v1/apps/${app}/builds`);
    if (list.status === 200) buildId = (list.json as { id: number; status: string }[]).find((b) => b.status === 'running')?.id;
    if (buildId === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  if (buildId === undefined) throw new Error('the build did not start');
  await page.evaluate('window.solumTestMarker = 1');
  await page.goto(`${base}/#/builds/${buildId}`);
  await page.getByRole('heading', { level: 1, name: `Build #1 of ${app}` }).waitFor();
  const log = page.locator('#build-log');
  const status = page.locator('#build-status');

  // The first line arrives while the build still runs and before the second exists.
  await page.locator('#build-log', { hasText: 'first line' }).waitFor();
  t.false((await log.textContent())?.includes('second line'), 'the log is shown as it arrives, not at the end');
  t.is(await status.getAttribute('data-status'), 'running');
  t.regex((await status.textContent()) ?? '', /running/);
  t.regex((await page.locator('#log-state').textContent()) ?? '', /live/);

  // Then the second line and the end: the status turns without a reload.
  await page.locator('#build-status[data-status="succeeded"]').waitFor({ timeout: 60_000 });
  t.regex((await status.textContent()) ?? '', /succeeded/);
  t.regex((await log.textContent()) ?? '', /first line\n(.*\n)*second line\n/);
  t.is(await page.evaluate('window.solumTestMarker'), 1, 'the page was not reloaded');
  t.regex((await page.getByRole('status').textContent()) ?? '', /Build #1 succeeded\./);
  t.regex((await page.locator('#log-state').textContent()) ?? '', /^Complete: \d+ lines\.$/);
  // The log matches the stored one, line for line.
  const stored = await solum.api('GET', `/v1/builds/${buildId}/log`);
  t.is(await log.textContent(), stored.text);

  // The DU ID, and its copy button.
  const build = (await solum.api('GET', `/v1/builds/${buildId}`)).json as { duId: string };
  t.regex(build.duId, /^sha256:/);
  t.is(await page.locator('#du-id').textContent(), build.duId);
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  await page.getByRole('button', { name: 'Copy DU ID' }).click();
  await page.getByText('DU ID copied to the clipboard.').waitFor();
  t.is(await page.evaluate('navigator.clipboard.readText()'), build.duId);

  const p1 = await push1;
  t.is(p1.code, 0, p1.stderr);
  t.regex(p1.stderr, /Released v1/);

  // v2, then the app page (through the link in the build's heading): roll back to v1.
  await writeAndCommit(repo, { 'server.js': server('hello v2') }, 'v2');
  const p2 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p2.code, 0, p2.stderr);
  await page.getByRole('heading', { level: 1 }).getByRole('link', { name: app }).click();
  await page.getByRole('heading', { level: 1, name: `App ${app}` }).waitFor();
  const row = (v: string) => page.locator(`#releases li[data-key="${v}"]`);
  t.regex((await row('v2').textContent()) ?? '', /active/);
  t.regex((await row('v1').textContent()) ?? '', /superseded/);
  t.is(await row('v2').getByRole('button').count(), 0, 'the live release has no Rollback button');
  t.regex((await page.locator('#builds').textContent()) ?? '', /#2.*succeeded/s);
  // Rolling back asks first: Cancel changes nothing, the dialog's confirm button rolls back.
  await page.getByRole('button', { name: 'Rollback to v1' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  t.is(((await solum.api('GET', `/v1/apps/${app}/releases`)).json as unknown[]).length, 2, 'a canceled confirm releases nothing');
  t.is((await focusOn(page, 'rollback-v1')).id, 'rollback-v1', 'focus goes back to the button');
  await page.getByRole('button', { name: 'Rollback to v1' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Roll back to v1' }).click();
  await row('v3').waitFor({ timeout: 60_000 });
  t.regex((await row('v3').textContent()) ?? '', /active/);
  t.regex((await row('v3').textContent()) ?? '', /Rollback to v1/);
  t.regex((await row('v2').textContent()) ?? '', /superseded/);
  t.regex((await page.getByRole('status').textContent()) ?? '', /Released v3 \(Rollback to v1\)\./);
  t.regex((await solum.viaRouter(app)).text, /^hello v1 of v3$/);
  t.is((await focusOn(page, 'releases-title')).id, 'releases-title', 'focus moves to the refreshed releases');

  // The apps page: last build, live release and URL.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Apps' }).click();
  const appRow = page.locator(`tr[data-key="${app}"]`);
  await appRow.waitFor();
  const cells = await appRow.locator('td').allTextContents();
  t.is(cells[0], app);
  t.regex(cells[1] ?? '', /succeeded #2/);
  t.is(cells[2], 'v3');
  t.is(cells[3], `http://${app}.localhost:${solum.routerPort}/`);

  // Signing out forgets the token.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API token').waitFor();
  t.is(await page.evaluate("sessionStorage.getItem('solum.token')"), null);
  t.deepEqual(browser.errors(), []);
});

test('SSH keys: add one through the form, see its fingerprint, remove it', async (t) => {
  const solum = await startSolum();
  const browser = await openBrowser();
  t.teardown(async () => {
    await browser.close();
    await solum.stop();
  });
  await assertDashboardBuilt(solum);
  const { page } = browser;
  await signIn(page, `http://127.0.0.1:${solum.httpPort}`, solum.token);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'SSH keys' }).click();
  await page.getByRole('heading', { level: 1, name: 'SSH keys' }).waitFor();
  await page.getByText('No keys yet').waitFor();

  // OpenSSH's own fingerprint of the key is what the page shows.
  const identity = await makeSshIdentity();
  const fingerprint = (await run('ssh-keygen', ['-lf', `${identity.privateKeyPath}.pub`])).stdout.split(' ')[1] ?? '';
  t.regex(fingerprint, /^SHA256:/);

  // The API's error is shown for a key that is not one.
  await page.getByLabel('Name').fill('laptop');
  await page.getByLabel('Public key').fill('ssh-ed25519 not-base64!');
  await page.getByRole('button', { name: 'Add key' }).click();
  const formError = page.locator('#key-error');
  await formError.filter({ hasText: /\S/ }).waitFor();
  t.truthy((await formError.textContent())?.trim());
  t.deepEqual((await solum.api('GET', '/v1/users/admin/keys')).json, []);

  await page.getByLabel('Public key').fill(await fs.readFile(`${identity.privateKeyPath}.pub`, 'utf8'));
  await page.getByRole('button', { name: 'Add key' }).click();
  const row = page.locator('#keys tr[data-key="laptop"]');
  await row.waitFor();
  t.is(await row.locator('.fingerprint').textContent(), fingerprint);
  t.regex((await row.textContent()) ?? '', /ssh-ed25519|ed25519/);
  t.regex((await page.getByRole('status').textContent()) ?? '', new RegExp(`Added key laptop \\(${fingerprint.replace(/[+/]/g, '\\$&')}\\)`));
  t.is(await page.getByLabel('Name').inputValue(), '', 'the form is emptied');
  t.like((await solum.api('GET', '/v1/users/admin/keys')).json, [{ name: 'laptop', fingerprint }]);

  // The same name again: the API's conflict message.
  await page.getByLabel('Name').fill('laptop');
  await page.getByLabel('Public key').fill(identity.publicKey);
  await page.getByRole('button', { name: 'Add key' }).click();
  await formError.filter({ hasText: /\S/ }).waitFor();

  await page.getByRole('button', { name: 'Remove key laptop' }).click();
  await page.getByText('No keys yet').waitFor();
  t.regex((await page.getByRole('status').textContent()) ?? '', /Removed key laptop\./);
  t.deepEqual((await solum.api('GET', '/v1/users/admin/keys')).json, []);

  // A token that stops working signs the tab out, saying why.
  await page.evaluate("sessionStorage.setItem('solum.token', 'solum_revoked')");
  await page.reload();
  await page.getByRole('alert').filter({ hasText: 'You were signed out: invalid, revoked or expired token.' }).waitFor();
  await page.getByLabel('API token').waitFor();
  t.is(await page.evaluate("sessionStorage.getItem('solum.token')"), null);
  t.deepEqual(browser.errors(), []);
});

test('the event-stream reader: line ends split across chunks, comments, multi-line data, IDs that carry over', async (t) => {
  const browser = await openBrowser();
  t.teardown(() => browser.close());
  const { page } = browser;
  // The compiled module, served without a Solum.
  await page.route('http://dashboard.test/**', async (route) => {
    const file = new URL(route.request().url()).pathname.replace(/^\/dashboard\//, '');
    if (!/^[a-z-]+\.js$/.test(file)) return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>t</title>' });
    return route.fulfill({ status: 200, contentType: 'text/javascript', body: await fs.readFile(`dist/dashboard/${file}`, 'utf8') });
  });
  await page.goto('http://dashboard.test/');
  const events = await page.evaluate(`(async () => {
    const { EventStreamParser } = await import('/dashboard/sse.js');
    const parser = new EventStreamParser();
    const out = [];
    for (const chunk of ['\\uFEFFid: 1\\r', '\\nevent: line\\r\\ndata: a\\r', '\\r\\n: keep-alive\\n', 'data: x\\ndata:  y\\n\\n', 'id: 2\\nevent: line\\ndata:\\n\\nevent: end\\nretry: 5\\ndata: {}\\r\\r'])
      out.push(...parser.push(chunk));
    out.push(...parser.end());
    // The stream reader, with a character split between two chunks.
    const { readEventStream } = await import('/dashboard/sse.js');
    const bytes = new TextEncoder().encode('event: line\\ndata: café ✓\\n\\n');
    const cut = bytes.indexOf(0xc3) + 1;
    const body = new ReadableStream({ start(c) { c.enqueue(bytes.slice(0, cut)); c.enqueue(bytes.slice(cut)); c.close(); } });
    for await (const ev of readEventStream(body)) out.push(ev);
    return out;
  })()`);
  t.deepEqual(events, [
    { event: 'line', data: 'a', id: '1' },
    { event: 'message', data: 'x\n y', id: '1' },
    { event: 'line', data: '', id: '2' },
    { event: 'end', data: '{}', id: '2' },
    { event: 'line', data: 'café ✓', id: '' },
  ]);
  t.deepEqual(browser.errors(), []);
});
