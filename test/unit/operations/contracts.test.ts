// Every operation's contract is complete and consistent with itself: a binding and a summary,
// unique names and routes, every key a binding fills is an input key, the OpenAPI document whole.
import test from 'ava';
import { operationDocs } from '../../../src/http/bind-operations.js';
import { openApiDocument } from '../../../src/http/openapi.js';
import { pathParams, requestOf } from '../../../src/operations/operation.js';
import { operations } from '../../../src/operations/operations.js';
import { createToken, revokeToken } from '../../../src/operations/accounts.js';
import { destroyService } from '../../../src/operations/services.js';
import { scale } from '../../../src/operations/processes.js';

test('every operation has a summary and an HTTP or an SSH binding', (t) => {
  for (const op of operations) {
    t.true(op.summary.trim().length > 0, op.name);
    t.true(op.http !== undefined || op.ssh !== undefined, op.name);
  }
});

test('names are unique, and so are routes but for a JSON and a raw-body operation sharing one', (t) => {
  const names = operations.map((o) => o.name);
  t.is(new Set(names).size, names.length);
  const routes = new Map<string, string[]>();
  for (const op of operations) if (op.http) routes.set(`${op.http.method} ${op.http.path}`, [...(routes.get(`${op.http.method} ${op.http.path}`) ?? []), op.name]);
  for (const [route, ops] of routes) {
    if (ops.length === 1) continue;
    const sharing = operations.filter((o) => ops.includes(o.name));
    t.is(ops.length, 2, route);
    t.is(sharing.filter((o) => o.http?.raw).length, 1, `${route}: one takes the raw body, one JSON`);
  }
});

test('every :param, query key, body key and raw body of a route is a key of the input', (t) => {
  for (const op of operations) {
    if (!op.http) continue;
    const keys = Object.keys(op.input.shape);
    t.true(op.http.path.startsWith('/v1/'), op.name);
    for (const k of [...pathParams(op.http.path), ...(op.http.query ?? [])]) t.true(keys.includes(k), `${op.name}: ${k}`);
    if (op.http.body && op.http.body !== 'fields') t.true(keys.includes(op.http.body.into), `${op.name}: body into ${op.http.body.into}`);
    if (op.http.raw) t.true(keys.includes(op.http.raw.into), `${op.name}: raw body into ${op.http.raw.into}`);
    if (op.http.attachment) t.true(keys.includes(op.http.attachment.from), op.name);
  }
});

test('every word, option, switch, stdin and self key of a command is a key of the input, unless the command maps its words', (t) => {
  for (const op of operations) {
    const ssh = op.ssh;
    if (!ssh) continue;
    t.true(ssh.usage.startsWith(op.name), `${op.name}: usage ${ssh.usage}`);
    const stdin = ssh.stdin ? ('text' in ssh.stdin ? [ssh.stdin.text] : [ssh.stdin.stream]) : [];
    const used = [...(ssh.args ?? []), ...(ssh.optional ?? []), ...(ssh.rest ? [ssh.rest.into] : []), ...Object.values(ssh.options ?? {}), ...Object.values(ssh.switches ?? {}), ...(ssh.self ? [ssh.self] : []), ...stdin];
    if (ssh.map) continue;
    for (const k of used) t.true(k in op.input.shape, `${op.name}: ${k}`);
  }
});

test('a request made from a contract: path params encoded, query flags, body fields or the whole body', (t) => {
  t.deepEqual(requestOf(createToken, { user: 'a/b', name: 'ci', expiresAt: null }), { method: 'POST', path: '/v1/users/a%2Fb/tokens', body: { name: 'ci', expiresAt: null } });
  t.deepEqual(requestOf(revokeToken, { user: 'alice', id: '7' }), { method: 'DELETE', path: '/v1/users/alice/tokens/7' });
  t.deepEqual(requestOf(destroyService, { name: 'db', confirm: 'db', force: true }), { method: 'DELETE', path: '/v1/services/db?confirm=db&force=1' });
  t.deepEqual(requestOf(destroyService, { name: 'db', confirm: 'db', force: false }), { method: 'DELETE', path: '/v1/services/db?confirm=db' });
  t.deepEqual(requestOf(scale, { app: 'hello', changes: { web: 2 } }), { method: 'PATCH', path: '/v1/apps/hello/formation', body: { web: 2 } });
});

test('the OpenAPI document covers every route with the access rule and the body schema', (t) => {
  const docs = operationDocs(operations);
  const routes = operations.flatMap((o) => (o.http ? [{ method: o.http.method, path: o.http.path }] : []));
  const doc = openApiDocument(routes, docs) as { paths: Record<string, Record<string, { 'x-solum-access'?: string; security?: unknown[]; requestBody?: { content: Record<string, unknown> } }>> };
  t.is(doc.paths['/v1/apps/{app}/collaborators/{user}']?.put?.['x-solum-access'], 'app admin');
  t.is(doc.paths['/v1/users']?.get?.['x-solum-access'], 'admin');
  t.deepEqual(Object.keys(doc.paths['/v1/apps/{app}/builds']?.post?.requestBody?.content ?? {}).sort(), ['application/json', 'application/x-tar, application/gzip, application/x-gzip, application/tar+gzip, application/octet-stream'].sort());
  t.is(doc.paths['/v1/user']?.get?.security, undefined, 'needs a token');
});
