// The release timeline of an app: each version with when, what (DU and commit), who, the live
// marker, and a Rollback button on earlier releases for those who may roll back.
import type { Build, Release } from './api.js';
import { h, hidden, on, shortCommit, status, time } from './dom.js';
import { empty } from './page.js';

export interface TimelineOptions {
  readonly releases: readonly Release[];
  readonly builds: readonly Build[];
  readonly deployBranch: string;
  /** null: the user may roll back; otherwise why not (shown instead of the buttons). */
  readonly cannotRollBack: string | null;
  rollback(version: number, button: HTMLButtonElement): void;
}

/** Earlier releases that ran can be rolled back to; failed ones never ran, the active one is live. Pure. */
export const mayRollBackTo = (r: Release): boolean => r.status === 'superseded';

const shortDu = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

export function releaseTimeline(o: TimelineOptions): HTMLElement[] {
  if (o.releases.length === 0) return [empty('No releases yet: a successful build of ', h('code', {}, o.deployBranch), ' makes one.')];
  const byId = new Map(o.builds.map((b) => [b.id, b]));
  const items = o.releases.map((r) => {
    const build = r.buildId === null ? undefined : byId.get(r.buildId);
    const live = r.status === 'active';
    const button =
      o.cannotRollBack === null && mayRollBackTo(r)
        ? on(h('button', { type: 'button', class: 'secondary small', id: `rollback-v${r.version}`, 'data-rollback': r.version }, 'Rollback', hidden(` to v${r.version}`)), 'click', (ev) => {
            o.rollback(r.version, ev.currentTarget as HTMLButtonElement);
          })
        : null;
    return h(
      'li',
      { 'data-key': `v${r.version}`, 'data-status': r.status, class: live ? 'live' : null },
      h('span', { class: 'marker', 'aria-hidden': 'true' }),
      h(
        'div',
        { class: 'entry' },
        h('p', { class: 'entry-head' }, h('strong', {}, `v${r.version}`), ' ', status(r.status), live ? h('span', { class: 'badge' }, 'live') : null, ' ', h('span', { class: 'muted small' }, time(r.createdAt), r.createdBy ? ` by ${r.createdBy}` : '')),
        h('p', { class: 'entry-body' }, r.description, r.error ? h('span', { class: 'inline-error' }, ` ${r.error}`) : null),
        h(
          'p',
          { class: 'muted small' },
          'DU ',
          h('code', { title: r.duId }, shortDu(r.duId)),
          ...(build ? [' · build ', h('a', { href: `#/builds/${build.id}` }, `#${build.number}`), ' of ', h('code', { title: build.commit }, shortCommit(build.commit))] : []),
          r.configKeys.length > 0 ? ` · ${r.configKeys.length} config var${r.configKeys.length === 1 ? '' : 's'}` : '',
        ),
        button,
      ),
    );
  });
  const note = o.cannotRollBack === null ? null : h('p', { class: 'hint', id: 'rollback-note' }, o.cannotRollBack);
  return [h('ol', { class: 'timeline', 'aria-label': 'Releases, newest first' }, ...items), ...(note ? [note] : [])];
}
