// Webhooks from external git hosts and CI: each app has a trigger URL and a secret. The signature
// is checked on the raw bytes before anything is parsed; redeliveries are recognised by their
// delivery ID; events that do not build are answered 200 with the reason.
import { createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from '../../access/tokens.js';
import type { AppService } from '../../apps/app-service.js';
import type { App, AppStore } from '../../db/app-store.js';
import type { Preview } from '../../db/preview-store.js';
import type { SourceStore } from '../../db/source-store.js';
import type { User } from '../../db/user-store.js';
import { AppError } from '../../errors.js';
import { parseAppName } from '../../names.js';
import type { PreviewService } from '../../previews/preview-service.js';
import { PULL_REQUEST_PREVIEW_SOURCE } from '../queue/release-rules.js';
import type { PullBuilds } from './pull-builds.js';

export type Flavor = 'github' | 'gitea' | 'gitlab' | 'generic';
type Headers = Readonly<Record<string, string | string[] | undefined>>;

const header = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Which sender signed this request with `secret`, or null when nobody did. Pure. */
export function verifyWebhook(h: Headers, body: Buffer, secret: string): Flavor | null {
  const hmac = createHmac('sha256', secret).update(body).digest('hex');
  const gitlab = header(h, 'x-gitlab-token');
  if (gitlab !== undefined) return sameSecret(gitlab, secret) ? 'gitlab' : null;
  const hub = header(h, 'x-hub-signature-256');
  if (header(h, 'x-github-event') !== undefined) return hub !== undefined && sameSecret(hub, `sha256=${hmac}`) ? 'github' : null;
  if (header(h, 'x-gitea-event') !== undefined || header(h, 'x-forgejo-event') !== undefined) {
    const sig = header(h, 'x-gitea-signature') ?? header(h, 'x-forgejo-signature') ?? hub?.replace(/^sha256=/, '');
    return sig !== undefined && sameSecret(sig, hmac) ? 'gitea' : null;
  }
  const generic = header(h, 'x-solum-signature-256');
  return generic !== undefined && sameSecret(generic, `sha256=${hmac}`) ? 'generic' : null;
}

export type WebhookEvent =
  | { readonly kind: 'build'; readonly ref: string; readonly commit: string; readonly pullRequest: boolean }
  /** A pull request closed (merged or not): its preview, if it has one, goes (decision 0020). */
  | { readonly kind: 'closed'; readonly ref: string }
  | { readonly kind: 'ignore'; readonly reason: string };

const SHA = /^[0-9a-f]{40}$/;
const ignore = (reason: string): WebhookEvent => ({ kind: 'ignore', reason });

/** What a verified webhook asks for. Pure. */
export function parseWebhookEvent(flavor: Flavor, h: Headers, payload: unknown): WebhookEvent {
  const p = (payload ?? {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const push = (ref: string | undefined, commit: string | undefined): WebhookEvent => {
    if (!ref?.startsWith('refs/heads/')) return ignore(`not a branch: ${ref ?? '(no ref)'}`);
    if (!commit || /^0+$/.test(commit)) return ignore('a branch deletion');
    if (!SHA.test(commit)) return ignore('no commit in the payload');
    return { kind: 'build', ref, commit, pullRequest: false };
  };
  switch (flavor) {
    case 'github':
    case 'gitea': {
      const event = header(h, 'x-github-event') ?? header(h, 'x-gitea-event') ?? header(h, 'x-forgejo-event');
      if (event === 'push') return push(str(p.ref), str(p.after));
      if (event === 'pull_request') {
        const action = str(p.action);
        if (action === 'closed') {
          const pr = (p.pull_request ?? {}) as Record<string, unknown>;
          const number = typeof p.number === 'number' ? p.number : typeof pr.number === 'number' ? pr.number : undefined;
          return number !== undefined && Number.isSafeInteger(number) && number > 0 ? { kind: 'closed', ref: `refs/pull/${number}/head` } : ignore('pull_request without number');
        }
        if (action !== 'opened' && action !== 'synchronize' && action !== 'synchronized' && action !== 'reopened') return ignore(`pull_request ${action ?? ''} does not build`);
        const pr = (p.pull_request ?? {}) as Record<string, unknown>;
        const head = (pr.head ?? {}) as Record<string, unknown>;
        const number = typeof p.number === 'number' ? p.number : typeof pr.number === 'number' ? pr.number : undefined;
        const sha = str(head.sha);
        if (number === undefined || !sha || !SHA.test(sha)) return ignore('pull_request without number or head commit');
        return { kind: 'build', ref: `refs/pull/${number}/head`, commit: sha, pullRequest: true };
      }
      return ignore(`${event ?? 'unknown'} events do not build`);
    }
    case 'gitlab': {
      const event = header(h, 'x-gitlab-event');
      if (event !== 'Push Hook') return ignore(`${event ?? 'unknown'} events do not build`);
      return push(str(p.ref), str(p.checkout_sha) ?? str(p.after));
    }
    case 'generic':
      return push(str(p.ref)?.startsWith('refs/') ? str(p.ref) : `refs/heads/${str(p.ref) ?? ''}`, str(p.commit));
  }
}

/**
 * When the sender says the event happened, from the signed payload (the signature covers the body
 * alone, so only a time inside it counts): GitHub's `repository.pushed_at` of a push or `updated_at`
 * of a pull request, a generic sender's `timestamp`. Commit times say when code was written, not
 * when it was pushed, so they are not used; other senders carry no such time. Pure.
 */
export function deliveryTime(flavor: Flavor, headers: Headers, payload: unknown): Date | undefined {
  const p = (payload ?? {}) as Record<string, unknown>;
  const at = (v: unknown): Date | undefined => {
    const d = typeof v === 'number' ? new Date(v < 1e12 ? v * 1000 : v) : typeof v === 'string' ? new Date(v) : undefined;
    return d && !Number.isNaN(d.getTime()) ? d : undefined;
  };
  const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  if (flavor === 'generic') return at(p.timestamp);
  if (flavor !== 'github') return undefined;
  const event = header(headers, 'x-github-event');
  if (event === 'push') return at(obj(p.repository).pushed_at);
  if (event === 'pull_request') return at(obj(p.pull_request).updated_at);
  return undefined;
}

export interface WebhookReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface Webhooks {
  /** A new secret (shown once); the old one stops working at once. */
  rotate(actor: User | null, app: string): Promise<{ url: string; secret: string }>;
  receive(app: string, headers: Headers, body: Buffer): Promise<WebhookReply>;
}

export function createWebhooks(deps: {
  apps: AppService;
  appStore: AppStore;
  sources: SourceStore;
  pulls: PullBuilds;
  /** Preview apps of pull requests, when the app's preview settings allow them (decision 0020). */
  previews?: Pick<PreviewService, 'pullRequestsAllowed' | 'prepare' | 'abandon' | 'closePullRequest' | 'url'>;
  url: (app: string) => string;
  /** A delivery whose event is older than this is refused (a replay of a captured delivery). */
  maxAgeMs: number;
  now?: () => number;
}): Webhooks {
  const now = deps.now ?? (() => Date.now());
  const unauthorized: WebhookReply = { status: 401, body: { code: 'unauthenticated', message: 'missing or wrong webhook signature' } };
  return {
    async rotate(actor, name) {
      const { app } = await deps.apps.require(actor, name, 'admin');
      const secret = randomBytes(32).toString('hex');
      await deps.sources.set(app.id, { webhookSecret: secret });
      return { url: deps.url(app.name), secret };
    },
    async receive(name, headers, body) {
      let app: App | undefined;
      try {
        app = await deps.appStore.findApp(parseAppName(name));
      } catch {
        return unauthorized;
      }
      // An unknown app and a wrong signature look the same to the caller.
      const secret = app ? (await deps.sources.get(app.id)).webhookSecret : null;
      if (!app || !secret) return unauthorized;
      const flavor = verifyWebhook(headers, body, secret);
      if (!flavor) return unauthorized;
      let payload: unknown;
      try {
        payload = flavor === 'gitlab' || body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        return { status: 400, body: { code: 'bad_request', message: 'the payload is not JSON' } };
      }
      const when = deliveryTime(flavor, headers, payload);
      if (when && now() - when.getTime() > deps.maxAgeMs) {
        return { status: 400, body: { code: 'stale_delivery', message: `the event is from ${when.toISOString()}, older than ${Math.round(deps.maxAgeMs / 1000)} s: redeliveries of old events are refused` } };
      }
      const event = parseWebhookEvent(flavor, headers, payload);
      if (event.kind === 'ignore') return { status: 200, body: { status: 'ignored', reason: event.reason } };
      const asPreview = event.kind === 'build' && event.pullRequest && deps.previews !== undefined && (await deps.previews.pullRequestsAllowed(app));
      if (event.kind === 'build' && event.pullRequest && !asPreview && !app.pullRequestBuilds) {
        return { status: 200, body: { status: 'ignored', reason: `pull-request builds are off for ${app.name}: an app admin turns them on (pullRequestBuilds, or previews:settings:set --pull-requests on)` } };
      }
      const source = await deps.sources.get(app.id);
      if (event.kind === 'build' && !event.pullRequest && source.ref && event.ref !== `refs/heads/${source.ref}`) {
        return { status: 200, body: { status: 'ignored', reason: `only ${source.ref} builds` } };
      }
      const delivery = header(headers, 'x-github-delivery') ?? header(headers, 'x-gitea-delivery') ?? header(headers, 'x-gitlab-event-uuid') ?? header(headers, 'x-solum-delivery');
      if (delivery && !(await deps.sources.recordDelivery(app.id, delivery.slice(0, 200)))) {
        return { status: 200, body: { status: 'duplicate', reason: `delivery ${delivery.slice(0, 80)} was already received` } };
      }
      if (event.kind === 'closed') {
        const name = deps.previews ? await deps.previews.closePullRequest(app, event.ref) : undefined;
        return { status: 200, body: name ? { status: 'torn-down', preview: name } : { status: 'ignored', reason: 'the pull request has no preview' } };
      }
      let preview: { preview: Preview; created: boolean } | undefined;
      try {
        if (asPreview && deps.previews) {
          const prepared = await deps.previews.prepare(app, event.ref);
          if ('refused' in prepared) return { status: 409, body: { code: 'conflict', message: prepared.refused } };
          preview = prepared;
        }
        const result = await deps.pulls.pull(null, app.name, { ref: event.ref, commit: event.commit, source: preview ? PULL_REQUEST_PREVIEW_SOURCE : event.pullRequest ? 'pull-request' : 'webhook' }, app);
        if ('skipped' in result) return { status: 200, body: { status: 'ignored', reason: result.skipped } };
        return { status: 202, body: { status: 'queued', build: result.build.number, id: result.build.id, ...(preview && deps.previews ? { preview: preview.preview.name, url: deps.previews.url(preview.preview) } : {}) } };
      } catch (err) {
        if (preview?.created) await deps.previews?.abandon(preview.preview);
        if (err instanceof AppError && err.expose) return { status: err.status, body: { code: err.code, message: err.message } };
        throw err;
      }
    },
  };
}
