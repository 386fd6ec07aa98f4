// The app page (#/apps/NAME): summary, releases with rollback, builds, config var names, collaborators.
import { api, get, isAbort, messageOf, path, type AppDetail, type Build, type Collaborator, type PipelineRun, type Release } from './api.js';
import { duration, h, hidden, on, shortCommit, status, table, time, type Child } from './dom.js';
import { empty, facts, inlineError, pageHeading, section, type PageContext } from './page.js';

interface AppData {
  readonly app: AppDetail;
  readonly builds: PromiseSettledResult<Build[]>;
  readonly releases: PromiseSettledResult<Release[]>;
  readonly collaborators: PromiseSettledResult<Collaborator[]>;
  readonly runs: PromiseSettledResult<PipelineRun[]>;
}

async function load(name: string, signal: AbortSignal): Promise<AppData> {
  const [app, builds, releases, collaborators, runs] = await Promise.all([
    get<AppDetail>(path('apps', name), signal),
    settle(get<Build[]>(path('apps', name, 'builds'), signal)),
    settle(get<Release[]>(path('apps', name, 'releases'), signal)),
    settle(get<Collaborator[]>(path('apps', name, 'collaborators'), signal)),
    settle(get<PipelineRun[]>(path('apps', name, 'pipeline-runs'), signal)),
  ]);
  return { app, builds, releases, collaborators, runs };
}

const settle = async <T>(p: Promise<T>): Promise<PromiseSettledResult<T>> => {
  try {
    return { status: 'fulfilled', value: await p };
  } catch (reason) {
    if (isAbort(reason)) throw reason;
    return { status: 'rejected', reason };
  }
};

export function appPage(name: string): (ctx: PageContext) => Promise<Node[]> {
  return async (ctx) => {
    ctx.setTitle(name);
    const body = h('div', { class: 'page-body' });
    let rollingBack = false;

    const render = (data: AppData): void => {
      body.replaceChildren(summary(data.app), releasesSection(data), ...runsSection(data.runs), buildsSection(data.builds), configSection(data.releases), collaboratorsSection(data));
    };

    const rollback = async (version: number, button: HTMLButtonElement): Promise<void> => {
      if (rollingBack) return;
      rollingBack = true;
      for (const b of body.querySelectorAll<HTMLButtonElement>('button[data-rollback]')) b.disabled = true;
      button.setAttribute('aria-busy', 'true');
      ctx.clearMessages();
      ctx.notify(`Rolling ${name} back to v${version}…`);
      try {
        const r = await api<Release>('POST', path('apps', name, 'releases'), { body: { rollback: version }, signal: ctx.signal });
        ctx.notify(`Released v${r.version} (${r.description}).`);
      } catch (err) {
        if (isAbort(err)) return;
        ctx.clearMessages();
        ctx.fail(`Rollback to v${version} failed: ${messageOf(err)}`);
      } finally {
        rollingBack = false;
      }
      try {
        render(await load(name, ctx.signal));
        body.querySelector<HTMLElement>('#releases-title')?.focus();
      } catch (err) {
        if (!isAbort(err)) ctx.fail(messageOf(err));
      }
    };

    const releasesSection = (data: AppData): HTMLElement => {
      if (data.releases.status === 'rejected') return section('releases', 'Releases', inlineError(messageOf(data.releases.reason)));
      const releases = data.releases.value;
      if (releases.length === 0) return section('releases', 'Releases', empty('No releases yet: a successful build of ', h('code', {}, data.app.deployBranch), ' makes one.'));
      // Rolling back needs write access; the API says so too, but a read-only user sees no buttons.
      const canRollBack = data.app.role === 'write' || data.app.role === 'admin';
      const rows = releases.map((r) => ({
        key: `v${r.version}`,
        cells: [
          h('strong', {}, `v${r.version}`),
          status(r.status),
          h('span', { class: 'stack' }, r.description, r.error ? h('span', { class: 'inline-error' }, r.error) : null),
          h('span', { class: 'stack' }, time(r.createdAt), r.createdBy ? h('span', { class: 'muted small' }, `by ${r.createdBy}`) : null),
          // Earlier releases that ran can be rolled back to; failed ones never ran, the active one is live.
          canRollBack && r.status === 'superseded'
            ? on(h('button', { type: 'button', class: 'secondary', 'data-rollback': r.version }, 'Rollback', hidden(` to v${r.version}`)), 'click', (ev) => {
                void rollback(r.version, ev.currentTarget as HTMLButtonElement);
              })
            : null,
        ] satisfies Child[],
      }));
      return section('releases', 'Releases', table(`Releases of ${name}`, ['Version', 'Status', 'Description', 'Created', 'Actions'], rows));
    };

    render(await load(name, ctx.signal));
    return [pageHeading(h('span', { class: 'muted' }, 'App '), name), body];
  };
}

function summary(app: AppDetail): HTMLElement {
  return facts(
    [
      ['Live release', app.release ?? h('span', { class: 'muted' }, 'none')],
      ['URL', app.release ? h('a', { href: app.url }, app.url) : h('span', {}, app.url, h('span', { class: 'muted' }, ' (not live)'))],
      ['Owner', app.owner ?? '—'],
      ['Your role', app.role ?? 'none (public app)'],
      ['Deploy branch', h('code', {}, app.deployBranch)],
      ['Language pack', app.languagePack ?? h('span', { class: 'muted' }, 'detected at each build')],
      ['Visibility', app.public ? 'public (anyone can clone over HTTP)' : 'private'],
    ],
    { 'aria-label': 'Summary' },
  );
}

function buildsSection(result: PromiseSettledResult<Build[]>): HTMLElement {
  if (result.status === 'rejected') return section('builds', 'Builds', inlineError(messageOf(result.reason)));
  if (result.value.length === 0) return section('builds', 'Builds', empty('No builds yet: push to build.'));
  const rows = result.value.map((b) => ({
    key: `#${b.number}`,
    cells: [
      h('a', { href: `#/builds/${b.id}` }, `#${b.number}`),
      status(b.status),
      h('code', {}, b.ref.replace(/^refs\/heads\//, '')),
      h('code', {}, shortCommit(b.commit)),
      b.languagePack ?? '—',
      time(b.startedAt ?? b.createdAt),
      b.status === 'running' || b.status === 'queued' ? '…' : duration(b.startedAt, b.finishedAt),
    ] satisfies Child[],
  }));
  return section('builds', 'Builds', table('Builds, newest first', ['Build', 'Status', 'Branch', 'Commit', 'Pack', 'Started', 'Took'], rows));
}

/** Pipeline runs, when the app has any (apps without a pipeline show nothing new). */
function runsSection(result: PromiseSettledResult<PipelineRun[]>): HTMLElement[] {
  if (result.status === 'rejected') return [section('pipeline-runs', 'Pipeline runs', inlineError(messageOf(result.reason)))];
  if (result.value.length === 0) return [];
  const rows = result.value.map((r) => ({
    key: `run ${r.id}`,
    cells: [
      h('strong', {}, `#${r.id}`),
      status(r.status),
      h('code', {}, shortCommit(r.commit)),
      h('span', { class: 'stack' }, ...r.stages.map((s) => h('span', {}, `${s.name}: `, status(s.status), s.decidedBy ? h('span', { class: 'muted small' }, ` by ${s.decidedBy}`) : null))),
      time(r.createdAt),
    ] satisfies Child[],
  }));
  return [section('pipeline-runs', 'Pipeline runs', table('Pipeline runs, newest first', ['Run', 'Status', 'Commit', 'Stages', 'Created'], rows))];
}

function configSection(result: PromiseSettledResult<Release[]>): HTMLElement {
  if (result.status === 'rejected') return section('config', 'Config vars', inlineError(messageOf(result.reason)));
  const release = result.value.find((r) => r.status === 'active') ?? result.value[0];
  if (!release) return section('config', 'Config vars', empty('None: config vars come with the first release.'));
  const note = h('p', { class: 'hint' }, `Names only, as set in v${release.version}${release.status === 'active' ? ' (live)' : ''}. Values: `, h('code', {}, 'solum config'), ' (app admins).');
  if (release.configKeys.length === 0) return section('config', 'Config vars', empty('No config vars.'), note);
  return section('config', 'Config vars', h('ul', { class: 'names' }, ...release.configKeys.map((k) => h('li', {}, h('code', {}, k)))), note);
}

function collaboratorsSection(data: AppData): HTMLElement {
  const owner = h('p', {}, 'Owner: ', h('strong', {}, data.app.owner ?? '—'));
  if (data.collaborators.status === 'rejected') return section('collaborators', 'Collaborators', owner, inlineError(messageOf(data.collaborators.reason)));
  const list = data.collaborators.value;
  if (list.length === 0) return section('collaborators', 'Collaborators', owner, empty('No collaborators.'));
  return section('collaborators', 'Collaborators', owner, table('Collaborators', ['User', 'Role'], list.map((c) => ({ key: c.user, cells: [c.user, c.role] }))));
}
