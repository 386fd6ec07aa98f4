// Scheduled jobs on both databases: slots claimed once however many schedulers look, overlaps
// skipped and counted, and a scheduler that starts again (a Solum restart) neither loses nor doubles
// a run that was due. The scheduler runs here with the real store and a clock of the test's; its
// containers are the test's (the end-to-end tests run real ones).
import { PassThrough } from 'node:stream';
import test from 'ava';
import type { AppService } from '../../src/apps/app-service.js';
import type { JobOutcome } from '../../src/containers/containers.js';
import { createAppStore } from '../../src/db/app-store.js';
import { createCronStore } from '../../src/db/cron-store.js';
import type { Release } from '../../src/db/release-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { createCronScheduler } from '../../src/deploy/cron-scheduler.js';
import type { OneOffRequest, OneOffs } from '../../src/deploy/one-off.js';
import { createRunQuota } from '../../src/deploy/run-service.js';
import type { DeployTarget } from '../../src/deploy/target.js';
import { createLogger } from '../../src/logger.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { created, databaseKinds, openTestDatabase as open } from '../support/database.js';

const at = (hhmmss: string): Date => new Date(`2026-03-10T${hhmmss}.000Z`);

for (const kind of databaseKinds) {
  test(`cron store: sync keeps unchanged jobs, claims are conditional, a run ends once [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const owner = await created(createUserStore(db.knex).createUser(parseUserName('owner'), false));
    const { app } = await createAppStore(db.knex).createApp(parseAppName('hello'), owner.id);
    const cron = createCronStore(db.knex);
    const slot = () => at('10:00:00');
    const [job] = await cron.sync(app.id, [{ job: 'tick', schedule: '*/5 * * * *', command: 'echo', zone: 'UTC' }], slot);
    t.like(job, { job: 'tick', lastSlot: at('10:00:00'), runningSince: null, runs: 0, skipped: 0 });

    // Two claims of one slot from the same last slot: one runs, the other finds it taken.
    const claims = await Promise.all([cron.claimSlot(job!.id, at('10:00:00'), at('10:05:00'), 'r1'), cron.claimSlot(job!.id, at('10:00:00'), at('10:05:00'), 'r2')]);
    t.deepEqual([...claims].sort(), ['run', 'taken']);
    const winner = claims[0] === 'run' ? 'r1' : 'r2';
    // The next slot while it runs: skipped and counted, and the slot is used up.
    t.is(await cron.claimSlot(job!.id, at('10:05:00'), at('10:10:00'), 'r3'), 'skipped');
    t.is(await cron.claimSlot(job!.id, at('10:05:00'), at('10:10:00'), 'r4'), 'taken');
    t.false(await cron.claimNow(job!.id, 'r5'), 'a run by hand is refused while one goes on');
    t.like(await cron.get(job!.id), { lastSlot: at('10:10:00'), runId: winner, skipped: 2 });
    t.false(await cron.finish(job!.id, 'r3', 0), 'only the run that goes on can end');
    t.true(await cron.finish(job!.id, winner, 3));
    t.false(await cron.finish(job!.id, winner, 3), 'a run ends once');
    t.like(await cron.get(job!.id), { runningSince: null, runs: 1, lastExitCode: 3 });
    t.true(await cron.claimNow(job!.id, 'r6'));
    t.true(await cron.finish(job!.id, 'r6', 0));

    // Sync again: an unchanged job keeps its state, a changed one starts over, a gone one goes.
    const again = await cron.sync(app.id, [{ job: 'tick', schedule: '*/5 * * * *', command: 'echo', zone: 'UTC' }, { job: 'new', schedule: '@daily', command: 'x', zone: 'Europe/Berlin' }], () => at('11:00:00'));
    t.like(again.find((j) => j.job === 'tick'), { lastSlot: at('10:10:00'), runs: 2, skipped: 2 });
    t.like(again.find((j) => j.job === 'new'), { lastSlot: at('11:00:00'), zone: 'Europe/Berlin', runs: 0 });
    const changed = await cron.sync(app.id, [{ job: 'tick', schedule: '*/10 * * * *', command: 'echo', zone: 'UTC' }], () => at('12:00:00'));
    t.is(changed.length, 1);
    t.like(changed[0], { schedule: '*/10 * * * *', lastSlot: at('12:00:00') });
    t.deepEqual(await cron.sync(app.id, [], slot), []);
  });

  test(`cron scheduler: a slot runs once across schedulers; overlaps are skipped; a restart neither loses nor doubles a due run [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const owner = await created(createUserStore(db.knex).createUser(parseUserName('owner'), false));
    const apps = createAppStore(db.knex);
    const { app } = await apps.createApp(parseAppName('hello'), owner.id);
    const store = createCronStore(db.knex);
    const release = { id: 1, version: 4, duId: 'sha256:du', config: {} } as unknown as Release;
    const target = { key: `app-${app.id}`, name: app.name, app, environment: undefined, releases: { isStopped: () => Promise.resolve(false), activeRelease: () => Promise.resolve(release) } } as unknown as DeployTarget;

    // Runs the schedulers started: each ends when the test says.
    const started: Array<{ request: OneOffRequest; end: (o: JobOutcome) => void }> = [];
    const oneOffs: OneOffs = {
      start(_target, r, request) {
        t.is(r.version, 4, 'a job runs in the live release');
        let end!: (o: JobOutcome) => void;
        const finished = new Promise<JobOutcome>((resolve) => { end = resolve; });
        started.push({ request, end });
        return Promise.resolve({ containerId: `c${started.length}`, resize: () => undefined, done: finished });
      },
      recover: () => Promise.resolve(),
    };
    /** What Docker says of kept containers: the test's (a run from before a restart). */
    const exited = new Map<string, number>();
    const containers = {
      list: (labels: Record<string, string>) => Promise.resolve([...exited.keys()].filter((run) => labels['io.solum.cron-run'] === run).map((run) => ({ id: `kept-${run}`, labels: { 'io.solum.cron-run': run } }))),
      inspect: (id: string) => Promise.resolve({ running: false, exitCode: exited.get(id.replace(/^kept-/, '')) ?? 0 }),
      remove: () => Promise.resolve(),
    };
    let now = at('10:02:00');
    const scheduler = () =>
      createCronScheduler({
        store,
        apps: { require: () => Promise.resolve({ app }) } as unknown as AppService,
        appById: (id) => apps.findAppById(id),
        targets: { ofApp: () => target },
        containers: containers as never,
        oneOffs,
        quota: createRunQuota(3),
        timeoutMs: 60_000,
        tickMs: 60_000,
        logger: createLogger('silent', new PassThrough()),
        now: () => now,
      });
    const settle = () => new Promise((r) => setTimeout(r, 50));
    const jobRow = async () => (await store.listOfApp(app.id))[0]!;

    const a = scheduler();
    const b = scheduler();
    const lines: string[] = [];
    await a.sync(target, release, { env: {}, cron: [{ id: 'tick', schedule: '*/5 * * * *', command: 'echo tick' }] }, (l) => lines.push(l));
    t.deepEqual(lines, ['-----> Scheduled jobs (UTC): tick "*/5 * * * *" next 2026-03-10T10:05:00.000Z']);
    // Nothing from before the job existed runs.
    await Promise.all([a.tick(), b.tick()]);
    t.is(started.length, 0);

    // 10:05 is due: two schedulers on one database start it once.
    now = at('10:05:01');
    await Promise.all([a.tick(), b.tick()]);
    await settle();
    t.is(started.length, 1);
    t.like(started[0]?.request, { kind: 'cron', command: 'echo tick', process: 'cron.tick', keep: true });

    // 10:10 comes while it still runs: skipped and counted, nothing started.
    now = at('10:10:02');
    await Promise.all([a.tick(), b.tick()]);
    await settle();
    t.is(started.length, 1);
    t.like(await jobRow(), { skipped: 1, runs: 0 });
    started[0]?.end({ exitCode: 0, oomKilled: false, timedOut: false, aborted: false });
    await settle();
    t.like(await jobRow(), { runningSince: null, runs: 1, lastExitCode: 0 });
    t.deepEqual((await a.list(null, 'hello')).map((j) => [j.job, j.nextAt?.toISOString()]), [['tick', '2026-03-10T10:15:00.000Z']]);

    // Solum stops at 10:13 and starts again at 10:22: the 10:20 slot that is due runs once (the
    // earlier missed ones are not all made up), and later looks at the same time run nothing more.
    await a.stop();
    await b.stop();
    now = at('10:22:00');
    const c = scheduler();
    await c.tick();
    await settle();
    t.is(started.length, 2, 'the run that was due is not lost');
    await c.tick();
    const d2 = scheduler();
    await d2.tick();
    await settle();
    t.is(started.length, 2, 'nor doubled by a second look or a second scheduler');
    t.like(await jobRow(), { lastSlot: at('10:20:00') });

    // That run is going when Solum stops; its container exits with 4 meanwhile. The next Solum
    // records the end from Docker and then runs the next slot as usual.
    const runId = (await jobRow()).runId ?? '';
    exited.set(runId, 4);
    await c.stop();
    await d2.stop();
    now = at('10:25:03');
    const e = scheduler();
    await e.tick();
    await settle();
    t.like((await store.listOfApp(app.id))[0], { runs: 2, lastExitCode: 4, lastSlot: at('10:25:00') });
    t.is(started.length, 3);
    started[2]?.end({ exitCode: 0, oomKilled: false, timedOut: false, aborted: false });
    await settle();

    // cron:run: now, outside the schedule; refused while a run goes on.
    const byHand = e.runNow({ id: owner.id, name: owner.name, isAdmin: false, createdAt: new Date() }, 'hello', 'tick');
    await settle();
    t.is(started.length, 4);
    await t.throwsAsync(e.runNow({ id: owner.id, name: owner.name, isAdmin: false, createdAt: new Date() }, 'hello', 'tick'), { message: /is running .*this run is skipped/ });
    started[3]?.end({ exitCode: 2, oomKilled: false, timedOut: false, aborted: false });
    t.like(await byHand, { job: 'tick', exitCode: 2, error: 'cron job tick exited with status 2' });
    await t.throwsAsync(e.runNow({ id: owner.id, name: owner.name, isAdmin: false, createdAt: new Date() }, 'hello', 'nosuch'), { message: /has no scheduled job "nosuch" \(its jobs: tick\)/ });
    await e.stop();
  });
}
