// Configuration: the only reader of process.env; parsed once with zod and frozen.
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

const schema = z.object({
  SOLUM_DATA_DIR: z.string().min(1).default('./data'),
  SOLUM_HTTP_PORT: port.default(3000),
  SOLUM_SSH_PORT: port.default(2222),
  SOLUM_BIND: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.url().optional(),
  DOCKER_HOST: z.string().min(1).optional(),
  /** 0: this server runs no builds itself; `solum worker` processes do. */
  SOLUM_BUILD_CONCURRENCY: z.coerce.number().int().min(0).max(64).default(2),
  /** Shared by the server and its `solum worker` processes: workers fetch source archives with it. */
  SOLUM_WORKER_TOKEN: z.string().min(32, 'SOLUM_WORKER_TOKEN must be at least 32 characters').optional(),
  /** Where a `solum worker` reaches the server's API (for archives it does not share on disk). */
  SOLUM_SERVER_URL: z.url().optional(),
  SOLUM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SOLUM_LANGUAGE_PACKS_DIR: z.string().min(1).optional(),
  SOLUM_BUILD_MEMORY_MB: z.coerce.number().int().min(64).default(2048),
  SOLUM_BUILD_CPUS: z.coerce.number().min(0.1).max(64).default(2),
  SOLUM_BUILD_PIDS: z.coerce.number().int().min(32).default(1024),
  SOLUM_BUILD_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(1800),
  SOLUM_BUILD_LOG_MAX_BYTES: z.coerce.number().int().min(1024).default(4 * 1024 * 1024),
  SOLUM_MAX_QUEUED_PER_APP: z.coerce.number().int().min(1).max(1000).default(5),
  SOLUM_BASE_IMAGE: z.string().min(1).default('solum/base:bookworm'),
  SOLUM_KEEP_DUS: z.coerce.number().int().min(1).max(1000).default(10),
  SOLUM_PRUNE_INTERVAL_SECONDS: z.coerce.number().int().min(60).default(3600),
  /** Webhook deliveries whose event is older than this are refused. */
  SOLUM_WEBHOOK_MAX_AGE_SECONDS: z.coerce.number().int().min(10).default(900),
  /** Deploy notifications: the first retry's delay (each later one doubles it) and attempts before giving up. */
  SOLUM_NOTIFY_RETRY_SECONDS: z.coerce.number().min(0.1).default(10),
  SOLUM_NOTIFY_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  SOLUM_FETCH_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  SOLUM_UPLOAD_MAX_BYTES: z.coerce.number().int().min(1024).default(512 * 1024 * 1024),
  /** What an upload may unpack to: decompressed bytes and the total of its entries' sizes. */
  SOLUM_UPLOAD_MAX_UNPACKED_BYTES: z.coerce.number().int().min(1024).default(2 * 1024 * 1024 * 1024),
  SOLUM_UPLOAD_MAX_ENTRIES: z.coerce.number().int().min(1).default(20_000),
  SOLUM_UPLOAD_MAX_PATH: z.coerce.number().int().min(16).max(4096).default(1024),
  SOLUM_BUILD_CA_BUNDLE: z.string().min(1).optional(),
  HTTP_PROXY: z.string().optional(),
  HTTPS_PROXY: z.string().optional(),
  NO_PROXY: z.string().optional(),
  SOLUM_PUBLIC_HOST: z.string().min(1).optional(),
  /** Per-user quotas (admins are not counted): apps owned, backing services owned, processes of their apps. */
  SOLUM_QUOTA_APPS: z.coerce.number().int().min(0).default(50),
  SOLUM_QUOTA_SERVICES: z.coerce.number().int().min(0).default(10),
  SOLUM_QUOTA_PROCESSES: z.coerce.number().int().min(0).default(40),
  /** One-off commands (run, cron:run) one user runs at once. */
  SOLUM_QUOTA_ONE_OFF_RUNS: z.coerce.number().int().min(0).default(3),
  /** How long a one-off container of a release (release phase, postdeploy, scheduled job, run) may run. */
  SOLUM_ONE_OFF_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3600),
  /** How often the scheduler looks for due jobs. */
  SOLUM_CRON_TICK_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** API request bodies: longest pause between chunks, and longest whole body without / with credentials. */
  SOLUM_HTTP_BODY_IDLE_SECONDS: z.coerce.number().min(1).default(15),
  SOLUM_HTTP_ANONYMOUS_BODY_SECONDS: z.coerce.number().min(1).default(30),
  SOLUM_HTTP_BODY_SECONDS: z.coerce.number().min(1).default(1800),
  /** Images an app's Dockerfile may start and copy from besides its own DUs (comma-separated, `*` globs). */
  SOLUM_DOCKERFILE_IMAGES: z.string().default('solum/base:*,solum/lp-*:*'),
  SOLUM_CREATE_APPS_ON_PUSH: z.enum(['true', 'false']).default('true'),
  SOLUM_ROUTER_PORT: port.default(8080),
  /** The router's TLS port (apps' HTTPS, HTTP/2); `off` serves no HTTPS. */
  SOLUM_HTTPS_PORT: z.union([z.literal('off'), port]).default(8443),
  SOLUM_ROUTER_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /** The HAProxy binary the router runs (decision 0017). */
  SOLUM_HAPROXY: z.string().min(1).default('haproxy'),
  /** An ACME directory to get app certificates from (unset: no ACME), a CA file to trust for it, the account's contact. */
  SOLUM_ACME_DIRECTORY: z.url({ protocol: /^https?$/ }).optional(),
  SOLUM_ACME_CA: z.string().min(1).optional(),
  SOLUM_ACME_EMAIL: z.email().optional(),
  /** Custom domains users who are not admins may add to their apps: `example.com`, `*.example.com`. */
  SOLUM_CUSTOM_DOMAINS: z
    .string()
    .default('')
    .refine((v) => v.split(',').map((h) => h.trim()).filter((h) => h !== '').every((h) => /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(h)), 'a comma-separated list of domain names (a leading *. allows subdomains)'),
  /** The API, dashboard and git over HTTP served over TLS: a certificate chain and its key, PEM files. */
  SOLUM_TLS_CERT: z.string().min(1).optional(),
  SOLUM_TLS_KEY: z.string().min(1).optional(),
  SOLUM_DOMAIN: z.string().regex(/^[a-z0-9.-]+$/i).default('localhost'),
  SOLUM_APP_PORTS: z.string().regex(/^\d{4,5}-\d{4,5}$/).default('20000-29999'),
  SOLUM_APP_MEMORY_MB: z.coerce.number().int().min(16).default(512),
  SOLUM_DEPLOY_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(10),
  SOLUM_HEALTH_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  /** How often a running canary's web processes are probed (decision 0019); 3 failures in a row abort it. */
  SOLUM_CANARY_CHECK_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** How often the preview reconciler compares what should exist with what does (decision 0020); it also runs after every teardown. */
  SOLUM_PREVIEW_RECONCILE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  SOLUM_APP_CPUS: z.coerce.number().min(0.01).max(64).default(1),
  SOLUM_SERVICE_CPUS: z.coerce.number().min(0.01).max(64).default(1),
  /** isolated: a Docker network per target, build and service behind Solum's firewall; host: single-tenant hosts only. */
  SOLUM_CONTAINER_NETWORK: z.enum(['isolated', 'host']).default('isolated'),
  SOLUM_CONTAINER_SUBNETS: z.string().min(1).default('10.213.0.0/16'),
  SOLUM_CONTAINER_SUBNET_PREFIX: z.coerce.number().int().min(16).max(29).default(26),
  SOLUM_EGRESS_ALLOW: z
    .string()
    .default('registry.npmjs.org,pypi.org,files.pythonhosted.org')
    .refine((v) => v.split(',').map((h) => h.trim()).filter((h) => h !== '').every((h) => /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(h)), 'a comma-separated list of host names (a leading *. allows subdomains)'),
  SOLUM_EGRESS_PROXY_PORT: port.default(0),
  SOLUM_APP_EGRESS: z.enum(['true', 'false']).default('false'),
  /** What an SBOM may read out of a DU (a tenant decides what is in /app). */
  SOLUM_SBOM_READ_MAX_MB: z.coerce.number().int().min(1).max(16384).default(256),
});

export interface Config {
  readonly dataDir: string;
  readonly reposDir: string;
  readonly archivesDir: string;
  readonly httpPort: number;
  readonly sshPort: number;
  readonly bind: string;
  /** Host name printed in git remote URLs. */
  readonly publicHost: string;
  readonly databaseUrl: string | undefined;
  readonly dockerHost: string | undefined;
  readonly buildConcurrency: number;
  /** The secret `solum worker` processes present to fetch archives; undefined turns that route off. */
  readonly workerToken: string | undefined;
  /** For a worker: the server's base URL. */
  readonly serverUrl: string | undefined;
  /** Whether any signed-in user may create an app by pushing to a new name (admins always may). */
  readonly createAppsOnPush: boolean;
  /** Images an app's Dockerfile may start and copy from besides its own DUs. */
  readonly dockerfileImages: readonly string[];
  /** How long API request bodies may pause and take (git routes are not bound by it). */
  readonly bodyDeadlines: { readonly idleMs: number; readonly anonymousMs: number; readonly signedInMs: number };
  /** What one user (not an admin) may hold. */
  readonly quotas: { readonly apps: number; readonly services: number; readonly processes: number; readonly oneOffRuns: number };
  /** One-off containers of releases (release phase, postdeploy, scheduled jobs, run) and the scheduler's pace. */
  readonly oneOffs: { readonly timeoutMs: number; readonly cronTickMs: number };
  readonly logLevel: string;
  readonly languagePacksDir: string;
  /** The installation's own files (dashboard assets). */
  readonly rootDir: string;
  readonly router: {
    readonly port: number;
    readonly domain: string;
    /** null: no TLS listener. */
    readonly httpsPort: number | null;
    readonly threads: number;
    readonly haproxy: string;
    /** Domains tenants may add to their apps (admins may add any). */
    readonly customDomains: readonly string[];
  };
  /** Where app certificates come from over ACME; null: no ACME (certificates can still be uploaded). */
  readonly acme: { readonly directory: string; readonly caFile: string | undefined; readonly email: string | undefined } | null;
  /** TLS for the API, dashboard and git over HTTP; null: plain HTTP. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  readonly deploy: {
    readonly ports: { readonly min: number; readonly max: number };
    readonly memoryBytes: number;
    /** CPU limits of app processes and of backing service instances, in 1e-9 CPUs. */
    readonly nanoCpus: number;
    readonly serviceNanoCpus: number;
    readonly graceMs: number;
    readonly healthTimeoutMs: number;
    readonly canaryCheckMs: number;
    /** How often the preview reconciler runs besides after each teardown. */
    readonly previewReconcileMs: number;
  };
  readonly buildLimits: { readonly memoryBytes: number; readonly nanoCpus: number; readonly pids: number; readonly timeoutMs: number };
  /** Bytes of output a build's log keeps; the rest is dropped with a note. */
  readonly buildLogMaxBytes: number;
  /** Builds of one app that may wait in the queue; a push beyond that is refused. */
  readonly maxQueuedPerApp: number;
  /** The base image language packs built here start FROM (their BASE_IMAGE build arg). */
  readonly baseImage: string;
  /** DUs kept per app besides those releases point to, and how often pruning runs. */
  readonly retention: { readonly keep: number; readonly intervalMs: number };
  /** How long a pull build may take to fetch its source. */
  readonly fetchTimeoutMs: number;
  /** Webhook deliveries whose event is older than this are refused. */
  readonly webhookMaxAgeMs: number;
  readonly notifications: { readonly retryBaseMs: number; readonly maxAttempts: number };
  /** Limits on uploaded artifacts. */
  readonly upload: { readonly maxBytes: number; readonly maxUnpackedBytes: number; readonly maxEntries: number; readonly maxPathLength: number };
  /** How containers are networked (docs/decisions/0014). */
  readonly network: {
    readonly mode: 'isolated' | 'host';
    /** Pools networks' subnets are carved from (checked against the host at start). */
    readonly subnets: string;
    readonly subnetPrefix: number;
    /** Hosts the egress proxy lets builds (and apps, with appEgress) reach. */
    readonly egressAllow: readonly string[];
    readonly egressProxyPort: number;
    readonly appEgress: boolean;
  };
  /** What builders need to reach package registries from behind a TLS-inspecting proxy (the egress proxy's upstream). */
  /** Bytes an SBOM reads out of an image at most, in all and per file. */
  readonly sbom: { readonly maxBytes: number; readonly maxFileBytes: number };
  readonly builderNetwork: {
    readonly caBundle: string | undefined;
    readonly httpProxy: string | undefined;
    readonly httpsProxy: string | undefined;
    readonly noProxy: string | undefined;
  };
}

function tlsOf(e: z.output<typeof schema>, cwd: string): Config['tls'] {
  if (!e.SOLUM_TLS_CERT && !e.SOLUM_TLS_KEY) return null;
  if (!e.SOLUM_TLS_CERT || !e.SOLUM_TLS_KEY) throw new Error('invalid configuration: SOLUM_TLS_CERT and SOLUM_TLS_KEY go together');
  return Object.freeze({ certFile: path.resolve(cwd, e.SOLUM_TLS_CERT), keyFile: path.resolve(cwd, e.SOLUM_TLS_KEY) });
}

export function loadConfig(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${detail}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(cwd, e.SOLUM_DATA_DIR);
  const here = path.dirname(new URL(import.meta.url).pathname);
  const wildcard = e.SOLUM_BIND === '0.0.0.0' || e.SOLUM_BIND === '::';
  return Object.freeze({
    dataDir,
    reposDir: path.join(dataDir, 'repos'),
    archivesDir: path.join(dataDir, 'archives'),
    httpPort: e.SOLUM_HTTP_PORT,
    sshPort: e.SOLUM_SSH_PORT,
    bind: e.SOLUM_BIND,
    publicHost: e.SOLUM_PUBLIC_HOST ?? (wildcard ? '127.0.0.1' : e.SOLUM_BIND),
    databaseUrl: e.DATABASE_URL,
    dockerHost: e.DOCKER_HOST,
    buildConcurrency: e.SOLUM_BUILD_CONCURRENCY,
    workerToken: e.SOLUM_WORKER_TOKEN,
    serverUrl: e.SOLUM_SERVER_URL?.replace(/\/+$/, ''),
    createAppsOnPush: e.SOLUM_CREATE_APPS_ON_PUSH === 'true',
    dockerfileImages: Object.freeze(e.SOLUM_DOCKERFILE_IMAGES.split(',').map((s) => s.trim()).filter((s) => s !== '')),
    bodyDeadlines: Object.freeze({ idleMs: e.SOLUM_HTTP_BODY_IDLE_SECONDS * 1000, anonymousMs: e.SOLUM_HTTP_ANONYMOUS_BODY_SECONDS * 1000, signedInMs: e.SOLUM_HTTP_BODY_SECONDS * 1000 }),
    quotas: Object.freeze({ apps: e.SOLUM_QUOTA_APPS, services: e.SOLUM_QUOTA_SERVICES, processes: e.SOLUM_QUOTA_PROCESSES, oneOffRuns: e.SOLUM_QUOTA_ONE_OFF_RUNS }),
    oneOffs: Object.freeze({ timeoutMs: e.SOLUM_ONE_OFF_TIMEOUT_SECONDS * 1000, cronTickMs: e.SOLUM_CRON_TICK_MS }),
    logLevel: e.SOLUM_LOG_LEVEL,
    // dist/src/config.js → ../../language-packs
    rootDir: path.resolve(here, '..', '..'),
    languagePacksDir: path.resolve(cwd, e.SOLUM_LANGUAGE_PACKS_DIR ?? path.join(here, '..', '..', 'language-packs')),
    router: Object.freeze({
      port: e.SOLUM_ROUTER_PORT,
      domain: e.SOLUM_DOMAIN.toLowerCase(),
      httpsPort: e.SOLUM_HTTPS_PORT === 'off' ? null : e.SOLUM_HTTPS_PORT,
      threads: e.SOLUM_ROUTER_THREADS,
      haproxy: e.SOLUM_HAPROXY,
      customDomains: Object.freeze(e.SOLUM_CUSTOM_DOMAINS.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '')),
    }),
    acme: e.SOLUM_ACME_DIRECTORY ? Object.freeze({ directory: e.SOLUM_ACME_DIRECTORY, caFile: e.SOLUM_ACME_CA ? path.resolve(cwd, e.SOLUM_ACME_CA) : undefined, email: e.SOLUM_ACME_EMAIL }) : null,
    tls: tlsOf(e, cwd),
    deploy: Object.freeze({
      ports: Object.freeze({ min: Number(e.SOLUM_APP_PORTS.split('-')[0]), max: Number(e.SOLUM_APP_PORTS.split('-')[1]) }),
      memoryBytes: e.SOLUM_APP_MEMORY_MB * 1024 * 1024,
      nanoCpus: Math.round(e.SOLUM_APP_CPUS * 1e9),
      serviceNanoCpus: Math.round(e.SOLUM_SERVICE_CPUS * 1e9),
      graceMs: e.SOLUM_DEPLOY_GRACE_SECONDS * 1000,
      healthTimeoutMs: e.SOLUM_HEALTH_TIMEOUT_SECONDS * 1000,
      canaryCheckMs: e.SOLUM_CANARY_CHECK_MS,
      previewReconcileMs: e.SOLUM_PREVIEW_RECONCILE_SECONDS * 1000,
    }),
    buildLimits: Object.freeze({
      memoryBytes: e.SOLUM_BUILD_MEMORY_MB * 1024 * 1024,
      nanoCpus: Math.round(e.SOLUM_BUILD_CPUS * 1e9),
      pids: e.SOLUM_BUILD_PIDS,
      timeoutMs: e.SOLUM_BUILD_TIMEOUT_SECONDS * 1000,
    }),
    buildLogMaxBytes: e.SOLUM_BUILD_LOG_MAX_BYTES,
    maxQueuedPerApp: e.SOLUM_MAX_QUEUED_PER_APP,
    fetchTimeoutMs: e.SOLUM_FETCH_TIMEOUT_SECONDS * 1000,
    webhookMaxAgeMs: e.SOLUM_WEBHOOK_MAX_AGE_SECONDS * 1000,
    notifications: Object.freeze({ retryBaseMs: e.SOLUM_NOTIFY_RETRY_SECONDS * 1000, maxAttempts: e.SOLUM_NOTIFY_ATTEMPTS }),
    baseImage: e.SOLUM_BASE_IMAGE,
    retention: Object.freeze({ keep: e.SOLUM_KEEP_DUS, intervalMs: e.SOLUM_PRUNE_INTERVAL_SECONDS * 1000 }),
    upload: Object.freeze({ maxBytes: e.SOLUM_UPLOAD_MAX_BYTES, maxUnpackedBytes: e.SOLUM_UPLOAD_MAX_UNPACKED_BYTES, maxEntries: e.SOLUM_UPLOAD_MAX_ENTRIES, maxPathLength: e.SOLUM_UPLOAD_MAX_PATH }),
    network: Object.freeze({
      mode: e.SOLUM_CONTAINER_NETWORK,
      subnets: e.SOLUM_CONTAINER_SUBNETS,
      subnetPrefix: e.SOLUM_CONTAINER_SUBNET_PREFIX,
      egressAllow: Object.freeze(e.SOLUM_EGRESS_ALLOW.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '')),
      egressProxyPort: e.SOLUM_EGRESS_PROXY_PORT,
      appEgress: e.SOLUM_APP_EGRESS === 'true',
    }),
    sbom: Object.freeze({ maxBytes: e.SOLUM_SBOM_READ_MAX_MB * 1024 * 1024, maxFileBytes: Math.min(32, e.SOLUM_SBOM_READ_MAX_MB) * 1024 * 1024 }),
    builderNetwork: Object.freeze({
      caBundle: e.SOLUM_BUILD_CA_BUNDLE,
      httpProxy: e.HTTP_PROXY,
      httpsProxy: e.HTTPS_PROXY,
      noProxy: e.NO_PROXY,
    }),
  });
}
