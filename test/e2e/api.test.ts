// The API as a product: an OpenAPI document made from the router and the validating schemas,
// pagination on lists, and a stream of the state changes a caller may see.
import test from 'ava';
import { solumWithApp } from '../support/fixtures.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { gitClient, makeRepo } from '../support/git.js';
import { startSolum } from '../support/solum.js';
import { createUser } from '../support/users.js';

test('a route missing from the OpenAPI description is an error', (t) => {
  t.throws(() => openApiDocument([{ method: 'GET', path: '/v1/secret-route' }], {}), { message: /GET \/v1\/secret-route/ });
});

test.serial('openapi.json lists every route with the schemas that validate bodies; lists page with limit and cursor', async (t) => {
  const solum = await startSolum();
  t.teardown(() => solum.stop());
  const res = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/openapi.json`);
  t.is(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> } }>> };
  t.is(doc.openapi, '3.1.0');
  for (const [path, method] of [
    ['/v1/apps', 'get'], ['/v1/apps', 'post'], ['/v1/apps/{app}/builds', 'post'], ['/v1/builds/{id}/log', 'get'], ['/v1/builds/{id}/cancel', 'post'],
    ['/v1/apps/{app}/releases', 'post'], ['/v1/apps/{app}/webhook', 'post'], ['/v1/events', 'get'], ['/healthz', 'get'], ['/metrics', 'get'],
  ] as const) {
    t.truthy(doc.paths[path]?.[method], `${method} ${path}`);
  }
  const createApp = doc.paths['/v1/apps']?.post?.requestBody?.content['application/json']?.schema;
  t.deepEqual(createApp?.required, ['name']);
  t.truthy(createApp?.properties?.name);
  const key = doc.paths['/v1/users/{user}/keys']?.post?.requestBody?.content['application/json']?.schema;
  t.deepEqual(key?.required?.sort(), ['name', 'publicKey']);

  for (let i = 0; i < 5; i++) t.is((await solum.api('POST', '/v1/apps', { name: `page-${i}` })).status, 201);
  const names: string[] = [];
  let url = '/v1/apps?limit=2';
  let pages = 0;
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${solum.httpPort}${url}`, { headers: { authorization: `Bearer ${solum.token}` } });
    t.is(r.headers.get('x-total-count'), '5');
    const items = (await r.json()) as { name: string }[];
    t.true(items.length <= 2);
    names.push(...items.map((a) => a.name));
    pages++;
    const next = r.headers.get('x-next-cursor');
    if (!next) break;
    t.regex(r.headers.get('link') ?? '', /rel="next"/);
    url = `/v1/apps?limit=2&cursor=${next}`;
  }
  t.is(pages, 3);
  t.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  t.is((await solum.api('GET', '/v1/apps?limit=0')).status, 400);
  t.is((await solum.api('GET', '/v1/apps?cursor=nonsense')).status, 400);
});

test.serial('GET /v1/events streams build and release changes of the apps the caller can see, and no others', async (t) => {
  const { solum, app } = await solumWithApp(t, 'events');
  const bob = await createUser(solum, 'bob');
  const listen = (token: string) => {
    const controller = new AbortController();
    let text = '';
    const done = fetch(`http://127.0.0.1:${solum.httpPort}/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal })
      .then(async (res) => {
        const reader = res.body!.getReader();
        for (;;) {
          const chunk = (await reader.read()) as { done: true; value: undefined } | { done: false; value: Uint8Array };
          if (chunk.done) return;
          text += Buffer.from(chunk.value).toString();
        }
      })
      .catch(() => undefined);
    return { stop: async () => { controller.abort(); await done; return text; } };
  };
  const admin = listen(solum.token);
  const stranger = listen(bob.token);
  await new Promise((r) => setTimeout(r, 300));
  const client = await gitClient(solum, 'http');
  t.is((await client.git(['push', client.url(app), 'main'], await makeRepo({ 'build.sh': 'echo hi\n' }))).code, 0);
  await new Promise((r) => setTimeout(r, 500));
  const seen = await admin.stop();
  const hidden = await stranger.stop();
  const events = seen.split('\n\n').filter((e) => e.includes('data: ')).map((e) => JSON.parse(/data: (.*)/.exec(e)?.[1] ?? '{}') as { type: string; app: string; status: string });
  t.deepEqual(events.filter((e) => e.app === app).map((e) => `${e.type}:${e.status}`), ['build:queued', 'build:running', 'release:active', 'build:succeeded']);
  t.false(hidden.includes(app), "bob cannot see alice's app");
  t.is((await fetch(`http://127.0.0.1:${solum.httpPort}/v1/events`)).status, 401);
});
