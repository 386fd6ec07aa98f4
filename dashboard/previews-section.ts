// Preview environments of an app (when the server has them): branch, URL, state and when each
// expires, with a Destroy button for those who may deploy.
import type { Preview } from './api.js';
import { h, hidden, on, status, table, time, type Child } from './dom.js';
import { empty } from './page.js';

/** "in 3 h 5 min", "in 12 min", "expired". Pure. */
export function ttl(expiresAt: string | null, now = Date.now()): string {
  if (!expiresAt) return 'no expiry';
  const ms = Date.parse(expiresAt) - now;
  if (!Number.isFinite(ms)) return '—';
  if (ms <= 0) return 'expired';
  const min = Math.ceil(ms / 60_000);
  if (min < 60) return `in ${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `in ${hours} h${min % 60 ? ` ${min % 60} min` : ''}`;
  return `in ${Math.floor(hours / 24)} days`;
}

export interface PreviewsOptions {
  readonly previews: readonly Preview[];
  readonly canDestroy: boolean;
  destroy(preview: Preview, button: HTMLButtonElement): void;
}

export function previewsTable(o: PreviewsOptions): HTMLElement {
  if (o.previews.length === 0) return empty('No previews: pushing another branch makes one, when the app has previews on.');
  return table(
    'Previews',
    ['Preview', 'Branch', 'State', 'URL', 'Last push', 'Expires', ...(o.canDestroy ? ['Actions'] : [])],
    o.previews.map((p) => ({
      key: p.name,
      cells: [
        h('strong', {}, p.name),
        h('code', {}, p.branch),
        status(p.state),
        h('a', { href: p.url }, p.url),
        time(p.lastPushAt ?? p.createdAt),
        h('span', {}, ttl(p.expiresAt), p.expiresAt ? h('span', { class: 'muted small' }, ' (', time(p.expiresAt), ')') : null),
        ...(o.canDestroy
          ? [
              on(h('button', { type: 'button', class: 'danger small', id: `destroy-preview-${p.name}` }, 'Destroy', hidden(` preview ${p.name}`)), 'click', (ev) => {
                o.destroy(p, ev.currentTarget as HTMLButtonElement);
              }),
            ]
          : []),
      ] satisfies Child[],
    })),
  );
}
