// The HTTP binding of the operations: each mounted on its route, its input gathered from the path,
// the query and the body and parsed once with its schema, paged lists, streamed answers, and the
// route's OpenAPI description made from its contract.
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import { z } from 'zod';
import type { User } from '../db/user-store.js';
import { badRequest } from '../errors.js';
import { parseInput, pathParams, type Access, type Contract, type HttpBinding } from '../operations/operation.js';
import type { BoundOperation } from '../operations/operations.js';
import { readJson } from './errors.js';
import type { RouteDoc } from './openapi.js';
import { page } from './paging.js';
import { stillAllowed, watchAccess, type AccessCheck } from './access-watch.js';

export interface State {
  user: User | null;
  /** The token the caller presented, to ask again while a stream they opened lasts. */
  token?: string | undefined;
}

type Context = RouterContext<State>;

interface Route {
  readonly op: BoundOperation;
  readonly http: HttpBinding;
  /** The JSON body's schema, when the operation takes one. */
  readonly body: z.ZodType | undefined;
  /** The rest of the input: path, query, raw body. */
  readonly rest: z.ZodType;
}

const mask = (schema: z.ZodObject, keys: readonly string[]): Record<string, true> => Object.fromEntries(keys.filter((k) => k in schema.shape).map((k) => [k, true]));

/** The input schema split in two: the JSON body's part, and the rest (path, query, raw body). */
function split(c: Contract, http: HttpBinding): { body: z.ZodType | undefined; rest: z.ZodType } {
  const input = c.input;
  const outside = [...pathParams(http.path), ...(http.query ?? []), ...(http.raw ? [http.raw.into] : [])];
  if (http.body === 'fields') return { body: input.omit(mask(input, outside)), rest: input.pick(mask(input, outside)) };
  if (http.body) {
    const body: unknown = input.shape[http.body.into];
    if (!(body instanceof z.ZodType)) throw new Error(`${c.name}: its body goes into ${http.body.into}, which its input lacks`);
    return { body, rest: input.omit(mask(input, [http.body.into])) };
  }
  return { body: undefined, rest: input };
}

/** Of the operations on one route, the one this request is for: a raw body of the right type, else JSON. */
function choose(routes: readonly Route[], ctx: Context): Route {
  const raw = routes.find((r) => r.http.raw);
  const json = routes.find((r) => !r.http.raw);
  const types = raw?.http.raw?.types;
  if (raw && (!types || ctx.is([...types]))) return raw;
  if (json && (!raw?.http.raw?.refuse || ctx.is('application/json'))) return json;
  throw badRequest(raw?.http.raw?.refuse ?? 'unexpected request body');
}

/** The app role an operation's access rule asks for on this input, if any. */
const appRule = (c: Contract, input: Record<string, unknown>): AccessCheck['app'] =>
  typeof c.access === 'object' && typeof input.app === 'string' ? { name: input.app, need: c.access.app } : undefined;

async function handle(route: Route, ctx: Context, watch: WatchDeps): Promise<void> {
  const { op, http } = route;
  const given: Record<string, unknown> = { ...ctx.params };
  for (const k of http.query ?? []) {
    const v = ctx.query[k];
    if (typeof v === 'string') given[k] = v;
  }
  if (http.raw) given[http.raw.into] = ctx.req;
  const body = route.body ? parseInput(route.body, await readJson(ctx), 'bad_request', 'body') : undefined;
  const rest = parseInput(route.rest, given, 'bad_request', 'input') as Record<string, unknown>;
  const input = http.body === 'fields' ? { ...rest, ...(body as Record<string, unknown>) } : http.body ? { ...rest, [http.body.into]: body } : rest;
  const out = await op.handler.run(ctx.state.user, input);
  if (out instanceof Readable) {
    // The response's close: the caller went away (or the answer is complete). The request's own close
    // comes as soon as a POST body was read, which is no reason to stop an answer that keeps coming.
    ctx.res.on('close', () => {
      out.destroy();
    });
    // A followed log flows only while the caller may read it.
    const check: AccessCheck = { token: ctx.state.token, user: ctx.state.user, app: appRule(op.contract, input) };
    watchAccess(ctx.res, () => stillAllowed(watch, check), () => {
      out.destroy();
      ctx.res.end();
    });
    ctx.type = http.produces === 'binary' ? 'application/octet-stream' : http.produces === 'ndjson' ? 'application/x-ndjson' : 'text/plain; charset=utf-8';
    const name = http.attachment ? input[http.attachment.from] : undefined;
    if (typeof name === 'string' && http.attachment) ctx.set('Content-Disposition', `attachment; filename="${name}${http.attachment.suffix}"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = out;
    return;
  }
  ctx.status = op.handler.status?.(out) ?? http.status ?? 200;
  if (ctx.status === 204) return;
  ctx.body = http.list && Array.isArray(out) ? page(ctx, out) : out;
}

/** Mounts every operation that has an HTTP binding; operations sharing a route are told apart by body type. */
export type WatchDeps = Parameters<typeof stillAllowed>[0];

export function mountOperations(router: Router<State>, operations: readonly BoundOperation[], watch: WatchDeps): void {
  const byRoute = new Map<string, Route[]>();
  for (const op of operations) {
    const http = op.contract.http;
    if (!http) continue;
    const key = `${http.method} ${http.path}`;
    byRoute.set(key, [...(byRoute.get(key) ?? []), { op, http, ...split(op.contract, http) }]);
  }
  for (const routes of byRoute.values()) {
    const first = routes[0];
    if (!first) continue;
    router.register(first.http.path, [first.http.method], (ctx: Context) => handle(choose(routes, ctx), ctx, watch));
  }
}

const accessOf = (a: Access): string => (typeof a === 'string' ? a : `app ${a.app}`);

/** The OpenAPI description of every route an operation binds (one route may carry a JSON and a raw operation). */
export function operationDocs(contracts: readonly Contract[]): Record<string, RouteDoc> {
  const docs: Record<string, RouteDoc> = {};
  for (const c of contracts) {
    const http = c.http;
    if (!http) continue;
    const key = `${http.method} ${http.path}`;
    const before = docs[key];
    const { body } = split(c, http);
    docs[key] = {
      ...before,
      summary: before ? `${before.summary}; or: ${c.summary}` : c.summary,
      access: accessOf(c.access),
      ...(body ? { body } : {}),
      ...(http.raw ? { rawBody: (http.raw.types ?? ['application/octet-stream']).join(', ') } : {}),
      ...(http.produces ? { produces: http.produces } : {}),
      ...(c.access === 'public' || c.access === 'signed' ? { public: true } : {}),
    };
  }
  return docs;
}
