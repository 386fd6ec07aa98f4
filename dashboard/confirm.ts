// The confirm step before an action that changes something for good: a modal <dialog> that keeps
// focus inside it, closes on Escape or Cancel, and gives focus back to the button that opened it.
import { h, on, type Child } from './dom.js';

export interface ConfirmOptions {
  readonly title: string;
  readonly body: readonly Child[];
  /** The confirm button's words, e.g. "Roll back to v1". */
  readonly confirm: string;
  readonly danger?: boolean;
  /** Where focus goes back to (the button that asked). */
  readonly opener: HTMLElement;
}

let count = 0;

/** Resolves true when the user confirms, false on Cancel or Escape. */
export function confirmAction(o: ConfirmOptions): Promise<boolean> {
  const id = `confirm-${++count}`;
  const cancel = h('button', { type: 'button', class: 'secondary', value: 'cancel' }, 'Cancel');
  const ok = h('button', { type: 'button', class: o.danger ? 'danger' : '', value: 'confirm', 'data-confirm': true }, o.confirm);
  const dialog = h(
    'dialog',
    { class: 'confirm', 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-body`, 'aria-modal': 'true' },
    h('h2', { id: `${id}-title` }, o.title),
    h('p', { id: `${id}-body` }, ...o.body),
    h('p', { class: 'buttons' }, cancel, ' ', ok),
  );
  return new Promise((resolve) => {
    let answer = false;
    const close = (yes: boolean): void => {
      answer = yes;
      dialog.close();
    };
    on(cancel, 'click', () => { close(false); });
    on(ok, 'click', () => { close(true); });
    // Tab and Shift+Tab go round the dialog's buttons, never out of it.
    on(dialog, 'keydown', (ev) => {
      if (ev.key !== 'Tab') return;
      const focusable = [cancel, ok];
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (ev.shiftKey && document.activeElement === first) {
        ev.preventDefault();
        last?.focus();
      } else if (!ev.shiftKey && document.activeElement === last) {
        ev.preventDefault();
        first?.focus();
      }
    });
    on(dialog, 'close', () => {
      dialog.remove();
      // The page may have redrawn the opener meanwhile: its successor has the same ID.
      const back = o.opener.isConnected ? o.opener : o.opener.id ? document.getElementById(o.opener.id) : null;
      back?.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    // The safe choice has focus first.
    cancel.focus();
  });
}
