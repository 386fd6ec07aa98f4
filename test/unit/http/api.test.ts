// The API app's own edges, through Koa's callback() with fakes: cross-site pages refused, no
// Basic challenge on /v1, and readiness that says what failed but not how.
import test from 'ava';
import type { AppService } from '../../../src/apps/app-service.js';
import type { App } from '../../../src/db/app-store.js';
import { parseAppName } from '../../../src/names.js';
import { alice, apiApp, fake, inject } from '../operations/fakes.js';

const created: string[] = [];
const apps = fake<AppService>({
  create: (_actor, name) => {
    created.push(name);
    return Promise.resolve({ id: 1, name: parseAppName(name), ownerId: 1, deployBranch: 'main', languagePack: null, public: false, buildTimeoutSeconds: null, buildMemoryMb: null, buildpacks: [], languagePacks: [], pullRequestBuilds: false, baseDir: null, watchPaths: [], createdAt: new Date() } satisfies App);
  },
});

test('a state-changing request from another site is refused before any service runs; the same origin and no Origin pass', async (t) => {
  const app = apiApp({ apps });
  created.length = 0;
  const evil = await inject(app, 'POST', '/v1/apps', { token: alice.name, body: { name: 'x' }, headers: { origin: 'https://evil.example' } });
  t.is(evil.status, 403);
  t.regex(evil.text, /requests from pages of https:\/\/evil.example are refused/);
  t.is((await inject(app, 'POST', '/v1/apps', { token: alice.name, body: { name: 'x' }, headers: { origin: 'null' } })).status, 403);
  t.deepEqual(created, [], 'nothing was created');
  t.is((await inject(app, 'POST', '/v1/apps', { token: alice.name, body: { name: 'y' }, headers: { origin: 'http://solum.test' } })).status, 201);
  t.is((await inject(app, 'POST', '/v1/apps', { token: alice.name, body: { name: 'z' } })).status, 201);
  t.deepEqual(created, ['y', 'z']);
});

test('the API answers 401 without a Basic challenge (no browser password dialog)', async (t) => {
  const r = await inject(apiApp({}), 'GET', '/v1/user', { token: 'nobody' });
  t.is(r.status, 401);
  t.is(r.headers['www-authenticate'], undefined);
});

test('readiness names the failing check and keeps its error text to the log', async (t) => {
  const app = apiApp({}, undefined, {
    database: () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:5432 (password authentication failed for user "solum")')),
    docker: () => Promise.resolve(),
  });
  const r = await inject(app, 'GET', '/readyz');
  t.is(r.status, 503);
  t.deepEqual(r.json, { status: 'not ready', checks: { database: 'failed', docker: 'ok' } });
  t.false(r.text.includes('10.1.2.3'));
});
