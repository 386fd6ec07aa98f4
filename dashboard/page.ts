// What each dashboard page gets from the frame (signal, user, messages) and the building blocks pages share.
import type { User } from './api.js';
import { h, type Child } from './dom.js';

export interface PageContext {
  /** Aborted when the user leaves the page or signs out: pass it to every request. */
  readonly signal: AbortSignal;
  readonly user: User;
  /** A polite announcement in the status area (success, progress). */
  notify(message: string): void;
  /** An error in the alert area. */
  fail(message: string): void;
  clearMessages(): void;
  /** The document title, before " · Solum". */
  setTitle(title: string): void;
}

/** A page renders its content (the frame puts it in place) and may keep updating it until `signal` aborts. */
export type Page = (ctx: PageContext) => Promise<Node[]>;

/** The page's heading; the frame moves focus to it after navigation. */
export const pageHeading = (...children: readonly Child[]): HTMLHeadingElement => h('h1', { tabindex: -1 }, ...children);

/** A titled section (`<section>` labelled by its `<h2>`). */
export function section(id: string, title: string, ...children: readonly Child[]): HTMLElement {
  return h('section', { 'aria-labelledby': `${id}-title`, id }, h('h2', { id: `${id}-title`, tabindex: -1 }, title), ...children);
}

/** A description list from label → value pairs (`null` values are left out). */
export function facts(pairs: readonly (readonly [string, Child])[], attrs: Readonly<Record<string, string>> = {}): HTMLDListElement {
  const dl = h('dl', { class: 'facts', ...attrs });
  for (const [label, value] of pairs) {
    if (value === null) continue;
    dl.append(h('div', {}, h('dt', {}, label), h('dd', {}, value)));
  }
  return dl;
}

/** A sentence shown in place of an empty list. */
export const empty = (...children: readonly Child[]): HTMLParagraphElement => h('p', { class: 'empty' }, ...children);

/** A section-level error (the rest of the page still works). */
export const inlineError = (message: string): HTMLParagraphElement => h('p', { class: 'inline-error' }, h('strong', {}, 'Error: '), message);

export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/**
 * Replaces a container's content; focus that was inside it stays on the element with the same ID
 * (a redrawn button), or moves to the section's heading instead of falling to the page's start.
 */
export function replaceKeepingFocus(container: Element, ...nodes: readonly Node[]): void {
  const active = document.activeElement;
  const inside = active instanceof HTMLElement && container.contains(active);
  const id = inside ? active.id : '';
  container.replaceChildren(...nodes);
  if (!inside) return;
  const again = id ? document.getElementById(id) : null;
  if (again && !(again instanceof HTMLButtonElement && again.disabled)) again.focus();
  else container.closest('section')?.querySelector<HTMLElement>('h2')?.focus();
}
