// The preview reconciler (decision 0020): compares what should exist (the previews' rows) with what
// Docker and the router hold under preview target keys, and removes what a doomed preview, or a
// preview the database no longer has, still holds — processes, router entry, service instances,
// network, then its rows, and the DUs beyond retention. Idle previews past their TTL are doomed
// first. Runs at start, periodically, and when kicked; passes never overlap, and a pass cut short
// (a crash) leaves a state the next one finishes.
import { createWakeableSleep } from '../build/queue/wakeable-sleep.js';
import type { Containers } from '../containers/containers.js';
import { LABEL } from '../containers/labels.js';
import type { Preview, PreviewStore } from '../db/preview-store.js';
import type { Deployer } from '../deploy/deployer.js';
import type { Router } from '../deploy/router.js';
import type { Logger } from '../logger.js';
import type { NotificationFacts } from '../notifications/payloads.js';
import { planReconcile, previewIdOfKey, previewTargetKey, type ActualPreview, type ReconcileAction } from './preview-rules.js';

export interface PreviewReconciler {
  /** One pass, after those already running or asked for. */
  reconcile(): Promise<void>;
  /** Asks for a pass soon, without waiting for it. */
  kick(): void;
  /** The first pass, then the loop. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createPreviewReconciler(d: {
  store: PreviewStore;
  containers: Containers;
  deployer: Pick<Deployer, 'stopAll'>;
  router: Pick<Router, 'keys' | 'forget'>;
  /** Removes one of a preview's service instances (its container, network and volume) and its record; gone already is fine. */
  removeService?: (service: string) => Promise<void>;
  /** Removes DUs beyond retention (those the removed previews' releases held). */
  sweepDus: () => Promise<unknown>;
  notify: (appId: number, facts: NotificationFacts) => Promise<void>;
  appName: (appId: number) => Promise<string | undefined>;
  url: (routerName: string) => string;
  intervalMs: number;
  logger: Logger;
  now?: () => Date;
}): PreviewReconciler {
  const log = d.logger.child({ component: 'preview-reconciler' });
  const pause = createWakeableSleep();
  let tail: Promise<void> = Promise.resolve();
  let stopping = false;
  /** A pass was asked for while one ran (or before the loop slept): the loop runs again at once. */
  let asked = false;
  let loop: Promise<void> | undefined;

  /** What Docker and the router hold, per preview ID. */
  const actualState = async (): Promise<ActualPreview[]> => {
    const byId = new Map<number, { processes: number; network: boolean; routed: boolean; services: Set<string> }>();
    const entry = (id: number): { processes: number; network: boolean; routed: boolean; services: Set<string> } => {
      let e = byId.get(id);
      if (!e) byId.set(id, (e = { processes: 0, network: false, routed: false, services: new Set() }));
      return e;
    };
    for (const role of ['process', 'one-off'] as const) {
      for (const c of await d.containers.list({ [LABEL.role]: role })) {
        const id = previewIdOfKey(c.labels[LABEL.target] ?? '');
        if (id !== undefined) entry(id).processes++;
      }
    }
    for (const n of await d.containers.networks.targetNetworks()) {
      const id = previewIdOfKey(n.key);
      if (id !== undefined) entry(id).network = true;
    }
    // A preview's service instances by the target label on their data volumes (made for it, for good).
    for (const v of await d.containers.listVolumes({ [LABEL.role]: 'service-data' })) {
      const id = previewIdOfKey(v.labels[LABEL.target] ?? '');
      const service = v.labels[LABEL.service];
      if (id !== undefined && service) entry(id).services.add(service);
    }
    for (const key of d.router.keys()) {
      const id = previewIdOfKey(key);
      if (id !== undefined) entry(id).routed = true;
    }
    return [...byId].map(([id, e]) => ({ id, processes: e.processes, network: e.network, routed: e.routed, services: [...e.services] }));
  };

  const apply = async (a: ReconcileAction, row: Preview | undefined): Promise<void> => {
    const key = previewTargetKey(a.id);
    switch (a.kind) {
      case 'stop-processes':
        await d.deployer.stopAll({ key, name: row?.routerName ?? key });
        for (const c of await d.containers.list({ [LABEL.role]: 'one-off', [LABEL.target]: key })) await d.containers.remove(c.id);
        return;
      case 'unroute':
        await d.router.forget(key);
        return;
      case 'remove-service':
        if (!d.removeService) throw new Error(`no way to remove service ${a.service}`);
        await d.removeService(a.service);
        await d.store.removeService(a.id, a.service);
        return;
      case 'remove-network':
        await d.containers.networks.removeTarget(key);
        return;
      case 'remove-rows':
        await d.store.remove(a.id);
        return;
    }
  };

  const once = async (): Promise<void> => {
    const now = d.now?.() ?? new Date();
    for (const p of await d.store.idle(now)) if (await d.store.doom(p.id)) log.info({ preview: p.name, id: p.id }, 'preview idle past its TTL: doomed');
    const rows = await d.store.everything();
    const byId = new Map(rows.map((p) => [p.id, p]));
    const desired = [];
    for (const p of rows) desired.push({ id: p.id, state: p.state, serviceNames: (await d.store.services(p.id)).map((s) => s.service) });
    const plan = planReconcile(desired, await actualState());
    if (plan.length === 0) return;
    const failed = new Set<number>();
    const removed: Preview[] = [];
    for (const a of plan) {
      // A step that failed leaves the preview's later steps to the next pass: its rows stay until all else is gone.
      if (failed.has(a.id)) continue;
      const row = byId.get(a.id);
      try {
        if (a.kind === 'stop-processes') log.info({ id: a.id, preview: row?.name }, 'tearing down a preview');
        await apply(a, row);
        if (a.kind === 'remove-rows' && row) removed.push(row);
      } catch (err) {
        failed.add(a.id);
        log.error({ err, id: a.id, action: a.kind }, 'a preview teardown step failed: the next pass tries again');
      }
    }
    for (const p of removed) {
      log.info({ id: p.id, preview: p.name }, 'preview torn down');
      const app = await d.appName(p.appId);
      if (app) void d.notify(p.appId, { event: 'preview.down', app, occurredAt: new Date(), preview: { name: p.name, branch: p.branch, url: d.url(p.routerName) } });
    }
    if (removed.length > 0) await d.sweepDus().catch((err: unknown) => { log.error({ err }, 'removing torn-down previews\' DUs failed'); });
  };

  const reconcile = (): Promise<void> => {
    const run = tail.then(once, once);
    tail = run.catch((err: unknown) => { log.error({ err }, 'reconciling previews failed'); });
    return run;
  };

  return {
    reconcile,
    kick() {
      asked = true;
      pause.wake();
    },
    async start() {
      await reconcile().catch(() => undefined);
      loop = (async () => {
        const stopped = (): boolean => stopping;
        while (!stopped()) {
          if (!asked) await pause.sleep(d.intervalMs);
          asked = false;
          if (!stopped()) await reconcile().catch(() => undefined);
        }
      })();
    },
    async stop() {
      stopping = true;
      pause.wake();
      await loop;
      await tail;
    },
  };
}
