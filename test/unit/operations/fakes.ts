// Fakes for the fast tier: services that answer what a test gives them, and a request through a
// Koa app's callback() with neither socket nor port.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type Koa from 'koa';
import type { Authenticator } from '../../../src/access/authenticator.js';
import type { User } from '../../../src/db/user-store.js';
import { createApiApp } from '../../../src/http/api.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { parseUserName } from '../../../src/names.js';
import { bindOperations, type OperationDeps } from '../../../src/operations/operations.js';

/** A service with only the methods a test needs; calling another one fails the test. */
export const fake = <T>(methods: Partial<T>): T => methods as T;

export const user = (name: string, isAdmin = false, id = 1): User => ({ id, name: parseUserName(name), isAdmin, createdAt: new Date('2024-05-01T12:00:00.000Z') });

export const alice = user('alice', false, 1);
export const root = user('root', true, 2);

/** Every service the operations use, each faked by what `given` says. */
export const deps = (given: Partial<OperationDeps>): OperationDeps => ({ ...fake<OperationDeps>({}), ...given });


/** The API app over the given services; tokens are users' names. */
export function apiApp(given: Partial<OperationDeps>, users: readonly User[] = [alice, root], checks: Readonly<Record<string, () => Promise<void>>> = {}): Koa {
  const operations = bindOperations(deps(given));
  const pass: Koa.Middleware = (_ctx, next) => next();
  return createApiApp({
    authenticator: fake<Authenticator>({ userForToken: (token) => Promise.resolve(users.find((u) => u.name === token)) }),
    operations,
    buildControl: given.buildControl ?? fake({}),
    apps: given.apps ?? fake({}),
    events: fake({}),
    webhooks: given.webhooks ?? fake({}),
    pipelines: given.pipelines ?? fake({}),
    logger: createLogger('silent'),
    git: pass,
    internal: pass,
    metrics: createMetrics({ defaultMetrics: false }),
    rootDir: '/nonexistent',
    checks,
  });
}

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly json: unknown;
}

/** One request through `app.callback()`: the request and response objects are node's own, never connected. */
export async function inject(app: Koa, method: string, url: string, o: { token?: string; body?: unknown; type?: string; raw?: Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
  const req = new IncomingMessage(new Socket());
  const payload = o.raw ?? (o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body)));
  req.method = method;
  req.url = url;
  req.headers = {
    host: 'solum.test',
    ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
    ...(payload ? { 'content-type': o.type ?? 'application/json', 'content-length': String(payload.length) } : {}),
    ...o.headers,
  };
  if (payload) req.push(payload);
  req.push(null);
  req.complete = true;
  const res = new ServerResponse(req);
  const chunks: Buffer[] = [];
  const collect = (chunk: unknown): void => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  const ended = new Promise<void>((resolve) => {
    Object.defineProperty(res, 'write', { value: (chunk: unknown) => { collect(chunk); return true; } });
    Object.defineProperty(res, 'end', { value: (chunk?: unknown) => { collect(chunk); resolve(); return res; } });
  });
  void app.callback()(req, res);
  await ended;
  const text = Buffer.concat(chunks).toString('utf8');
  const headers = Object.fromEntries(Object.entries(res.getHeaders()).map(([k, v]) => [k, String(v)]));
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers, text, json };
}
