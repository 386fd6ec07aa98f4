// Deploy notifications end to end: a push's build and release reach a receiver in the test as
// signed JSON (and Slack-compatible text), a receiver that fails is retried with backoff, and every
// attempt is in the delivery log. An owner who is not an admin cannot aim them at this machine.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { okWebServer, solumWithApp, waitFor } from '../support/fixtures.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { databaseKinds } from '../support/database.js';
import { snapshot } from '../support/snapshot.js';
import { createUser } from '../support/users.js';

interface Received {
  readonly path: string;
  readonly event: string;
  readonly signature: string;
  readonly body: string;
}

for (const database of databaseKinds) {
  test.serial(`builds and releases reach subscribers signed; failures are retried and logged; Slack payloads [${database}]`, async (t) => {
    const { solum, app } = await solumWithApp(t, 'notify', { database, env: { SOLUM_NOTIFY_RETRY_SECONDS: '0.3', SOLUM_NOTIFY_ATTEMPTS: '4' } });
    const received: Received[] = [];
    let failuresLeft = 2;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        // The JSON subscriber's receiver is down for its first two attempts.
        if (req.url === '/json' && failuresLeft > 0) {
          failuresLeft--;
          res.writeHead(503).end();
          return;
        }
        received.push({ path: req.url ?? '', event: String(req.headers['x-solum-event']), signature: String(req.headers['x-solum-signature-256']), body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => receiver.close(() => { resolve(); })));
    const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

    t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
    // Attack: an app owner who is not an admin aims notifications at a service on this machine.
    const bob = await createUser(solum, 'bob');
    t.is((await solum.api('POST', '/v1/apps', { name: `${app}-b` }, bob.token)).status, 201);
    const before = await snapshot(solum);
    const refused = await solum.api('POST', `/v1/apps/${app}-b/notifications`, { url: `${base}/json` }, bob.token);
    t.is(refused.status, 400);
    t.regex(refused.text, /may not point at this machine/);
    t.is((await solum.api('POST', `/v1/apps/${app}/notifications`, { url: 'https://hooks.example/x' }, bob.token)).status, 404, "nor touch another tenant's app");
    t.is(await snapshot(solum), before);

    const json = await solum.api('POST', `/v1/apps/${app}/notifications`, { url: `${base}/json`, events: 'build.started,build.succeeded,build.failed,release.live' });
    t.is(json.status, 201, json.text);
    const { id, secret } = json.json as { id: number; secret: string };
    t.regex(secret, /^[0-9a-f]{48}$/);
    t.is((await solum.api('POST', `/v1/apps/${app}/notifications`, { url: `${base}/slack`, slack: true, events: ['release.live'] })).status, 201);
    t.false((await solum.api('GET', `/v1/apps/${app}/notifications`)).text.includes(secret), 'the secret is shown once');

    const client = await gitClient(solum, 'http');
    const repo = await makeRepo({ Procfile: 'web: sh ./serve.sh\n', 'serve.sh': okWebServer, 'build.sh': 'echo built\n' });
    t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
    await writeAndCommit(repo, { 'build.sh': 'exit 1\n' }, 'broken');
    t.not((await client.git(['push', client.url(app), 'main'], repo)).code, 0);

    const jsonEvents = await waitFor('five JSON deliveries', () => {
      const got = received.filter((r) => r.path === '/json');
      return Promise.resolve(got.length >= 5 ? got : undefined);
    });
    t.deepEqual(jsonEvents.map((r) => r.event).sort(), ['build.failed', 'build.started', 'build.started', 'build.succeeded', 'release.live']);
    for (const r of jsonEvents) {
      t.is(r.signature, `sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`, 'signed with the subscription secret');
      const doc = JSON.parse(r.body) as { event: string; app: string };
      t.is(doc.event, r.event);
      t.is(doc.app, app);
    }
    const live = JSON.parse(jsonEvents.find((r) => r.event === 'release.live')!.body) as { release: { version: number; url: string } };
    t.is(live.release.version, 1);
    const slack = await waitFor('the Slack delivery', () => Promise.resolve(received.find((r) => r.path === '/slack')));
    t.regex((JSON.parse(slack.body) as { text: string }).text, new RegExp(`^${app}: v1 is live <http://\\S+>$`));

    // The first delivery was refused twice, then landed: the log says so.
    const log = await waitFor('the delivery log', async () => {
      const list = (await solum.api('GET', `/v1/apps/${app}/notifications/${id}/deliveries`)).json as Array<{ status: string; attempts: number; lastStatusCode: number }>;
      return list.length >= 5 && list.every((d) => d.status === 'delivered') ? list : undefined;
    });
    t.true(log.some((d) => d.attempts === 3), 'one delivery took three attempts');
    t.true(log.every((d) => d.lastStatusCode === 204));
    t.is((await solum.api('DELETE', `/v1/apps/${app}/notifications/${id}`, undefined, bob.token)).status, 404);
    t.is((await solum.api('DELETE', `/v1/apps/${app}/notifications/${id}`)).status, 204);
  });
}
