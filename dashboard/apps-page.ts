// The apps page (#/apps): every app the user can see, with its last build, live release and URL.
import { messageOf, solum, type AppDetail, type Build } from './api.js';
import { h, shortCommit, status, table, time, type Child } from './dom.js';
import { empty, pageHeading, type PageContext } from './page.js';

export async function appsPage(ctx: PageContext): Promise<Node[]> {
  ctx.setTitle('Apps');
  const apps = await solum.apps(ctx.signal);
  const heading = pageHeading('Apps');
  if (apps.length === 0) {
    const remote = `${location.origin}/hello.git`;
    return [
      heading,
      empty('No apps yet. The first push to a new name creates the app:'),
      h('pre', { class: 'snippet' }, h('code', {}, `git remote add solum ${remote}\ngit push solum main`)),
    ];
  }
  const rows = await Promise.all(
    apps.map(async (app) => {
      const [detail, builds] = await Promise.allSettled([solum.app(app.name, ctx.signal), solum.builds(app.name, ctx.signal)]);
      return { key: app.name, cells: [appLink(app.name), lastBuild(builds), liveRelease(detail), appUrl(detail)] };
    }),
  );
  return [heading, table('Apps', ['App', 'Last build', 'Live release', 'URL'], rows)];
}

const appLink = (name: string): HTMLAnchorElement => h('a', { href: `#/apps/${encodeURIComponent(name)}` }, name);

const unavailable = (reason: unknown): HTMLSpanElement => h('span', { class: 'inline-error' }, `unavailable: ${messageOf(reason)}`);

function lastBuild(result: PromiseSettledResult<Build[]>): Child {
  if (result.status === 'rejected') return unavailable(result.reason);
  const b = result.value[0];
  if (!b) return h('span', { class: 'muted' }, 'no builds yet');
  return h(
    'span',
    { class: 'stack' },
    h('span', {}, status(b.status), ' ', h('a', { href: `#/builds/${b.id}` }, `#${b.number}`), ' ', h('code', { class: 'muted' }, shortCommit(b.commit))),
    h('span', { class: 'muted small' }, time(b.finishedAt ?? b.startedAt ?? b.createdAt)),
  );
}

function liveRelease(result: PromiseSettledResult<AppDetail>): Child {
  if (result.status === 'rejected') return unavailable(result.reason);
  return result.value.release ?? h('span', { class: 'muted' }, 'none');
}

function appUrl(result: PromiseSettledResult<AppDetail>): Child {
  if (result.status === 'rejected') return '—';
  const { url, release } = result.value;
  return release ? h('a', { href: url }, url) : h('span', { class: 'muted' }, `${url} (not live)`);
}
