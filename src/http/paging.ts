// Paged lists: `?limit=` (1-1000, default 100) and `?cursor=` (from the previous page's
// `X-Next-Cursor` header or `Link: …; rel="next"`). The body stays a plain array.
import type Koa from 'koa';
import { badRequest } from '../errors.js';
import { parsePositiveInt, parseWholeNumber } from '../parse.js';

export function page<T>(ctx: Koa.Context, items: readonly T[]): T[] {
  const limitRaw = ctx.query.limit;
  const limit = typeof limitRaw === 'string' ? parsePositiveInt(limitRaw, 4) : 100;
  if (limit === undefined || limit > 1000) throw badRequest('limit is a whole number from 1 to 1000');
  let offset = 0;
  const cursor = ctx.query.cursor;
  if (typeof cursor === 'string') {
    const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
    const at = decoded.startsWith('o') ? parseWholeNumber(decoded.slice(1), 999_999_999) : undefined;
    if (at === undefined) throw badRequest('invalid cursor');
    offset = at;
  }
  const end = offset + limit;
  ctx.set('X-Total-Count', String(items.length));
  if (end < items.length) {
    const next = Buffer.from(`o${end}`).toString('base64url');
    ctx.set('X-Next-Cursor', next);
    ctx.set('Link', `<${ctx.path}?limit=${limit}&cursor=${next}>; rel="next"`);
  }
  return items.slice(offset, end);
}
