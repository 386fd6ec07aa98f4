// The HTTP binding through Koa's callback() with fake services and no socket: the input parsed from
// path, query and body (400s with the messages the API always gave), paging headers, statuses,
// the body type choosing between two operations on one route, and refusals mapped to their status.
import type { Readable } from 'node:stream';
import test from 'ava';
import { sampleBuild } from '../../support/samples.js';
import type { AccountService } from '../../../src/access/account-service.js';
import type { AppService } from '../../../src/apps/app-service.js';
import type { BuildSources } from '../../../src/build/sources/build-sources.js';
import type { PullBuilds } from '../../../src/build/sources/pull-builds.js';
import type { App } from '../../../src/db/app-store.js';
import type { Build } from '../../../src/db/build-store.js';
import type { User } from '../../../src/db/user-store.js';
import type { ReleaseService } from '../../../src/deploy/release-service.js';
import { forbidden, notFound, unauthenticated } from '../../../src/errors.js';
import { parseAppName } from '../../../src/names.js';
import { apiApp, fake, inject } from './fakes.js';

const app = (name: string): App => ({
  id: 1,
  name: parseAppName(name),
  ownerId: 1,
  deployBranch: 'main',
  languagePack: null,
  public: false,
  buildTimeoutSeconds: null,
  buildMemoryMb: null,
  buildpacks: [],
  languagePacks: [],
  pullRequestBuilds: false,
  baseDir: null,
  watchPaths: [],
  createdAt: new Date('2024-05-01T12:00:00.000Z'),
});

const apps = (names: readonly string[]): AppService =>
  fake<AppService>({
    list: (actor) => (actor ? Promise.resolve(names.map(app)) : Promise.reject(unauthenticated('authentication required'))),
    create: (_actor, name) => Promise.resolve(app(name)),
    destroy: (_actor, name) => (name === 'hello' ? Promise.resolve() : Promise.reject(notFound(`app '${name}' does not exist`))),
  });

test('a list is paged: limit, cursor, X-Total-Count, X-Next-Cursor and Link', async (t) => {
  const api = apiApp({ apps: apps(['a', 'b', 'c', 'd', 'e']) });
  const names: string[] = [];
  let url = '/v1/apps?limit=2';
  for (let pages = 1; ; pages++) {
    const r = await inject(api, 'GET', url, { token: 'alice' });
    t.is(r.status, 200);
    t.is(r.headers['x-total-count'], '5');
    names.push(...(r.json as { name: string }[]).map((a) => a.name));
    const next = r.headers['x-next-cursor'];
    if (!next) {
      t.is(pages, 3);
      break;
    }
    t.is(r.headers.link, `</v1/apps?limit=2&cursor=${next}>; rel="next"`);
    url = `/v1/apps?limit=2&cursor=${next}`;
  }
  t.deepEqual(names, ['a', 'b', 'c', 'd', 'e']);
  t.like(await inject(api, 'GET', '/v1/apps?limit=0', { token: 'alice' }), { status: 400, json: { code: 'bad_request', message: 'limit is a whole number from 1 to 1000' } });
  t.like(await inject(api, 'GET', '/v1/apps?cursor=nonsense', { token: 'alice' }), { status: 400, json: { code: 'bad_request', message: 'invalid cursor' } });
});

test('bodies and path params are parsed once with the operation schema: 400 with every problem named', async (t) => {
  let revoked: unknown;
  const accounts = fake<AccountService>({
    revokeToken: (_actor, user, id) => {
      revoked = [user, id];
      return Promise.resolve();
    },
  });
  const api = apiApp({ accounts, apps: apps([]) });
  t.like(await inject(api, 'DELETE', '/v1/users/alice/tokens/abc', { token: 'alice' }), { status: 400, json: { code: 'bad_request', message: 'token IDs are positive integers' } });
  t.like(await inject(api, 'DELETE', '/v1/users/alice/tokens/7', { token: 'alice' }), { status: 204, text: '' });
  t.deepEqual(revoked, ['alice', 7], 'the service gets the ID as a number');
  t.like(await inject(api, 'POST', '/v1/apps', { token: 'alice', body: { name: 1 } }), { status: 400, json: { message: 'name: Invalid input: expected string, received number' } });
  t.like(await inject(api, 'POST', '/v1/apps', { token: 'alice', body: { name: 'x', extra: true } }), { status: 400, json: { message: 'body: Unrecognized key: "extra"' } });
  t.like(await inject(api, 'POST', '/v1/apps', { token: 'alice', raw: Buffer.from('name=x'), type: 'text/plain' }), { status: 400, json: { message: 'expected a JSON body (Content-Type: application/json)' } });
  t.like(await inject(api, 'POST', '/v1/apps', { token: 'alice', raw: Buffer.from('{'), type: 'application/json' }), { status: 400, json: { message: 'request body is not valid JSON' } });
  t.like(await inject(api, 'POST', '/v1/apps', { token: 'alice', body: { name: 'x' } }), { status: 201, json: { name: 'x', public: false } });
});

test('a whole-body input keeps its errors relative to the body', async (t) => {
  let changed: unknown;
  const releases = fake<ReleaseService>({
    changeConfig: (_actor, _app, set, unset) => {
      changed = [set, unset];
      return Promise.resolve({ config: set, release: null });
    },
  });
  const api = apiApp({ releases });
  t.like(await inject(api, 'PATCH', '/v1/apps/hello/config', { token: 'alice', body: { A: 1 } }), { status: 400, json: { message: 'A: Invalid input: expected string, received number' } });
  t.like(await inject(api, 'PATCH', '/v1/apps/hello/config', { token: 'alice', body: { A: 'x', B: null } }), { status: 200, json: { config: { A: 'x' }, release: null } });
  t.deepEqual(changed, [{ A: 'x' }, ['B']]);
});

test('refusals keep their status: no token 401, a bad token 401, forbidden 403, not found 404', async (t) => {
  const api = apiApp({ apps: fake<AppService>({ ...apps([]), list: (actor: User | null) => (actor ? Promise.reject(forbidden('not for you')) : Promise.reject(unauthenticated('authentication required'))) }) });
  const anonymous = await inject(api, 'GET', '/v1/user');
  t.like(anonymous, { status: 401, json: { code: 'unauthenticated', message: 'authentication required' } });
  t.is(anonymous.headers['www-authenticate'], undefined, 'the JSON API sends no Basic challenge (git routes do)');
  t.like(await inject(api, 'GET', '/v1/user', { token: 'mallory' }), { status: 401, json: { message: 'invalid, revoked or expired token' } });
  t.like(await inject(api, 'GET', '/v1/user', { token: 'alice' }), { status: 200, json: { name: 'alice', admin: false } });
  t.like(await inject(api, 'GET', '/v1/apps', { token: 'alice' }), { status: 403, json: { code: 'forbidden', message: 'not for you' } });
  t.like(await inject(api, 'GET', '/v1/apps'), { status: 401 });
  t.like(await inject(api, 'DELETE', '/v1/apps/other', { token: 'alice' }), { status: 404, json: { code: 'not_found' } });
  t.like(await inject(api, 'GET', '/v1/no-such-route', { token: 'alice' }), { status: 404, json: { message: 'no route for GET /v1/no-such-route' } });
  t.like(await inject(api, 'GET', '/v1/language-packs'), { status: 401, json: { message: 'authentication required' } });
});

test('one route, two operations: a tar body is an upload, JSON a pull build, anything else refused', async (t) => {
  const calls: string[] = [];
  const build: Build = { ...sampleBuild, id: 9, number: 3, status: 'queued' };
  const buildSources = fake<BuildSources>({
    upload: async (_actor, name, body: Readable) => {
      let bytes = 0;
      for await (const c of body) bytes += (c as Buffer).length;
      calls.push(`upload ${name} ${bytes}`);
      return build;
    },
  });
  const pulls = fake<PullBuilds>({
    pull: (_actor, name, request) => {
      calls.push(`pull ${name} ${request.ref ?? '-'}`);
      return Promise.resolve(request.onlyIfChanged ? { skipped: 'unchanged', commit: 'abc' } : { build });
    },
  });
  const api = apiApp({ buildSources, pulls });
  t.like(await inject(api, 'POST', '/v1/apps/hello/builds', { token: 'alice', raw: Buffer.alloc(1024), type: 'application/x-tar' }), { status: 201, json: { id: 9, number: 3 } });
  t.like(await inject(api, 'POST', '/v1/apps/hello/builds', { token: 'alice', body: { ref: 'dev' } }), { status: 201, json: { id: 9 } });
  t.like(await inject(api, 'POST', '/v1/apps/hello/builds', { token: 'alice', body: { onlyIfChanged: true } }), { status: 200, json: { status: 'skipped', reason: 'unchanged', commit: 'abc' } });
  t.like(await inject(api, 'POST', '/v1/apps/hello/builds', { token: 'alice', raw: Buffer.from('x'), type: 'text/plain' }), {
    status: 400,
    json: { message: 'send JSON {ref?, commit?, onlyIfChanged?} to build from the app source, or a tar / tar.gz body to build it' },
  });
  t.deepEqual(calls, ['upload hello 1024', 'pull hello dev', 'pull hello -']);
});

test('openapi.json is made from the contracts and lists the hand routes too', async (t) => {
  const r = await inject(apiApp({}), 'GET', '/v1/openapi.json');
  const doc = r.json as { paths: Record<string, Record<string, { summary: string; 'x-solum-access'?: string; security?: unknown[] }>> };
  t.is(doc.paths['/v1/apps/{app}']?.get?.summary, 'An app, its URL and live release');
  t.is(doc.paths['/v1/apps/{app}']?.get?.['x-solum-access'], 'app read');
  t.deepEqual(doc.paths['/v1/apps/{app}/webhook']?.post?.security, []);
  t.truthy(doc.paths['/v1/builds/{id}/log']?.get);
  t.truthy(doc.paths['/v1/events']?.get);
});
