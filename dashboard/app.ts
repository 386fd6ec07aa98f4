// The dashboard's entry point: sign in and out, the #/routes, and the frame every page is shown in.
import { ApiError, isAbort, messageOf, session, solum, UNAUTHENTICATED_EVENT, type User } from './api.js';
import { appPage } from './app-page.js';
import { appsPage } from './apps-page.js';
import { buildPage } from './build-page.js';
import { h, on } from './dom.js';
import { keysPage } from './keys-page.js';
import { servicesPage } from './services-page.js';
import { pageHeading, type Page, type PageContext } from './page.js';

function $<T extends HTMLElement>(id: string, type: abstract new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`index.html has no ${type.name} #${id}`);
  return el;
}

const els = {
  nav: $('nav', HTMLElement),
  account: $('account', HTMLElement),
  whoami: $('whoami', HTMLElement),
  signOut: $('sign-out', HTMLButtonElement),
  notice: $('notice', HTMLElement),
  error: $('error', HTMLElement),
  main: $('main', HTMLElement),
  signIn: $('sign-in', HTMLElement),
  signInForm: $('sign-in-form', HTMLFormElement),
  token: $('token', HTMLInputElement),
  signInError: $('sign-in-error', HTMLElement),
  page: $('page', HTMLElement),
};

interface Route {
  readonly nav: 'apps' | 'services' | 'keys' | null;
  readonly page: Page;
}

function route(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const [first, second, ...rest] = parts;
  if (rest.length === 0) {
    if (first === undefined || (first === 'apps' && second === undefined)) return { nav: 'apps', page: appsPage };
    if (first === 'apps' && second !== undefined) return { nav: 'apps', page: appPage(second) };
    if (first === 'builds' && second !== undefined && /^[1-9][0-9]{0,9}$/.test(second)) return { nav: 'apps', page: buildPage(Number(second)) };
    if (first === 'keys' && second === undefined) return { nav: 'keys', page: keysPage };
    if (first === 'services' && second === undefined) return { nav: 'services', page: servicesPage };
  }
  return { nav: null, page: notFound };
}

const notFound: Page = (ctx) => {
  ctx.setTitle('Not found');
  return Promise.resolve([pageHeading('Page not found'), h('p', {}, 'There is no such page. ', h('a', { href: '#/apps' }, 'Go to the apps'), '.')]);
};

const messages = {
  notify(message: string): void {
    els.notice.textContent = message;
  },
  fail(message: string): void {
    els.error.textContent = message;
  },
  clear(): void {
    els.notice.textContent = '';
    els.error.textContent = '';
  },
};

let user: User | null = null;
let current: AbortController | null = null;

/** Shows the page for the current hash (or the sign-in form). `focus` moves focus to its heading. */
async function show(focus: boolean): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const { signal } = controller;

  if (!session.token()) {
    showSignIn(focus);
    return;
  }
  if (!user) {
    try {
      user = await solum.whoami(signal);
    } catch (err) {
      if (isAbort(err)) return;
      // A rejected token signs out through UNAUTHENTICATED_EVENT; anything else is shown.
      if (!(err instanceof ApiError && err.status === 401)) showFrameError(messageOf(err));
      return;
    }
  }
  const signedIn = user;
  els.signIn.hidden = true;
  els.nav.hidden = false;
  els.account.hidden = false;
  els.whoami.textContent = signedIn.name;

  const r = route(location.hash);
  for (const a of els.nav.querySelectorAll<HTMLAnchorElement>('a[data-nav]')) {
    if (a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  els.page.setAttribute('aria-busy', 'true');
  // Say so when a page is slow to load (not for fast ones: no flash).
  const slow = setTimeout(() => {
    if (!signal.aborted) els.page.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  }, 300);
  const ctx: PageContext = {
    signal,
    user: signedIn,
    notify: (m) => {
      if (!signal.aborted) messages.notify(m);
    },
    fail: (m) => {
      if (!signal.aborted) messages.fail(m);
    },
    clearMessages: () => {
      messages.clear();
    },
    setTitle: (t) => {
      document.title = `${t} · Solum`;
    },
  };
  try {
    const nodes = await r.page(ctx);
    if (signal.aborted) return;
    els.page.replaceChildren(...nodes);
  } catch (err) {
    if (isAbort(err) || signal.aborted) return;
    document.title = 'Error · Solum';
    els.page.replaceChildren(pageHeading('This page could not be loaded'), h('p', { class: 'inline-error' }, messageOf(err)), h('p', {}, h('a', { href: '#/apps' }, 'Back to the apps')));
  } finally {
    clearTimeout(slow);
    if (!signal.aborted) els.page.removeAttribute('aria-busy');
  }
  if (focus) els.page.querySelector<HTMLElement>('h1')?.focus();
}

function showFrameError(message: string): void {
  els.page.removeAttribute('aria-busy');
  const retry = on(h('button', { type: 'button' }, 'Try again'), 'click', () => {
    void show(true);
  });
  els.page.replaceChildren(pageHeading('Solum cannot be reached'), h('p', { class: 'inline-error' }, message), h('p', {}, retry));
}

function showSignIn(focus: boolean): void {
  document.title = 'Sign in · Solum';
  els.page.replaceChildren();
  els.page.removeAttribute('aria-busy');
  els.nav.hidden = true;
  els.account.hidden = true;
  els.signIn.hidden = false;
  if (focus) els.token.focus();
}

els.signInForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void (async () => {
    const token = els.token.value.trim();
    els.signInError.textContent = '';
    if (!token) {
      els.signInError.textContent = 'Enter an API token.';
      els.token.setAttribute('aria-invalid', 'true');
      els.token.focus();
      return;
    }
    const button = els.signInForm.querySelector('button');
    if (button) button.disabled = true;
    try {
      // Check the token before keeping it.
      user = await solum.whoami(undefined, token);
    } catch (err) {
      els.token.setAttribute('aria-invalid', 'true');
      els.signInError.textContent = err instanceof ApiError && err.status === 401 ? `That token was not accepted: ${err.message}.` : messageOf(err);
      els.token.focus();
      return;
    } finally {
      if (button) button.disabled = false;
    }
    els.token.removeAttribute('aria-invalid');
    els.token.value = '';
    session.signIn(token);
    messages.clear();
    await show(true);
  })();
});

function signOut(message: string, asError: boolean): void {
  session.signOut();
  user = null;
  current?.abort();
  messages.clear();
  if (asError) messages.fail(message);
  else messages.notify(message);
  showSignIn(true);
}

els.signOut.addEventListener('click', () => {
  signOut('Signed out.', false);
});

window.addEventListener(UNAUTHENTICATED_EVENT, (ev) => {
  const detail = ev instanceof CustomEvent && typeof ev.detail === 'string' ? ev.detail : 'authentication required';
  signOut(`You were signed out: ${detail}. Sign in again.`, true);
});

window.addEventListener('hashchange', () => {
  // In-page anchors (the skip link) are not routes.
  if (!location.hash.startsWith('#/') && location.hash !== '') return;
  messages.clear();
  void show(true);
});

$('skip-link', HTMLElement).addEventListener('click', (ev) => {
  ev.preventDefault();
  els.main.focus();
});

void show(false);
