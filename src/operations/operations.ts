// Every operation, in the order SSH help lists them, and the one place they are bound to the services.
import type { AccountService } from '../access/account-service.js';
import type { AppService } from '../apps/app-service.js';
import type { BuildpackArchives } from '../build/packs/buildpack-archives.js';
import type { PackRegistry } from '../build/packs/pack-registry.js';
import type { BuildControl } from '../build/queue/build-control.js';
import type { BuildSources } from '../build/sources/build-sources.js';
import type { CommitStatuses } from '../build/sources/commit-status.js';
import type { PullBuilds } from '../build/sources/pull-builds.js';
import type { Webhooks } from '../build/sources/webhooks.js';
import type { Retention } from '../build/upkeep/retention.js';
import type { SecurityRebuilds } from '../build/upkeep/security-rebuilds.js';
import type { CronScheduler } from '../deploy/cron-scheduler.js';
import type { ReleaseService } from '../deploy/release-service.js';
import type { RunService } from '../deploy/run-service.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import type { ServiceManager } from '../backing-services/service-manager.js';
import type { DomainService } from '../edge/domain-service.js';
import type { Affected } from '../supply-chain/affected.js';
import type { Attestations } from '../supply-chain/attestations.js';
import type { Notifier } from '../notifications/notifier.js';
import { accountOperations } from './accounts.js';
import { adminOperations } from './admin.js';
import { appOperations } from './apps.js';
import { buildOperations } from './builds.js';
import { collaboratorOperations } from './collaborators.js';
import { domainOperations } from './domains.js';
import { cronOperations } from './cron.js';
import type { Contract, Handler, Input, Operation } from './operation.js';
import { notificationOperations } from './notifications.js';
import { packOperations } from './packs.js';
import { pipelineOperations } from './pipelines.js';
import { processOperations } from './processes.js';
import { releaseOperations } from './releases.js';
import { canaryOperations } from './canaries.js';
import { previewOperations } from './previews.js';
import type { PreviewService } from '../previews/preview-service.js';
import type { CanaryService } from '../deploy/canary-service.js';
import { runOperations } from './runs.js';
import { serviceOperations } from './services.js';
import { sourceOperations } from './sources.js';
import { supplyChainOperations } from './supply-chain.js';

/** The services operations use (never a store). */
export interface OperationDeps {
  readonly accounts: AccountService;
  readonly apps: AppService;
  readonly releases: ReleaseService;
  readonly canaries: CanaryService;
  readonly previews: PreviewService;
  readonly buildControl: BuildControl;
  readonly buildSources: BuildSources;
  readonly pulls: PullBuilds;
  readonly webhooks: Webhooks;
  readonly statuses: CommitStatuses;
  readonly registry: PackRegistry;
  readonly buildpackArchives: BuildpackArchives;
  readonly services: ServiceManager;
  readonly pipelines: PipelineService;
  readonly retention: Retention;
  readonly securityRebuilds: SecurityRebuilds;
  readonly domains: DomainService;
  readonly cron: CronScheduler;
  readonly runs: RunService;
  readonly attestations: Attestations;
  readonly affected: Affected;
  readonly notifier: Notifier;
}

export const operations: readonly Operation<Input, unknown, OperationDeps>[] = [
  ...accountOperations,
  ...appOperations,
  ...collaboratorOperations,
  ...buildOperations,
  ...releaseOperations,
  ...canaryOperations,
  ...previewOperations,
  ...domainOperations,
  ...processOperations,
  ...runOperations,
  ...cronOperations,
  ...sourceOperations,
  ...packOperations,
  ...serviceOperations,
  ...pipelineOperations,
  ...notificationOperations,
  ...adminOperations,
  ...supplyChainOperations,
];

/** An operation with its implementation: what the transports mount. */
export interface BoundOperation {
  readonly contract: Contract;
  readonly handler: Handler<Input, unknown>;
}

export function bindOperations(deps: OperationDeps): BoundOperation[] {
  return operations.map((op) => ({ contract: op, handler: op.bind(deps) }));
}
