// Deploy notifications: webhook URLs an app's admins (or the installation's admins, for every app)
// subscribe to build, release and pipeline events; each delivery is signed and logged.
import { z } from 'zod';
import type { Delivery, Subscription } from '../db/notification-store.js';
import type { Notifier } from '../notifications/notifier.js';
import { defineOperation, flag, positiveInt } from './operation.js';
import { table, when } from './text.js';

interface Deps {
  readonly notifier: Notifier;
}

export const subscriptionView = (s: Subscription) => ({ id: s.id, url: s.url, format: s.format, events: [...s.events], createdBy: s.createdBy, createdAt: s.createdAt.toISOString() });
export const deliveryView = (d: Delivery) => ({
  id: d.id,
  event: d.event,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  createdAt: d.createdAt.toISOString(),
  deliveredAt: d.deliveredAt?.toISOString() ?? null,
});

const id = positiveInt('notification IDs are positive integers');
const addInput = z.object({ app: z.string(), url: z.string().max(2048), slack: flag(), events: z.union([z.string().max(500), z.array(z.string()).max(20)]).optional() }).strict();

const created = (r: { subscription: Subscription; secret: string }) => ({ ...subscriptionView(r.subscription), secret: r.secret });
const createdText = (s: ReturnType<typeof created>) =>
  `notification ${s.id}: ${s.url} (${s.format}; ${s.events.join(', ')})\nsigning secret (shown once): ${s.secret}\nreceivers check X-Solum-Signature-256: sha256=HMAC-SHA256(secret, body)\n`;
const listText = (list: Array<ReturnType<typeof subscriptionView>>) =>
  list.length === 0 ? 'no notifications\n' : table([['ID', 'URL', 'FORMAT', 'EVENTS', 'CREATED'], ...list.map((s) => [String(s.id), s.url, s.format, s.events.join(','), when(s.createdAt)])]);
const deliveriesText = (list: Array<ReturnType<typeof deliveryView>>) =>
  list.length === 0
    ? 'no deliveries\n'
    : table([['ID', 'EVENT', 'STATUS', 'ATTEMPTS', 'LAST', 'CREATED'], ...list.map((d) => [String(d.id), d.event, d.status, String(d.attempts), d.lastStatusCode === null ? (d.lastError ?? '-') : String(d.lastStatusCode), when(d.createdAt)])]);

export const addNotification = defineOperation(
  {
    name: 'notifications:add',
    summary: "Send the app's build, release and pipeline events to a URL, signed (--slack: Slack-compatible payloads)",
    access: { app: 'admin' },
    input: addInput,
    http: { method: 'POST', path: '/v1/apps/:app/notifications', status: 201, body: 'fields' },
    ssh: { usage: 'notifications:add APP URL [--slack] [--events build.failed,release.live]', args: ['app', 'url'], switches: { '--slack': 'slack' }, options: { '--events': 'events' } },
  },
  (d: Deps) => ({
    run: async (actor, i) => created(await d.notifier.subscribe(actor, i.app, { url: i.url, format: i.slack ? 'slack' : 'json', events: i.events })),
    text: createdText,
  }),
);

export const listNotifications = defineOperation(
  {
    name: 'notifications',
    summary: "The app's notification URLs",
    access: { app: 'admin' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/notifications' },
    ssh: { usage: 'notifications APP', args: ['app'] },
  },
  (d: Deps) => ({ run: async (actor, i) => (await d.notifier.list(actor, i.app)).map(subscriptionView), text: listText }),
);

export const removeNotification = defineOperation(
  {
    name: 'notifications:remove',
    summary: 'Stop sending to a notification URL (its delivery log goes with it)',
    access: { app: 'admin' },
    input: z.object({ app: z.string(), id }),
    http: { method: 'DELETE', path: '/v1/apps/:app/notifications/:id', status: 204 },
    ssh: { usage: 'notifications:remove APP ID', args: ['app', 'id'] },
  },
  (d: Deps) => ({ run: async (actor, i) => { await d.notifier.remove(actor, i.app, i.id); }, text: (_r, i) => `removed notification ${i.id}\n` }),
);

export const notificationDeliveries = defineOperation(
  {
    name: 'notifications:deliveries',
    summary: "A notification URL's last 100 deliveries: status, attempts, the receiver's answer",
    access: { app: 'admin' },
    input: z.object({ app: z.string(), id }),
    http: { method: 'GET', path: '/v1/apps/:app/notifications/:id/deliveries' },
    ssh: { usage: 'notifications:deliveries APP ID', args: ['app', 'id'] },
  },
  (d: Deps) => ({ run: async (actor, i) => (await d.notifier.deliveries(actor, i.app, i.id)).map(deliveryView), text: deliveriesText }),
);

export const addInstallationNotification = defineOperation(
  {
    name: 'notifications:add-all',
    summary: "Send every app's events to a URL (admins)",
    access: 'admin',
    input: addInput.omit({ app: true }),
    http: { method: 'POST', path: '/v1/notifications', status: 201, body: 'fields' },
    ssh: { usage: 'notifications:add-all URL [--slack] [--events …]', args: ['url'], switches: { '--slack': 'slack' }, options: { '--events': 'events' } },
  },
  (d: Deps) => ({
    run: async (actor, i) => created(await d.notifier.subscribe(actor, null, { url: i.url, format: i.slack ? 'slack' : 'json', events: i.events })),
    text: createdText,
  }),
);

export const listInstallationNotifications = defineOperation(
  {
    name: 'notifications:all',
    summary: "The installation's notification URLs (admins)",
    access: 'admin',
    input: z.object({}),
    http: { method: 'GET', path: '/v1/notifications' },
    ssh: { usage: 'notifications:all' },
  },
  (d: Deps) => ({ run: async (actor) => (await d.notifier.list(actor, null)).map(subscriptionView), text: listText }),
);

export const removeInstallationNotification = defineOperation(
  {
    name: 'notifications:remove-all',
    summary: "Stop sending to one of the installation's notification URLs (admins)",
    access: 'admin',
    input: z.object({ id }),
    http: { method: 'DELETE', path: '/v1/notifications/:id', status: 204 },
    ssh: { usage: 'notifications:remove-all ID', args: ['id'] },
  },
  (d: Deps) => ({ run: async (actor, i) => { await d.notifier.remove(actor, null, i.id); }, text: (_r, i) => `removed notification ${i.id}\n` }),
);

export const notificationOperations = [addNotification, listNotifications, removeNotification, notificationDeliveries, addInstallationNotification, listInstallationNotifications, removeInstallationNotification];
