// Serves the dashboard: `/` is its page; `/dashboard/<file>` its compiled scripts and styles.
import fs from 'node:fs/promises';
import path from 'node:path';
import type Koa from 'koa';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/** One file name, no directories: nothing outside the two dashboard folders can be named. */
const FILE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100}$/;

export function dashboardMiddleware(rootDir: string): Koa.Middleware {
  const dirs = [path.join(rootDir, 'dist', 'dashboard'), path.join(rootDir, 'dashboard')];
  const serve = async (ctx: Koa.Context, file: string): Promise<boolean> => {
    const type = TYPES[path.extname(file)];
    if (!type || !FILE.test(file) || file.includes('..')) return false;
    for (const dir of dirs) {
      try {
        const body = await fs.readFile(path.join(dir, file));
        ctx.type = type;
        ctx.set('Cache-Control', 'no-cache');
        ctx.set('X-Content-Type-Options', 'nosniff');
        if (type.startsWith('text/html')) {
          ctx.set('Content-Security-Policy', "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
        }
        ctx.body = body;
        return true;
      } catch {
        // try the next folder
      }
    }
    return false;
  };
  return async (ctx, next) => {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      if (ctx.path === '/' && (await serve(ctx, 'index.html'))) return;
      const m = /^\/dashboard\/([^/]+)$/.exec(ctx.path);
      if (m?.[1] && (await serve(ctx, m[1]))) return;
    }
    await next();
  };
}
