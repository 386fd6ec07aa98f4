// Small DOM helpers for the dashboard: element building (text only, never HTML strings), statuses, times.

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** `h('a', {href: '#/apps'}, 'Apps')`: attributes (true → present, false/null → absent) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: readonly Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Adds an event listener and returns the element, so it can sit inside an `h()` tree. */
export function on<E extends HTMLElement, K extends keyof HTMLElementEventMap>(el: E, type: K, listener: (ev: HTMLElementEventMap[K]) => unknown): E {
  el.addEventListener(type, listener);
  return el;
}

const symbols: Readonly<Record<string, string>> = {
  succeeded: '✓',
  active: '✓',
  failed: '✗',
  abandoned: '✗',
  running: '●',
  pending: '●',
  queued: '○',
  canceled: '–',
  superseded: '–',
};

/** A build or release status: the word itself (colour and symbol only add to it). */
export function status(value: string): HTMLSpanElement {
  return h('span', { class: 'status', 'data-status': value }, h('span', { class: 'status-symbol', 'aria-hidden': 'true' }, symbols[value] ?? '•'), ` ${value}`);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function time(iso: string | null): Child {
  if (!iso) return '—';
  const d = new Date(iso);
  return h('time', { datetime: iso }, dateFormat.format(d));
}

/** "3.2 s", "1 min 4 s" between two ISO times (to now while unfinished), or "—". */
export function duration(from: string | null, to: string | null): string {
  if (!from) return '—';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** A visually hidden piece of text (part of an accessible name, e.g. "Rollback to v1"). */
export const hidden = (text: string): HTMLSpanElement => h('span', { class: 'visually-hidden' }, text);

export const shortCommit = (sha: string): string => sha.slice(0, 12);

/** A table with a caption, headers and rows (cells are children); rows get `data-key` when given. */
export function table(caption: string, headers: readonly string[], rows: readonly { key?: string; cells: readonly Child[] }[]): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, ...rows.map((r) => h('tr', { 'data-key': r.key }, ...r.cells.map((c) => h('td', {}, c))))),
  );
}
