// The reconciler's effects over fakes of Docker, the router and the store: a doomed preview and one
// whose rows are gone lose everything labelled with them, in order, and nothing else is touched;
// a failed step leaves the rows for the next pass; an idle one past its TTL is doomed first.
import test from 'ava';
import type { Containers, ContainerSummary } from '../../../src/containers/containers.js';
import type { Preview, PreviewStore } from '../../../src/db/preview-store.js';
import { createLogger } from '../../../src/logger.js';
import { createPreviewReconciler } from '../../../src/previews/preview-reconciler.js';

const row = (id: number, state: Preview['state']): Preview => ({ id, appId: 1, name: `p${id}`, branch: `b${id}`, routerName: `hello-p${id}`, source: 'push', state, createdAt: new Date(0), lastPushAt: new Date(0) });
const process = (id: string, target: string): ContainerSummary => ({ id, created: 0, labels: { 'io.solum.target': target } });

function world(rows: Preview[], o: { failStop?: boolean; idle?: Preview[] } = {}) {
  const log: string[] = [];
  const services = new Map<number, string[]>([[1, ['pre1-db']]]);
  const containers = {
    list: (labels: Record<string, string>) => Promise.resolve(labels['io.solum.role'] === 'process' ? [process('c1', 'pre-1'), process('c2', 'app-1'), process('c3', 'pre-2'), process('c9', 'pre-9')] : []),
    listVolumes: () => Promise.resolve([{ name: 'v1', labels: { 'io.solum.service': 'pre9-db', 'io.solum.target': 'pre-9' } }, { name: 'v2', labels: { 'io.solum.service': 'users-db' } }]),
    remove: (id: string) => { log.push(`remove ${id}`); return Promise.resolve(); },
    networks: {
      targetNetworks: () => Promise.resolve([{ key: 'pre-1', app: 'hello', containers: [] }, { key: 'app-1', app: 'hello', containers: [] }, { key: 'pre-9', app: 'gone', containers: [] }]),
      removeTarget: (key: string) => { log.push(`network ${key}`); return Promise.resolve(); },
    },
  } as unknown as Containers;
  const store = {
    idle: () => Promise.resolve(o.idle ?? []),
    doom: (id: number) => {
      log.push(`doom ${id}`);
      const r = rows.find((x) => x.id === id);
      if (r) rows[rows.indexOf(r)] = { ...r, state: 'doomed' };
      return Promise.resolve(true);
    },
    everything: () => Promise.resolve([...rows]),
    services: (id: number) => Promise.resolve((services.get(id) ?? []).map((service) => ({ service, envVar: 'DATABASE_URL' }))),
    removeService: (id: number, service: string) => { log.push(`unrecord ${id} ${service}`); return Promise.resolve(); },
    remove: (id: number) => { log.push(`rows ${id}`); return Promise.resolve(true); },
  } as unknown as PreviewStore;
  const r = createPreviewReconciler({
    store,
    containers,
    deployer: { stopAll: (t) => { log.push(`stop ${t.key} ${t.name}`); return o.failStop ? Promise.reject(new Error('docker is down')) : Promise.resolve(); } },
    router: { keys: () => ['app-1', 'pre-1', 'pre-2', 'pre-7'], forget: (key) => { log.push(`unroute ${key}`); return Promise.resolve(); } },
    removeService: (name) => { log.push(`service ${name}`); return Promise.resolve(); },
    sweepDus: () => { log.push('sweep'); return Promise.resolve(); },
    notify: (_appId, f) => { log.push(`notify ${f.event} ${f.preview?.name ?? ''}`); return Promise.resolve(); },
    appName: () => Promise.resolve('hello'),
    url: (n) => `http://${n}.localhost/`,
    intervalMs: 60_000,
    logger: createLogger('silent'),
  });
  return { r, log };
}

test('a doomed preview and those without rows lose what they hold, in order; live previews, the app and users\' services are untouched', async (t) => {
  const { r, log } = world([row(1, 'doomed'), row(2, 'up')]);
  await r.reconcile();
  t.deepEqual(log, [
    'stop pre-1 hello-p1',
    'unroute pre-1',
    'service pre1-db',
    'unrecord 1 pre1-db',
    'network pre-1',
    'rows 1',
    'unroute pre-7',
    'stop pre-9 pre-9',
    'service pre9-db',
    'unrecord 9 pre9-db',
    'network pre-9',
    'notify preview.down p1',
    'sweep',
  ]);
});

test('a step that fails keeps the preview\'s rows for the next pass; an idle preview is doomed first', async (t) => {
  const failing = world([row(1, 'doomed')], { failStop: true });
  await failing.r.reconcile();
  t.false(failing.log.some((l) => l.startsWith('rows 1') || l === 'network pre-1'));
  const idle = row(2, 'up');
  const { r, log } = world([idle], { idle: [idle] });
  await r.reconcile();
  t.is(log[0], 'doom 2');
  t.true(log.includes('unroute pre-2'));
  t.true(log.includes('rows 2'));
});
