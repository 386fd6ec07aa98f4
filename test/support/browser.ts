// Headless Chromium (the system's, driven by playwright-core) for the dashboard tests and screenshots.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const chromiumPath = process.env.SOLUM_CHROMIUM ?? '/usr/bin/chromium';

const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface TestBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught exceptions and console errors of the page so far (failed requests excluded: tests cause some). */
  errors(): string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile in a temp dir, removed again by `close()`. */
export async function openBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(`console: ${msg.text()}`);
  });
  return {
    context,
    page,
    errors: () => [...errors],
    async close() {
      await context.close();
      await fs.rm(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the dashboard and signs in through its form. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  const failed: string[] = [];
  const onFailed = (req: { url(): string; failure(): { errorText: string } | null }): void => {
    failed.push(`${req.url()}: ${req.failure()?.errorText ?? 'failed'}`);
  };
  page.on('requestfailed', onFailed);
  try {
    const field = page.getByLabel('API token');
    // The first page of a fresh browser can take long on a loaded machine: give its scripts time,
    // and load it once more if a module request was lost on the way (the reason is kept).
    for (let attempt = 1; ; attempt++) {
      await page.goto(`${baseUrl}/`);
      try {
        await field.waitFor({ state: 'visible', timeout: 45_000 });
        break;
      } catch (err) {
        const state = await page.evaluate('({ ready: document.readyState, signInHidden: document.getElementById("sign-in")?.hidden })').catch(() => null);
        if (attempt === 2) throw new Error(`the sign-in form did not appear (${JSON.stringify(state)}; failed requests: ${failed.join(', ') || 'none'}): ${String(err)}`);
      }
    }
    await field.fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Apps' }).waitFor();
  } finally {
    page.off('requestfailed', onFailed);
  }
}
