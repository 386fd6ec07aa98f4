// The app page (#/apps/NAME): summary, canary share, live status, build-duration chart, release
// timeline with rollback, pipeline runs with their gates, previews, backing services, builds,
// config var names and collaborators. It follows GET /v1/events and redraws what changed.
import { followEvents, isAbort, messageOf, solum, type AppDetail, type Build, type Collaborator, type PipelineRun, type Preview, type Release, type ServiceInfo } from './api.js';
import { buildChart } from './build-chart.js';
import { canaryBox } from './canary-section.js';
import { confirmAction } from './confirm.js';
import { duration, h, shortCommit, status, table, time, type Child } from './dom.js';
import { connectionText, liveList, liveSummary } from './live-status.js';
import { empty, facts, inlineError, pageHeading, replaceKeepingFocus, section, type PageContext } from './page.js';
import { pipelineRuns } from './pipeline-runs.js';
import { previewsTable } from './previews-section.js';
import { releaseTimeline } from './release-timeline.js';
import { loadServices, servicesTable } from './services-section.js';

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

interface AppData {
  readonly app: AppDetail;
  readonly builds: Settled<Build[]>;
  readonly releases: Settled<Release[]>;
  readonly collaborators: Settled<Collaborator[]>;
  readonly runs: Settled<PipelineRun[]>;
  readonly services: Settled<ServiceInfo[]>;
  /** null: the server has no previews. */
  readonly previews: Settled<Preview[] | null>;
}

const settle = async <T>(p: Promise<T>): Promise<Settled<T>> => {
  try {
    return { ok: true, value: await p };
  } catch (reason) {
    if (isAbort(reason)) throw reason;
    return { ok: false, error: messageOf(reason) };
  }
};

async function load(name: string, signal: AbortSignal): Promise<AppData> {
  const [app, builds, releases, collaborators, runs, services, previews] = await Promise.all([
    solum.app(name, signal),
    settle(solum.builds(name, signal)),
    settle(solum.releases(name, signal)),
    settle(solum.collaborators(name, signal)),
    settle(solum.pipelineRuns(name, signal)),
    settle(loadServices(signal, name)),
    settle(solum.previews(name, signal)),
  ]);
  return { app, builds, releases, collaborators, runs, services, previews };
}

const mayWrite = (role: string | null): boolean => role === 'write' || role === 'admin';
const needsWrite = (what: string, app: AppDetail): string => `${what} needs write access to ${app.name}; your role is ${app.role ?? 'none (public app)'}.`;

export function appPage(name: string): (ctx: PageContext) => Promise<Node[]> {
  return async (ctx) => {
    ctx.setTitle(name);
    const slot = (): HTMLDivElement => h('div', {});
    const s = {
      summary: slot(),
      canary: slot(),
      liveList: slot(),
      chart: slot(),
      releases: slot(),
      runs: slot(),
      previews: slot(),
      services: slot(),
      builds: slot(),
      config: slot(),
      collaborators: slot(),
    };
    const liveSummaryText = h('p', { id: 'live-summary', 'aria-live': 'polite', 'aria-atomic': 'true' });
    const liveConnection = h('p', { id: 'live-connection', class: 'muted small' }, connectionText(null));
    const sections = {
      canary: section('canary', 'Canary', s.canary),
      live: section('live', 'Live status', liveSummaryText, s.liveList, liveConnection),
      chart: section('chart', 'Build durations', s.chart),
      releases: section('releases', 'Releases', s.releases),
      runs: section('pipeline-runs', 'Pipeline runs', s.runs),
      previews: section('previews', 'Previews', s.previews),
      services: section('services', 'Backing services', s.services),
      builds: section('builds', 'Builds', s.builds),
      config: section('config', 'Config vars', s.config),
      collaborators: section('collaborators', 'Collaborators', s.collaborators),
    };
    let data = await load(name, ctx.signal);
    let busy = false;

    const render = (d: AppData): void => {
      const write = mayWrite(d.app.role);
      replaceKeepingFocus(s.summary, summary(d.app));

      const canary = d.app.canary ?? null;
      sections.canary.hidden = canary === null;
      if (canary) {
        replaceKeepingFocus(
          s.canary,
          ...canaryBox({
            canary,
            cannotDecide: write ? null : needsWrite('Promoting or aborting a canary', d.app),
            promote: (b) => void act(b, `Promoting v${canary.version}…`, () => solum.promoteCanary(name, ctx.signal), () => `Promoted v${canary.version}.`, 'releases-title'),
            abort: (b) =>
              void confirmThen(b, { title: `Abort canary v${canary.version}?`, body: [`All new sessions go back to ${d.app.release ?? 'the live release'}.`], confirm: `Abort v${canary.version}`, danger: true }, (x) =>
                act(x, `Aborting v${canary.version}…`, () => solum.abortCanary(name, ctx.signal), () => `Aborted canary v${canary.version}.`, 'releases-title'),
              ),
          }),
        );
      }

      const builds = d.builds.ok ? d.builds.value : [];
      const summaryText = d.builds.ok ? liveSummary(builds) : `Builds unavailable: ${d.builds.error}`;
      if (liveSummaryText.textContent !== summaryText) liveSummaryText.textContent = summaryText;
      replaceKeepingFocus(s.liveList, ...nodes(liveList({ builds, canCancel: write, cancel: (b, button) => void cancel(b, button) })));

      replaceKeepingFocus(s.chart, ...(d.builds.ok ? buildChart(builds, name) : [inlineError(d.builds.error)]));

      replaceKeepingFocus(
        s.releases,
        ...(d.releases.ok
          ? releaseTimeline({
              releases: d.releases.value,
              builds,
              deployBranch: d.app.deployBranch,
              cannotRollBack: write ? null : needsWrite('Rolling back', d.app),
              rollback: (v, b) => void rollback(v, b),
            })
          : [inlineError(d.releases.error)]),
      );

      // Apps without a pipeline show no runs section.
      sections.runs.hidden = d.runs.ok && d.runs.value.length === 0;
      replaceKeepingFocus(s.runs, ...(d.runs.ok ? pipelineRuns({ runs: d.runs.value, user: ctx.user, role: d.app.role, decide: (r, approve, b) => void decide(r, approve, b) }) : [inlineError(d.runs.error)]));

      // Servers without previews answer 404: no section.
      sections.previews.hidden = d.previews.ok && d.previews.value === null;
      replaceKeepingFocus(
        s.previews,
        d.previews.ok ? previewsTable({ previews: d.previews.value ?? [], canDestroy: write, destroy: (p, b) => void destroyPreview(p, b) }) : inlineError(d.previews.error),
      );

      replaceKeepingFocus(
        s.services,
        d.services.ok ? servicesTable(d.services.value, `Backing services linked to ${name}`, `No backing services linked to ${name} that you can see (a service shows to its owner and to admins).`) : inlineError(d.services.error),
      );
      replaceKeepingFocus(s.builds, buildsTable(d.builds));
      replaceKeepingFocus(s.config, ...configNames(d.releases));
      replaceKeepingFocus(s.collaborators, ...collaborators(d));
    };

    // Reloads everything after a change; changes that come while it loads make one more reload.
    let loading: Promise<void> | null = null;
    let again = false;
    const refresh = async (): Promise<void> => {
      if (loading) {
        again = true;
        return loading;
      }
      loading = (async () => {
        do {
          again = false;
          try {
            data = await load(name, ctx.signal);
            render(data);
          } catch (err) {
            if (isAbort(err)) return;
            ctx.fail(messageOf(err));
          }
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `again` is set by calls made while this one awaits
        } while (again && !ctx.signal.aborted);
      })().finally(() => {
        loading = null;
      });
      return loading;
    };
    let timer = 0;
    const soon = (): void => {
      clearTimeout(timer);
      timer = window.setTimeout(() => void refresh(), 150);
    };

    /** Runs an action from a button: progress and outcome in the status area, then the page reloaded and focus put back. */
    async function act<T>(button: HTMLButtonElement, progress: string, run: () => Promise<T>, done: (r: T) => string, focusId: string): Promise<void> {
      if (busy) return;
      busy = true;
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
      ctx.clearMessages();
      ctx.notify(progress);
      try {
        ctx.notify(done(await run()));
      } catch (err) {
        if (isAbort(err)) return;
        ctx.clearMessages();
        ctx.fail(`${progress.replace(/…$/, '')} failed: ${messageOf(err)}`);
      } finally {
        busy = false;
      }
      await refresh();
      document.getElementById(focusId)?.focus();
    }

    /** Asks first; then runs `then` with the button (as redrawn meanwhile, if the page changed). */
    async function confirmThen(button: HTMLButtonElement, o: { title: string; body: Child[]; confirm: string; danger?: boolean }, then: (b: HTMLButtonElement) => Promise<void>): Promise<void> {
      if (busy) return;
      if (!(await confirmAction({ ...o, opener: button }))) return;
      const current = button.id ? document.getElementById(button.id) : null;
      await then(current instanceof HTMLButtonElement ? current : button);
    }

    const rollback = (version: number, button: HTMLButtonElement): Promise<void> =>
      confirmThen(button, { title: `Roll back ${name} to v${version}?`, body: [`A new release runs v${version}'s deployment unit with v${version}'s config; the live release stops.`], confirm: `Roll back to v${version}` }, (b) =>
        act(b, `Rolling ${name} back to v${version}…`, () => solum.rollback(name, version, ctx.signal), (r) => `Released v${r.version} (${r.description}).`, 'releases-title'),
      );

    const decide = (run: PipelineRun, approve: boolean, button: HTMLButtonElement): Promise<void> => {
      const go = (b: HTMLButtonElement): Promise<void> =>
        act(b, `${approve ? 'Approving' : 'Rejecting'} run #${run.id}…`, () => solum.decideRun(run.id, approve, ctx.signal), (r) => `Run #${r.id} ${approve ? 'approved' : 'rejected'}: now ${r.status}.`, 'pipeline-runs-title');
      if (approve) return go(button);
      return confirmThen(button, { title: `Reject run #${run.id}?`, body: [`The run stops at this gate; commit ${shortCommit(run.commit)} goes no further.`], confirm: `Reject run #${run.id}`, danger: true }, go);
    };

    const cancel = (build: Build, button: HTMLButtonElement): Promise<void> =>
      confirmThen(button, { title: `Cancel build #${build.number}?`, body: [`Build #${build.number} of ${shortCommit(build.commit)} stops; nothing is released from it.`], confirm: `Cancel build #${build.number}`, danger: true }, (b) =>
        act(b, `Canceling build #${build.number}…`, () => solum.cancelBuild(build.id, ctx.signal), (r) => (r.status === 'canceled' ? `Canceled build #${r.number}.` : `Stopping build #${r.number}…`), 'live-title'),
      );

    const destroyPreview = (p: Preview, button: HTMLButtonElement): Promise<void> =>
      confirmThen(button, { title: `Destroy preview ${p.name}?`, body: [`Its processes stop and ${p.url} stops answering.`], confirm: `Destroy ${p.name}`, danger: true }, (b) =>
        act(b, `Destroying preview ${p.name}…`, () => solum.destroyPreview(name, p.name, ctx.signal), () => `Destroyed preview ${p.name}.`, 'previews-title'),
      );

    render(data);
    void followEvents(ctx.signal, {
      change: (c) => {
        if (c.app === name) soon();
      },
      state: (live) => {
        liveConnection.textContent = connectionText(live);
        // Back after a drop: what changed meanwhile.
        if (live) soon();
      },
    });
    ctx.signal.addEventListener('abort', () => { clearTimeout(timer); }, { once: true });

    return [
      pageHeading(h('span', { class: 'muted' }, 'App '), name),
      h(
        'div',
        { class: 'page-body' },
        s.summary,
        sections.canary,
        sections.live,
        sections.chart,
        sections.releases,
        sections.runs,
        sections.previews,
        sections.services,
        sections.builds,
        sections.config,
        sections.collaborators,
      ),
    ];
  };
}

const nodes = (n: Node | null): Node[] => (n ? [n] : []);

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

function buildsTable(result: Settled<Build[]>): HTMLElement {
  if (!result.ok) return inlineError(result.error);
  if (result.value.length === 0) return empty('No builds yet: push to build.');
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
  return table('Builds, newest first', ['Build', 'Status', 'Branch', 'Commit', 'Pack', 'Started', 'Took'], rows);
}

function configNames(result: Settled<Release[]>): HTMLElement[] {
  if (!result.ok) return [inlineError(result.error)];
  const release = result.value.find((r) => r.status === 'active') ?? result.value[0];
  if (!release) return [empty('None: config vars come with the first release.')];
  const note = h('p', { class: 'hint' }, `Names only, as set in v${release.version}${release.status === 'active' ? ' (live)' : ''}. Values: `, h('code', {}, 'solum config'), ' (app admins).');
  if (release.configKeys.length === 0) return [empty('No config vars.'), note];
  return [h('ul', { class: 'names' }, ...release.configKeys.map((k) => h('li', {}, h('code', {}, k)))), note];
}

function collaborators(d: AppData): HTMLElement[] {
  const owner = h('p', {}, 'Owner: ', h('strong', {}, d.app.owner ?? '—'));
  if (!d.collaborators.ok) return [owner, inlineError(d.collaborators.error)];
  const list = d.collaborators.value;
  if (list.length === 0) return [owner, empty('No collaborators.')];
  return [owner, table('Collaborators', ['User', 'Role'], list.map((c) => ({ key: c.user, cells: [c.user, c.role] })))];
}
