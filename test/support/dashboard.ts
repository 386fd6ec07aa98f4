// Helpers for the dashboard's browser tests beyond signing in (test/support/browser.ts): another tab
// with a session of its own (a second user in the same browser), keyboard-only navigation, and
// axe-core's accessibility check.
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Locator, Page } from 'playwright-core';
import type { TestBrowser } from './browser.js';

export interface Tab {
  readonly page: Page;
  /** Uncaught exceptions and console errors of this tab so far (failed requests excluded). */
  errors(): string[];
}

/**
 * A new tab in the test's browser. The dashboard keeps its token in sessionStorage, which is per
 * tab: each tab signs in as its own user.
 */
export async function openTab(browser: TestBrowser): Promise<Tab> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(`console: ${msg.text()}`);
  });
  return { page, errors: () => [...errors] };
}

export interface Focused {
  readonly tag: string;
  readonly id: string;
  /** The accessible text of the element: its text content, trimmed. */
  readonly text: string;
}

/** What has focus now. */
export const focused = (page: Page): Promise<Focused> =>
  page.evaluate<Focused>('({ tag: document.activeElement?.tagName ?? "", id: document.activeElement?.id ?? "", text: (document.activeElement?.textContent ?? "").trim() })');

/**
 * Presses Tab (Shift+Tab with `backwards`) until the focused element matches `wanted`, at most
 * `max` times. Returns the elements passed on the way (the focus order), or null if it never got there.
 */
export async function tabTo(page: Page, wanted: (el: Focused) => boolean, options: { max?: number; backwards?: boolean } = {}): Promise<Focused[] | null> {
  const passed: Focused[] = [];
  for (let i = 0; i < (options.max ?? 80); i++) {
    await page.keyboard.press(options.backwards ? 'Shift+Tab' : 'Tab');
    const el = await focused(page);
    passed.push(el);
    if (wanted(el)) return passed;
  }
  return null;
}

/** An attribute of each element `locator` matches, in document order. */
export async function attributes(locator: Locator, name: string): Promise<Array<string | null>> {
  return Promise.all((await locator.all()).map((l) => l.getAttribute(name)));
}

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let axeSource: string | undefined;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's serious and critical violations on the page as it is now, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol: the dashboard's Content-Security-Policy (script-src
  // 'self') rightly refuses an injected script tag.
  axeSource ??= await fs.readFile(axePath, 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate<AxeViolation[]>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)');
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact ?? '?'} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
}

/**
 * What has focus once the element with ID `id` has it, or after `timeout` ms. Focus moves in a
 * task of its own after what a test waits on: a dialog's close event comes after the dialog leaves
 * the accessibility tree, and an action's focus after the redraw that shows its outcome.
 */
export async function focusOn(page: Page, id: string, timeout = 10_000): Promise<Focused> {
  await page.locator(`[id="${id}"]:focus`).waitFor({ timeout }).catch(() => undefined);
  return focused(page);
}

/**
 * Keeps track of a page's requests; `describe()` says what the page shows and which requests are
 * still in flight, for a failure message when what a test waits for never appears.
 */
export function watchPage(page: Page): { describe(): Promise<string> } {
  const inFlight = new Set<string>();
  let crashed = false;
  page.on('request', (r) => inFlight.add(`${r.method()} ${r.url()}`));
  page.on('requestfinished', (r) => inFlight.delete(`${r.method()} ${r.url()}`));
  page.on('requestfailed', (r) => inFlight.delete(`${r.method()} ${r.url()}`));
  page.on('crash', () => (crashed = true));
  return {
    async describe() {
      const shown = await page
        .evaluate<string>('JSON.stringify({ url: location.href, title: document.title, busy: document.getElementById("page")?.getAttribute("aria-busy"), dialog: !!document.querySelector("dialog[open]"), text: (document.getElementById("page")?.textContent ?? "").slice(0, 300) })')
        .catch((err: unknown) => `(not readable: ${String(err)})`);
      return `page ${crashed ? 'crashed' : shown}; requests in flight: ${[...inFlight].join(', ') || 'none'}`;
    },
  };
}

/**
 * Reloads the page and waits for `drawn`; once more if it does not come within 45 s. Now and then
 * on a loaded machine a reloaded dashboard never ran its modules (signIn in browser.ts loads the
 * page once more for the same reason); a second failure is the test's.
 */
export async function reloadUntil(page: Page, drawn: Locator): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await page.reload();
    try {
      await drawn.waitFor({ timeout: 45_000 });
      return;
    } catch (err) {
      if (attempt === 2) throw err;
    }
  }
}
