// Deploy-notification subscriptions (per app, or the installation's when appId is null) and their
// delivery log: each event to each subscriber is one delivery, retried until it lands or gives up.
import type { Knex } from 'knex';

export type NotificationFormat = 'json' | 'slack';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Subscription {
  readonly id: number;
  readonly appId: number | null;
  readonly url: string;
  readonly secret: string;
  readonly format: NotificationFormat;
  /** Event names, or ['*'] for every event. */
  readonly events: readonly string[];
  readonly allowLocal: boolean;
  readonly createdBy: string | null;
  readonly createdAt: Date;
}

export interface Delivery {
  readonly id: number;
  readonly subscriptionId: number;
  readonly event: string;
  readonly payload: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly nextAttemptAt: Date;
  readonly createdAt: Date;
  readonly deliveredAt: Date | null;
}

export interface NotificationStore {
  subscribe(input: { appId: number | null; url: string; secret: string; format: NotificationFormat; events: readonly string[]; allowLocal: boolean; createdBy: string | null }): Promise<Subscription>;
  /** The app's subscriptions (null: the installation's). */
  list(appId: number | null): Promise<Subscription[]>;
  get(id: number): Promise<Subscription | undefined>;
  remove(id: number): Promise<boolean>;
  /** Subscriptions an event of the app reaches: the app's and the installation's. */
  reaching(appId: number, event: string): Promise<Subscription[]>;
  enqueue(subscriptionId: number, event: string, payload: string): Promise<void>;
  /** Pending deliveries due by `now`, oldest first. */
  due(now: Date, limit: number): Promise<Delivery[]>;
  recordAttempt(id: number, outcome: { status: DeliveryStatus; statusCode: number | null; error: string | null; nextAttemptAt: Date | null }): Promise<void>;
  deliveries(subscriptionId: number, limit: number): Promise<Delivery[]>;
}

interface SubscriptionRow {
  id: number;
  app_id: number | null;
  url: string;
  secret: string;
  format: NotificationFormat;
  events: string;
  allow_local: boolean;
  created_by: string | null;
  created_at: Date | string;
}

interface DeliveryRow {
  id: number;
  subscription_id: number;
  event: string;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | string;
  created_at: Date | string;
  delivered_at: Date | string | null;
}

const subscription = (r: SubscriptionRow): Subscription => ({
  id: r.id,
  appId: r.app_id,
  url: r.url,
  secret: r.secret,
  format: r.format,
  events: r.events.split(','),
  allowLocal: r.allow_local,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
});

const delivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  event: r.event,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  nextAttemptAt: new Date(r.next_attempt_at),
  createdAt: new Date(r.created_at),
  deliveredAt: r.delivered_at === null ? null : new Date(r.delivered_at),
});

export function createNotificationStore(knex: Knex): NotificationStore {
  const subs = () => knex<SubscriptionRow>('notification_subscriptions');
  const deliveries = () => knex<DeliveryRow>('notification_deliveries');
  return {
    async subscribe(input) {
      const [row] = await subs()
        .insert({ app_id: input.appId, url: input.url, secret: input.secret, format: input.format, events: input.events.join(','), allow_local: input.allowLocal, created_by: input.createdBy })
        .returning('*');
      return subscription(row as SubscriptionRow);
    },
    async list(appId) {
      const q = subs().orderBy('id');
      return (await (appId === null ? q.whereNull('app_id') : q.where({ app_id: appId }))).map(subscription);
    },
    async get(id) {
      const row = await subs().where({ id }).first();
      return row ? subscription(row) : undefined;
    },
    async remove(id) {
      return (await subs().where({ id }).delete()) > 0;
    },
    async reaching(appId, event) {
      const rows = await subs().where({ app_id: appId }).orWhereNull('app_id').orderBy('id');
      return rows.map(subscription).filter((s) => s.events.includes('*') || s.events.includes(event));
    },
    async enqueue(subscriptionId, event, payload) {
      // Due at once by the notifier's clock. The column's default, the database's now(), carries
      // microseconds a JavaScript Date does not, so a delivery asked for within the same
      // millisecond would otherwise look not yet due.
      await deliveries().insert({ subscription_id: subscriptionId, event, payload, next_attempt_at: new Date() });
    },
    async due(now, limit) {
      return (await deliveries().where({ status: 'pending' }).andWhere('next_attempt_at', '<=', now).orderBy('id').limit(limit)).map(delivery);
    },
    async recordAttempt(id, o) {
      const row: Record<string, unknown> = { status: o.status, last_status_code: o.statusCode, last_error: o.error, attempts: knex.raw('attempts + 1') };
      if (o.nextAttemptAt) row.next_attempt_at = o.nextAttemptAt;
      if (o.status === 'delivered') row.delivered_at = knex.fn.now();
      await deliveries().where({ id }).update(row);
    },
    async deliveries(subscriptionId, limit) {
      return (await deliveries().where({ subscription_id: subscriptionId }).orderBy('id', 'desc').limit(limit)).map(delivery);
    },
  };
}
