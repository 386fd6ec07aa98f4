// `npm run screenshots`: starts a Solum, deploys a small app, and saves each dashboard page as docs/screenshots/<page>.png.
import fs from 'node:fs/promises';
import path from 'node:path';
import { openBrowser, signIn } from './browser.js';
import { removeAppImages } from './docker.js';
import { gitClient, makeRepo, writeAndCommit } from './git.js';
import { makeSshIdentity, startSolum } from './solum.js';

const out = path.resolve('docs/screenshots');
const app = 'hello-web';
const pkg = JSON.stringify({ name: 'hello-web', version: '1.0.0', scripts: { build: 'sh build.sh', start: 'node server.js' } });
const buildSh = 'echo "compiling assets"\necho "wrote public/app.css (2.1 kB)"\necho "wrote public/app.js (14.8 kB)"\n';
const server = (greeting: string): string =>
  `require('http').createServer((req, res) => res.end(${JSON.stringify(greeting)})).listen(Number(process.env.PORT), '0.0.0.0');\n`;

const check = (what: string, res: { status: number; text: string }): void => {
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${res.text}`);
};

const solum = await startSolum();
const browser = await openBrowser({ viewport: { width: 1200, height: 800 } });
try {
  await fs.mkdir(out, { recursive: true });
  const base = `http://127.0.0.1:${solum.httpPort}`;
  const { page } = browser;

  // Two deploys, a config var and a collaborator, so each page has something to show.
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'package.json': pkg, 'build.sh': buildSh, 'server.js': server('hello v1') });
  for (const [i, greeting] of ['hello v1', 'hello v2'].entries()) {
    if (i > 0) await writeAndCommit(repo, { 'server.js': server(greeting) }, greeting);
    const push = await client.git(['push', client.url(app), 'main'], repo);
    if (push.code !== 0) throw new Error(`push failed: ${push.stderr}`);
  }
  check('config', await solum.api('PATCH', `/v1/apps/${app}/config`, { GREETING: 'hi', DATABASE_URL: 'postgres://db/hello' }));
  check('user', await solum.api('POST', '/v1/users', { name: 'bob' }));
  check('collaborator', await solum.api('PUT', `/v1/apps/${app}/collaborators/bob`, { role: 'write' }));
  check('key', await solum.api('POST', '/v1/users/admin/keys', { name: 'laptop', publicKey: (await makeSshIdentity()).publicKey }));
  check('key', await solum.api('POST', '/v1/users/admin/keys', { name: 'ci', publicKey: (await makeSshIdentity('ecdsa')).publicKey }));
  const builds = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as { id: number }[];
  const latest = builds[0];
  if (!latest) throw new Error('no build');

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
  await shoot('apps');
  await page.goto(`${base}/#/apps/${app}`);
  await page.locator('#releases tr[data-key="v3"]').waitFor();
  await shoot('app');
  await page.goto(`${base}/#/builds/${latest.id}`);
  await page.locator('#log-state', { hasText: 'Complete' }).waitFor();
  await shoot('build');
  await page.goto(`${base}/#/keys`);
  await page.locator('#keys tr[data-key="laptop"]').waitFor();
  await shoot('keys');
} finally {
  await browser.close();
  await solum.stop();
  await removeAppImages(app);
}
