// Deploy notifications: app admins (and installation admins, for every app) subscribe a URL to
// build, release and pipeline events; each event becomes one signed delivery per subscriber, sent in
// the background and retried with backoff, every attempt kept in the delivery log. A receiver never
// slows a build or a release: sending is decoupled from them, bounded in time, one batch at a time.
import { randomBytes } from 'node:crypto';
import type { AppService } from '../apps/app-service.js';
import type { Delivery, NotificationFormat, NotificationStore, Subscription } from '../db/notification-store.js';
import type { User } from '../db/user-store.js';
import { badRequest, forbidden, notFound, unauthenticated } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkOutboundUrl, postJson } from '../outbound-url.js';
import { parseEventList, payloadOf, retryDelayMs, signatureOf, type NotificationFacts } from './payloads.js';

export interface Notifier {
  /** A new subscription and its signing secret (shown this once). `app` null: every app's events (admins). */
  subscribe(actor: User | null, app: string | null, input: { url: string; format?: NotificationFormat | undefined; events?: string | readonly string[] | undefined }): Promise<{ subscription: Subscription; secret: string }>;
  list(actor: User | null, app: string | null): Promise<Subscription[]>;
  remove(actor: User | null, app: string | null, id: number): Promise<void>;
  deliveries(actor: User | null, app: string | null, id: number): Promise<Delivery[]>;
  /** Queues the event for every subscription it reaches; never throws. */
  notify(appId: number, facts: NotificationFacts): Promise<void>;
  start(): void;
  stop(): Promise<void>;
  /** Sends what is due now (the loop does this every second). */
  sendDue(): Promise<number>;
}

export const MAX_SUBSCRIPTIONS = 20;

export function createNotifier(deps: {
  store: NotificationStore;
  apps: AppService;
  logger: Logger;
  /** The first retry's delay; each one after doubles it. */
  retryBaseMs: number;
  /** Attempts before a delivery is marked failed. */
  maxAttempts: number;
  timeoutMs?: number;
  now?: () => Date;
}): Notifier {
  const log = deps.logger.child({ component: 'notifications' });
  const now = deps.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  /** The app's ID the caller may manage subscriptions of (null: the installation's, admins only). */
  const scope = async (actor: User | null, app: string | null): Promise<number | null> => {
    if (!actor) throw unauthenticated('authentication required');
    if (app === null) {
      if (!actor.isAdmin) throw forbidden("the installation's notifications are for admins");
      return null;
    }
    return (await deps.apps.require(actor, app, 'admin')).app.id;
  };
  const owned = async (actor: User | null, app: string | null, id: number): Promise<Subscription> => {
    const appId = await scope(actor, app);
    const s = await deps.store.get(id);
    if (!s || s.appId !== appId) throw notFound(`notification ${id} does not exist`);
    return s;
  };

  const send = async (d: Delivery, s: Subscription): Promise<void> => {
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      statusCode = await postJson(
        new URL(s.url),
        d.payload,
        { 'content-type': 'application/json', 'user-agent': 'Solum-Notifications', 'x-solum-event': d.event, 'x-solum-delivery': String(d.id), 'x-solum-signature-256': signatureOf(s.secret, d.payload) },
        s.allowLocal,
        deps.timeoutMs ?? 10_000,
      );
      if (statusCode < 200 || statusCode > 299) error = `the receiver answered ${statusCode}`;
    } catch (err) {
      error = (err as Error).message.slice(0, 300);
    }
    const attempts = d.attempts + 1;
    if (error === null) {
      await deps.store.recordAttempt(d.id, { status: 'delivered', statusCode, error: null, nextAttemptAt: null });
      return;
    }
    const givenUp = attempts >= deps.maxAttempts;
    log.info({ delivery: d.id, subscription: s.id, event: d.event, attempts, statusCode, error, givenUp }, 'a notification was not delivered');
    await deps.store.recordAttempt(d.id, { status: givenUp ? 'failed' : 'pending', statusCode, error, nextAttemptAt: givenUp ? null : new Date(now().getTime() + retryDelayMs(attempts, deps.retryBaseMs)) });
  };

  const sendDue = async (): Promise<number> => {
    const due = await deps.store.due(now(), 50);
    // A batch often holds several deliveries to one subscriber: each subscription is read once.
    const subscriptions = new Map<number, Promise<Subscription | undefined>>();
    for (const d of due) if (!subscriptions.has(d.subscriptionId)) subscriptions.set(d.subscriptionId, deps.store.get(d.subscriptionId));
    await Promise.all(
      due.map(async (d) => {
        const s = await subscriptions.get(d.subscriptionId);
        if (s) await send(d, s);
      }),
    );
    return due.length;
  };
  const tick = (): void => {
    if (running) return;
    running = sendDue().catch((err: unknown) => {
      log.error({ err }, 'sending notifications failed');
      return 0;
    });
    void running.finally(() => { running = undefined; });
  };

  return {
    async subscribe(actor, app, input) {
      const appId = await scope(actor, app);
      // Admins may notify a receiver on this machine; nobody else may aim Solum's requests at it.
      const url = checkOutboundUrl(input.url, 'the notification URL', actor?.isAdmin ?? false);
      if (url.username || url.password) throw badRequest('put no credentials in the notification URL: receivers check the signature');
      const events = parseEventList(input.events);
      if ((await deps.store.list(appId)).length >= MAX_SUBSCRIPTIONS) throw badRequest(`at most ${MAX_SUBSCRIPTIONS} notification URLs per app`);
      const secret = randomBytes(24).toString('hex');
      const subscription = await deps.store.subscribe({ appId, url: url.toString(), secret, format: input.format ?? 'json', events, allowLocal: actor?.isAdmin ?? false, createdBy: actor?.name ?? null });
      return { subscription, secret };
    },
    async list(actor, app) {
      return deps.store.list(await scope(actor, app));
    },
    async remove(actor, app, id) {
      await deps.store.remove((await owned(actor, app, id)).id);
    },
    async deliveries(actor, app, id) {
      return deps.store.deliveries((await owned(actor, app, id)).id, 100);
    },
    async notify(appId, facts) {
      try {
        for (const s of await deps.store.reaching(appId, facts.event)) await deps.store.enqueue(s.id, facts.event, payloadOf(facts, s.format));
        tick();
      } catch (err) {
        log.error({ err, app: facts.app, event: facts.event }, 'queueing a notification failed');
      }
    },
    start() {
      timer ??= setInterval(tick, 1000);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
    sendDue,
  };
}
