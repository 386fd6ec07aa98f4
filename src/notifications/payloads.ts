// What a deploy notification says and how it is signed: the event names, the JSON payload (or a
// Slack-compatible `text` one), the HMAC-SHA256 signature over the exact body, and when a failed
// delivery is tried again. Pure.
import { createHmac } from 'node:crypto';
import { badRequest } from '../errors.js';

export const notificationEvents = ['build.started', 'build.succeeded', 'build.failed', 'release.live', 'release.failed', 'release.canary-aborted', 'pipeline.waiting', 'preview.up', 'preview.down'] as const;
export type NotificationEvent = (typeof notificationEvents)[number];

/** A subscription's events from `a,b` (or `*`, or nothing: every event), each checked. Pure. */
export function parseEventList(raw: string | readonly string[] | undefined): string[] {
  const list = (typeof raw === 'string' ? raw.split(',') : (raw ?? [])).map((e) => e.trim()).filter((e) => e !== '');
  if (list.length === 0 || list.includes('*')) return ['*'];
  for (const e of list) if (!(notificationEvents as readonly string[]).includes(e)) throw badRequest(`unknown event ${JSON.stringify(e.slice(0, 40))}; events are ${notificationEvents.join(', ')} or *`);
  return [...new Set(list)];
}

export interface NotificationFacts {
  readonly event: NotificationEvent;
  readonly app: string;
  readonly occurredAt: Date;
  readonly build?: { readonly id: number; readonly number: number; readonly status: string; readonly commit: string; readonly url: string } | undefined;
  readonly release?: { readonly version: number; readonly status: string; readonly url: string } | undefined;
  readonly pipeline?: { readonly run: number; readonly stage: string; readonly url: string } | undefined;
  readonly preview?: { readonly name: string; readonly branch: string; readonly url: string } | undefined;
}

const sentence = (f: NotificationFacts): string => {
  switch (f.event) {
    case 'build.started':
      return `${f.app}: build #${f.build?.number ?? '?'} started`;
    case 'build.succeeded':
      return `${f.app}: build #${f.build?.number ?? '?'} succeeded`;
    case 'build.failed':
      return `${f.app}: build #${f.build?.number ?? '?'} ${f.build?.status === 'failed' ? 'failed' : (f.build?.status ?? 'failed')}`;
    case 'release.live':
      return `${f.app}: v${f.release?.version ?? '?'} is live`;
    case 'release.failed':
      return `${f.app}: release v${f.release?.version ?? '?'} failed; the previous release keeps serving`;
    case 'release.canary-aborted':
      return `${f.app}: the canary v${f.release?.version ?? '?'} was aborted; the live release serves every session`;
    case 'pipeline.waiting':
      return `${f.app}: pipeline run ${f.pipeline?.run ?? '?'} waits for a decision at ${f.pipeline?.stage ?? '?'}`;
    case 'preview.up':
      return `${f.app}: preview ${f.preview?.name ?? '?'} (${f.preview?.branch ?? '?'}) is up`;
    case 'preview.down':
      return `${f.app}: preview ${f.preview?.name ?? '?'} (${f.preview?.branch ?? '?'}) was torn down`;
  }
};

/** The body sent: Solum's JSON document, or `{"text": …}` for Slack-compatible receivers. Pure. */
export function payloadOf(f: NotificationFacts, format: 'json' | 'slack'): string {
  if (format === 'slack') {
    const link = f.preview?.url ?? f.release?.url ?? f.pipeline?.url ?? f.build?.url;
    return JSON.stringify({ text: link ? `${sentence(f)} <${link}>` : sentence(f) });
  }
  return JSON.stringify({ event: f.event, app: f.app, occurredAt: f.occurredAt.toISOString(), summary: sentence(f), build: f.build ?? null, release: f.release ?? null, pipeline: f.pipeline ?? null, ...(f.preview ? { preview: f.preview } : {}) });
}

/** The `X-Solum-Signature-256` header value for a body: `sha256=` and the hex HMAC. Pure. */
export const signatureOf = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** When attempt `attempts + 1` is due after `attempts` failed ones: doubling from `baseMs`, at most an hour. Pure. */
export function retryDelayMs(attempts: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 60 * 60 * 1000);
}
