// The canary share, when a canary release runs: which version gets what share of new sessions since
// when, with Promote and Abort for those who may release.
import type { Canary } from './api.js';
import { h, on, time } from './dom.js';

export interface CanaryOptions {
  readonly canary: Canary;
  /** null: the user may promote or abort; otherwise why not. */
  readonly cannotDecide: string | null;
  promote(button: HTMLButtonElement): void;
  abort(button: HTMLButtonElement): void;
}

export function canaryBox(o: CanaryOptions): HTMLElement[] {
  const { version, percent, since } = o.canary;
  const share = Math.max(0, Math.min(100, percent));
  const meter = h('div', { class: 'share', role: 'img', 'aria-label': `v${version}: ${share}% of new sessions` }, h('span', { class: 'share-canary' }));
  // The bar's width is set through the CSSOM (the page's policy allows no inline style attributes).
  const fill = meter.firstElementChild;
  if (fill instanceof HTMLElement) fill.style.width = `${share}%`;
  const sentence = h('p', { id: 'canary-share' }, h('strong', {}, `v${version}`), ` gets ${share}% of new sessions`, since ? h('span', {}, ' since ', time(since)) : null, '.');
  const buttons =
    o.cannotDecide === null
      ? h(
          'p',
          { class: 'buttons' },
          on(h('button', { type: 'button', id: 'canary-promote' }, `Promote v${version}`), 'click', (ev) => {
            o.promote(ev.currentTarget as HTMLButtonElement);
          }),
          ' ',
          on(h('button', { type: 'button', class: 'danger', id: 'canary-abort' }, `Abort v${version}`), 'click', (ev) => {
            o.abort(ev.currentTarget as HTMLButtonElement);
          }),
        )
      : h('p', { class: 'hint' }, o.cannotDecide);
  return [sentence, meter, buttons];
}
