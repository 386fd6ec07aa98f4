// The routes that stream: a build's log (text, or Server-Sent Events that follow it) and the state
// changes of the apps the caller can see. They hold the connection, so they are not operations.
import type Router from '@koa/router';
import type Koa from 'koa';
import type { AppService } from '../apps/app-service.js';
import type { BuildControl } from '../build/queue/build-control.js';
import type { BuildEvents } from '../build/queue/build-events.js';
import { finishedStatuses, type Build } from '../db/build-store.js';
import type { User } from '../db/user-store.js';
import { badRequest, unauthenticated } from '../errors.js';
import { buildView } from '../operations/views.js';
import { parsePositiveInt } from '../parse.js';
import type { State } from './bind-operations.js';
import type { RouteDoc } from './openapi.js';
import type { Authenticator } from '../access/authenticator.js';
import { stillAllowed, watchAccess } from './access-watch.js';

export interface EventStreamDeps {
  readonly buildControl: BuildControl;
  readonly apps: AppService;
  readonly events: BuildEvents;
  readonly authenticator: Authenticator;
}

export const eventStreamDocs: Record<string, RouteDoc> = {
  'GET /v1/builds/:id/log': { summary: 'The build log; ?follow=1 (or Accept: text/event-stream) streams it as Server-Sent Events', produces: 'text', access: 'app read' },
  'GET /v1/events': { summary: 'Build and release state changes of the apps the caller can see, as Server-Sent Events', produces: 'event-stream', access: 'signed-in' },
};

/** Takes the response over for Server-Sent Events, with a comment every 15 s so proxies keep it open. */
function openEventStream(ctx: Koa.Context, onClose: () => void): Koa.Context['res'] {
  ctx.respond = false;
  const res = ctx.res;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  res.on('close', () => {
    clearInterval(keepAlive);
    onClose();
  });
  return res;
}

/**
 * A build's log as Server-Sent Events: the stored lines first, then live ones, each with its line
 * number as event ID (so `Last-Event-ID` resumes), then an `end` event carrying the build.
 */
async function followLog(ctx: Koa.Context, user: User | null, build: Build, deps: EventStreamDeps): Promise<void> {
  const after = Number(ctx.get('Last-Event-ID') || ctx.query.lastEventId || 0) || 0;
  let sent = after;
  let live = false;
  let ended = false;
  const buffered: Array<[number, string]> = [];
  let finished: Build | undefined;
  // Subscribe before reading the stored log, so no line falls between the two.
  const unsubscribe = deps.events.subscribe(build.id, {
    onLine: (line, index) => {
      if (live) send(index, line);
      else buffered.push([index, line]);
    },
    onFinished: (b) => {
      finished = b;
      if (live) end(b);
    },
  });
  const res = openEventStream(ctx, unsubscribe);
  // The log flows only while the caller may read the build.
  const check = { token: (ctx.state as State).token, user };
  watchAccess(res, async () => (await stillAllowed(deps, check)) && (await deps.buildControl.get(user, build.id).then(() => true, () => false)), () => res.end());
  function send(index: number, line: string): void {
    if (index <= sent || ended) return;
    sent = index;
    // A bare CR would end the SSE field early: lines are stored without them, but make sure.
    res.write(`id: ${index}\nevent: line\ndata: ${line.replaceAll('\r', '')}\n\n`);
  }
  function end(b: Build): void {
    if (ended) return;
    ended = true;
    res.end(`event: end\ndata: ${JSON.stringify(buildView(b))}\n\n`);
  }
  // Lines are stored in batches (every 250 ms): wait until the store holds every line published
  // before we subscribed, so the catch-up has no hole.
  const published = deps.events.lastLine(build.id);
  let stored: string[] = [];
  for (let tries = 0; tries < 30; tries++) {
    stored = (await deps.buildControl.log(user, build.id)).split('\n').slice(0, -1);
    if (stored.length >= published) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  stored.forEach((line, i) => {
    send(i + 1, line);
  });
  for (const [index, line] of buffered) send(index, line);
  live = true;
  const now = finished ?? (await deps.buildControl.get(user, build.id));
  if (finished || finishedStatuses.includes(now.status)) end(now);
}

export function mountEventStreams(router: Router<State>, deps: EventStreamDeps): void {
  router.get('/v1/builds/:id/log', async (ctx) => {
    const id = parsePositiveInt(ctx.params.id);
    if (id === undefined) throw badRequest('build IDs are positive integers');
    const build = await deps.buildControl.get(ctx.state.user, id);
    if (ctx.query.follow === '1' || ctx.query.follow === 'true' || ctx.get('Accept').includes('text/event-stream')) {
      await followLog(ctx, ctx.state.user, build, deps);
      return;
    }
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = await deps.buildControl.log(ctx.state.user, build.id);
  });

  router.get('/v1/events', async (ctx) => {
    const user = ctx.state.user;
    if (!user) throw unauthenticated('authentication required');
    // Only changes of apps the caller may read; decisions are remembered for the connection.
    const visible = new Map<string, Promise<boolean>>();
    const canSee = (app: string): Promise<boolean> => {
      let v = visible.get(app);
      if (!v) {
        v = deps.apps.require(user, app, 'read').then(
          () => true,
          () => false,
        );
        visible.set(app, v);
      }
      return v;
    };
    let seq = 0;
    const unsubscribe = deps.events.subscribeState((change) => {
      void canSee(change.app).then((ok) => {
        if (ok && !res.writableEnded) res.write(`id: ${++seq}\nevent: ${change.type}\ndata: ${JSON.stringify(change)}\n\n`);
      });
    });
    const res = openEventStream(ctx, unsubscribe);
    // The token is asked again every second, and what is visible forgotten, so a revoked token
    // ends the stream and a removed role stops that app's events.
    const token = ctx.state.token;
    watchAccess(
      res,
      async () => {
        visible.clear();
        return stillAllowed(deps, { token, user });
      },
      () => res.end(),
    );
    res.write(': solum events\n\n');
    await Promise.resolve();
  });
}
