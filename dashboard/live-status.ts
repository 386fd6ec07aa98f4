// The app's live status: builds queued and running right now, kept current from the event stream
// (the page reloads its data on each change), announced politely; Cancel for those who may build.
import type { Build } from './api.js';
import { h, hidden, on, shortCommit, status, time } from './dom.js';

export const active = (builds: readonly Build[]): Build[] => builds.filter((b) => b.status === 'queued' || b.status === 'running');

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "1 build running, 2 queued." Pure. */
export function liveSummary(builds: readonly Build[]): string {
  const running = builds.filter((b) => b.status === 'running').length;
  const queued = builds.filter((b) => b.status === 'queued').length;
  if (running + queued === 0) return 'No builds queued or running.';
  if (running === 0) return `${plural(queued, 'build')} queued.`;
  return queued === 0 ? `${plural(running, 'build')} running.` : `${plural(running, 'build')} running, ${queued} queued.`;
}

export interface LiveOptions {
  readonly builds: readonly Build[];
  readonly canCancel: boolean;
  cancel(build: Build, button: HTMLButtonElement): void;
}

/** The list of queued and running builds with their Cancel buttons (null when there are none). */
export function liveList(o: LiveOptions): HTMLElement | null {
  const now = active(o.builds);
  if (now.length === 0) return null;
  return h(
    'ul',
    { class: 'live-builds' },
    ...now.map((b) =>
      h(
        'li',
        { 'data-key': `#${b.number}`, 'data-status': b.status },
        status(b.status),
        ' ',
        h('a', { href: `#/builds/${b.id}` }, `Build #${b.number}`),
        ' of ',
        h('code', {}, shortCommit(b.commit)),
        ' ',
        b.status === 'running' ? h('span', { class: 'muted small' }, 'started ', time(b.startedAt)) : h('span', { class: 'muted small' }, 'waiting for a worker'),
        ' ',
        o.canCancel
          ? on(h('button', { type: 'button', class: 'danger small', id: `cancel-build-${b.number}` }, 'Cancel', hidden(` build #${b.number}`)), 'click', (ev) => {
              o.cancel(b, ev.currentTarget as HTMLButtonElement);
            })
          : null,
      ),
    ),
  );
}

/** What the page says about its event stream. Pure. */
export const connectionText = (connected: boolean | null): string =>
  connected === null ? 'Connecting to live updates…' : connected ? 'Live: updates as builds start and finish.' : 'Live updates lost; reconnecting…';
