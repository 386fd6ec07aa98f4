// The names of the labels Solum puts on everything it creates in Docker, so cleanup is by label.
export const LABEL = {
  installation: 'io.solum.installation',
  role: 'io.solum.role',
  /** The app's name (DUs, builders, caches, processes of the app and of its environments). */
  app: 'io.solum.app',
  /** A deploy target's key (`app-<id>` or `env-<id>`, see deploy/target.ts): processes are found by it. */
  target: 'io.solum.target',
  /** The environment a process runs for; absent on an app's own processes. */
  environment: 'io.solum.environment',
  build: 'io.solum.build',
  buildId: 'io.solum.build-id',
  release: 'io.solum.release',
  deploy: 'io.solum.deploy',
  processType: 'io.solum.process-type',
  processIndex: 'io.solum.process-index',
  /** What a one-off container of a release is for: release, postdeploy, cron or run. */
  oneOff: 'io.solum.one-off',
  /** A scheduled job's ID (its one-off containers), and the run it is. */
  cronJob: 'io.solum.cron-job',
  cronRun: 'io.solum.cron-run',
  port: 'io.solum.port',
  service: 'io.solum.service',
  serviceKind: 'io.solum.service-kind',
  /** On a service image: `env` when its entrypoint listens where SOLUM_SERVICE_LISTEN says. */
  serviceListen: 'io.solum.service.listen',
  languagePack: 'io.solum.language-pack',
  /** What a network is for: build, target or service (see containers/networks.ts). */
  networkKind: 'io.solum.network-kind',
  /** The bridge-name prefix of the Solum process that made a network (the server's, or a worker's). */
  networkOwner: 'io.solum.network-owner',
} as const;

/** What a container, image or volume is to Solum. */
export type Role =
  | 'builder'
  | 'deployment-unit'
  | 'process'
  | 'one-off'
  | 'pipeline-test'
  | 'build-cache'
  | 'service'
  | 'service-data'
  | 'language-pack'
  | 'reader'
  | 'network';
