// The dashboard for people who use it without a mouse or with assistive technology, in headless
// Chromium against a real Solum: an automated accessibility check (axe-core) of every page with
// no serious or critical violations, and a rollback done with the keyboard alone, its effect
// checked through the API.
import test from 'ava';
import { openBrowser } from '../support/browser.js';
import { focusOn, seriousViolations, tabTo } from '../support/dashboard.js';
import { removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { randomName, startSolum } from '../support/solum.js';

const server = (greeting: string): string => `
const http = require('http');
http.createServer((req, res) => res.end(${JSON.stringify(greeting)})).listen(Number(process.env.PORT), '0.0.0.0');
`;
const pkg = JSON.stringify({ name: 'web', version: '1.0.0', scripts: { start: 'node server.js' } });

test('every dashboard page passes axe-core with no serious violations; sign in, open an app and roll back with the keyboard alone', async (t) => {
  const solum = await startSolum();
  const browser = await openBrowser();
  const app = randomName('a11y');
  t.teardown(async () => {
    await browser.close();
    await solum.stop();
    await removeAppImages(app);
  });
  const base = `http://127.0.0.1:${solum.httpPort}`;
  const { page } = browser;
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'package.json': pkg, 'server.js': server('v1') });
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
  await writeAndCommit(repo, { 'server.js': server('v2') }, 'v2');
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);

  // Sign-in page.
  await page.goto(`${base}/`);
  await page.getByLabel('API token').waitFor({ timeout: 90_000 });
  t.deepEqual(await seriousViolations(page), [], 'sign-in page');

  // Keyboard alone from here: type the token, Enter, Tab to the app's link, Enter.
  await page.getByLabel('API token').focus();
  await page.keyboard.type(solum.token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Apps' }).waitFor();
  await page.getByRole('link', { name: app }).first().waitFor();
  t.deepEqual(await seriousViolations(page), [], 'apps page');
  t.truthy(await tabTo(page, (el) => el.tag === 'A' && el.text === app), 'Tab reaches the app link');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: `App ${app}` }).waitFor();
  await page.locator('#rollback-v1').waitFor();
  t.deepEqual(await seriousViolations(page), [], 'app page');

  // Rollback to v1: Tab to its button, Enter opens the dialog with Cancel focused; Tab to the
  // confirm button, Enter.
  t.truthy(await tabTo(page, (el) => el.id === 'rollback-v1'), 'Tab reaches Rollback to v1');
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').waitFor();
  t.deepEqual(await seriousViolations(page), [], 'app page with the confirmation open');
  t.is(await page.evaluate('document.activeElement?.textContent'), 'Cancel', 'the safe choice has focus first');
  // Escape closes it and changes nothing; focus returns to the button.
  await page.keyboard.press('Escape');
  t.is((await focusOn(page, 'rollback-v1')).id, 'rollback-v1');
  t.is(((await solum.api('GET', `/v1/apps/${app}/releases`)).json as unknown[]).length, 2, 'Escape made no release');
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').waitFor();
  await page.keyboard.press('Tab');
  t.is(await page.evaluate('document.activeElement?.textContent'), 'Roll back to v1');
  await page.keyboard.press('Enter');
  await page.getByText(/Released v3/).first().waitFor({ timeout: 60_000 });
  const releases = (await solum.api('GET', `/v1/apps/${app}/releases`)).json as Array<{ version: number; status: string; description: string }>;
  t.like(releases.find((r) => r.version === 3), { status: 'active' });
  t.regex(releases.find((r) => r.version === 3)?.description ?? '', /Rollback to v1/);

  // The build page and the keys page.
  const builds = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as Array<{ id: number }>;
  await page.goto(`${base}/#/builds/${builds[0]?.id ?? 0}`);
  await page.getByRole('heading', { level: 1, name: /Build #\d+ of/ }).waitFor();
  t.deepEqual(await seriousViolations(page), [], 'build page');
  await page.goto(`${base}/#/keys`);
  await page.getByRole('heading', { level: 1, name: 'SSH keys' }).waitFor();
  t.deepEqual(await seriousViolations(page), [], 'keys page');
  await page.goto(`${base}/#/services`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  t.deepEqual(await seriousViolations(page), [], 'services page');
  t.deepEqual(browser.errors(), []);
});
