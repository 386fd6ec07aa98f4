// The server's transports: the Koa app (JSON API, git over HTTP, dashboard, probes) on its HTTP
// server, and the SSH server with its commands. They get services, never stores.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createAuthenticator } from '../access/authenticator.js';
import { loadOrCreateHostKey } from '../git/host-key.js';
import { gitHttpMiddleware } from '../git/http-transport.js';
import { createSshCommands } from '../git/ssh-commands.js';
import { createSshSessions } from '../git/ssh-run.js';
import { createSshTransport } from '../git/ssh-transport.js';
import { createApiApp } from '../http/api.js';
import { bindOperations } from '../operations/operations.js';
import { workerArchiveMiddleware } from '../http/worker-archive.js';
import type { Metrics } from '../metrics.js';
import type { Building } from './building.js';
import type { Domain } from './domain.js';
import type { Foundation } from './foundation.js';
import type { Intake } from './intake.js';

export type Edges = Awaited<ReturnType<typeof assembleEdges>>;

export async function assembleEdges(f: Foundation, b: Building, d: Domain, i: Intake, metrics: Metrics) {
  const { config, logger, stores, db, containers } = f;
  const authenticator = createAuthenticator({ users: stores.users });
  // Every operation bound once to the services it calls; both transports mount the same list.
  const operations = bindOperations({
    accounts: d.accounts,
    apps: d.apps,
    releases: d.releases,
    canaries: d.canaries,
    previews: i.previews,
    buildControl: i.buildControl,
    buildSources: i.buildSources,
    pulls: i.pulls,
    webhooks: i.webhooks,
    statuses: i.statuses,
    registry: b.registry,
    buildpackArchives: b.buildpackArchives,
    services: d.services,
    pipelines: d.pipelines,
    retention: i.retention,
    securityRebuilds: i.securityRebuilds,
    domains: d.domains,
    cron: d.cron,
    runs: d.runs,
    attestations: i.attestations,
    affected: i.affected,
    notifier: d.notifier,
  });
  const commands = createSshCommands({ operations });
  const api = createApiApp({
    authenticator,
    operations,
    buildControl: i.buildControl,
    apps: d.apps,
    webhooks: i.webhooks,
    pipelines: d.pipelines,
    logger,
    internal: workerArchiveMiddleware({ token: config.workerToken, builds: stores.builds, archivesDir: config.archivesDir }),
    git: gitHttpMiddleware({ authenticator, access: i.gitAccess, logger, onPush: (_app, bytes) => { metrics.push('http', bytes); } }),
    metrics,
    events: b.events,
    rootDir: config.rootDir,
    bodyDeadlines: config.bodyDeadlines,
    checks: {
      database: async () => {
        await db.knex.raw('select 1');
      },
      docker: () => containers.ping(),
      // Containers are started only behind Solum's firewall table (decision 0014).
      firewall: async () => {
        const problem = await containers.networks.problem();
        if (problem) throw new Error(problem);
      },
    },
  });
  const handle = api.callback();
  // With SOLUM_TLS_CERT/KEY the API, the dashboard and git over HTTP are served over TLS only, so
  // tokens never cross a network in clear.
  const httpServer: http.Server = config.tls
    ? https.createServer({ cert: fs.readFileSync(config.tls.certFile), key: fs.readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' }, (req, res) => { void handle(req, res); })
    : http.createServer((req, res) => { void handle(req, res); });
  // Pushes upload for as long as they need and then wait for their build: Node's 300 s request
  // timeout would cut them off. Headers must still arrive promptly.
  httpServer.requestTimeout = 0;
  httpServer.headersTimeout = 30_000;
  const hostKey = await loadOrCreateHostKey(config.dataDir);
  const ssh = createSshTransport({
    hostKey: hostKey.privateKey,
    bind: config.bind,
    port: config.sshPort,
    authenticator,
    access: i.gitAccess,
    commands,
    logger,
    onPush: (bytes) => { metrics.push('ssh', bytes); },
    stillHolds: (user, app, need) => d.apps.require(user, app, need).then(() => true, () => false),
    interactive: createSshSessions(operations, logger),
  });
  metrics.gauge('solum_build_queue_depth', 'Builds waiting to start', () => stores.builds.queuedCount());
  metrics.gauge('solum_builds_running', 'Builds running', () => stores.builds.runningCount());
  metrics.gauge('solum_ssh_sessions_active', 'SSH channels running a command', () => ssh.activeSessions());
  return { authenticator, httpServer, hostKey, ssh };
}
