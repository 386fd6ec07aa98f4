// Pipeline definitions (the solum.yaml `pipeline:` section or the /v1/pipelines body): parsed and
// checked once, plus the pure decisions a run makes — what comes next, who may approve, how a
// callback is signed.
import { createHmac } from 'node:crypto';
import { sameSecret } from '../access/tokens.js';
import { z } from 'zod';
import { badRequest } from '../errors.js';
import { appRoles, atLeast, type AppRole } from '../roles.js';

export type StageSpec =
  /** A command: on the pushed tree in the builder image, or (with `environment`) against that environment's URL in a container of the DU. */
  | { readonly kind: 'test'; readonly name: string; readonly command: string; readonly environment: string | null }
  | { readonly kind: 'build'; readonly name: string }
  | { readonly kind: 'deploy'; readonly name: string; readonly environment: string }
  /** Someone with `role` on the app, or one of `users`, approves or rejects. */
  | { readonly kind: 'approval'; readonly name: string; readonly role: AppRole | null; readonly users: readonly string[] }
  /** A signed callback from outside (CI) passes or fails it. */
  | { readonly kind: 'external'; readonly name: string }
  /** The DU of the previous deploy or promote stage, with the target environment's own config. */
  | { readonly kind: 'promote'; readonly name: string; readonly environment: string; readonly from: string };

export interface PipelineDefinition {
  readonly stages: readonly StageSpec[];
}

export type StageStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'rejected' | 'skipped';
export type RunStatus = 'running' | 'waiting' | 'succeeded' | 'failed' | 'rejected';

const ENV_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const STAGE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const USER_NAME = /^[a-z][a-z0-9_-]{0,38}$/;
const MAX_STAGES = 20;

const envName = z.string().max(20).regex(ENV_NAME, 'environment names use a-z, 0-9 and single dashes, starting with a letter (at most 20)');
const name = z.string().regex(STAGE_NAME, 'stage names use a-z, 0-9, _ and -, starting with a letter (at most 40)').optional();
const command = z.string().min(1).max(4096);

/** An environment name given on its own (the API, the CLI); throws a bad_request. */
export function parseEnvironmentName(raw: string): string {
  const parsed = envName.safeParse(raw);
  if (!parsed.success) throw badRequest(`invalid environment name ${JSON.stringify(raw.slice(0, 40))}: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

const stageInput = z.union([
  z.literal('build'),
  z.object({ name, build: z.literal(true) }).strict(),
  z.object({ name, test: command, environment: envName.optional() }).strict(),
  z.object({ name, deploy: envName }).strict(),
  z.object({ name, promote: envName }).strict(),
  z
    .object({
      name,
      gate: z.literal('approval'),
      role: z.enum(appRoles).optional(),
      users: z.array(z.string().regex(USER_NAME, 'user names use a-z, 0-9, _ and -')).max(50).optional(),
    })
    .strict(),
  z.object({ name, gate: z.literal('external') }).strict(),
]);

const definitionInput = z.object({ stages: z.array(stageInput).min(1).max(MAX_STAGES) }).strict();

/** Turns raw input (YAML or JSON) into a checked definition; throws a bad_request naming every problem. */
export function parsePipeline(raw: unknown, where = 'pipeline'): PipelineDefinition {
  const parsed = definitionInput.safeParse(raw);
  if (!parsed.success) {
    throw badRequest(`${where}: ${parsed.error.issues.map((i) => `${[where, ...i.path.map(String)].slice(1).join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  }
  const stages: StageSpec[] = [];
  let lastEnv: string | null = null;
  const deployed = new Set<string>();
  const problems: string[] = [];
  for (const [i, s] of parsed.data.stages.entries()) {
    const at = `stage ${i + 1}`;
    const built = stages.some((x) => x.kind === 'build');
    let spec: StageSpec;
    if (s === 'build' || 'build' in s) {
      spec = { kind: 'build', name: (s === 'build' ? undefined : s.name) ?? 'build' };
      if (built) problems.push(`${at}: a pipeline builds once`);
    } else if ('test' in s) {
      const environment = s.environment ?? null;
      spec = { kind: 'test', name: s.name ?? (environment ? `test-${environment}` : 'test'), command: s.test, environment };
      if (environment === null && built) problems.push(`${at}: a test of the pushed tree runs before the build (give it an environment to test a deployment)`);
      if (environment !== null && !deployed.has(environment)) problems.push(`${at}: '${environment}' is not deployed by an earlier stage`);
    } else if ('deploy' in s) {
      spec = { kind: 'deploy', name: s.name ?? `deploy-${s.deploy}`, environment: s.deploy };
      if (!built) problems.push(`${at}: deploy needs the build before it`);
      deployed.add(s.deploy);
      lastEnv = s.deploy;
    } else if ('promote' in s) {
      spec = { kind: 'promote', name: s.name ?? `promote-${s.promote}`, environment: s.promote, from: lastEnv ?? '' };
      if (lastEnv === null) problems.push(`${at}: promote needs an earlier deploy stage whose DU it promotes`);
      else if (lastEnv === s.promote) problems.push(`${at}: '${s.promote}' already runs this DU`);
      deployed.add(s.promote);
      lastEnv = s.promote;
    } else if (s.gate === 'approval') {
      const users = s.users ?? [];
      spec = { kind: 'approval', name: s.name ?? 'approval', role: s.role ?? (users.length === 0 ? 'admin' : null), users };
      if (!built) problems.push(`${at}: gates come after the build`);
    } else {
      spec = { kind: 'external', name: s.name ?? 'external-check' };
      if (!built) problems.push(`${at}: gates come after the build`);
    }
    if (stages.some((x) => x.name === spec.name)) problems.push(`${at}: another stage is already named '${spec.name}' (give one a name:)`);
    stages.push(spec);
  }
  if (!stages.some((s) => s.kind === 'build')) problems.push('a pipeline needs a build stage');
  if (problems.length > 0) throw badRequest(`${where}: ${problems.join('; ')}`);
  return { stages };
}

/** The environments a definition deploys to, in order. */
export const environmentsOf = (d: PipelineDefinition): string[] => [
  ...new Set(d.stages.flatMap((s) => (s.kind === 'deploy' || s.kind === 'promote' ? [s.environment] : []))),
];

/** Stages that wait for someone outside the run (a person or a callback). */
export const isGate = (s: StageSpec): boolean => s.kind === 'approval' || s.kind === 'external';

export type NextStep =
  | { readonly action: 'run'; readonly index: number }
  /** A gate is open: nothing happens until it is decided. */
  | { readonly action: 'wait'; readonly index: number }
  /** A stage is running right now. */
  | { readonly action: 'busy'; readonly index: number }
  | { readonly action: 'done'; readonly status: 'succeeded' | 'failed' | 'rejected' };

/** What a run does next, from its stages' statuses alone. Pure. */
export function nextStep(stages: ReadonlyArray<{ readonly spec: StageSpec; readonly status: StageStatus }>): NextStep {
  if (stages.some((s) => s.status === 'rejected')) return { action: 'done', status: 'rejected' };
  if (stages.some((s) => s.status === 'failed')) return { action: 'done', status: 'failed' };
  const index = stages.findIndex((s) => s.status !== 'succeeded' && s.status !== 'skipped');
  const stage = stages[index];
  if (!stage) return { action: 'done', status: 'succeeded' };
  if (stage.status === 'running') return { action: 'busy', index };
  if (stage.status === 'waiting' || isGate(stage.spec)) return { action: 'wait', index };
  return { action: 'run', index };
}

/** The status a run shows for a next step. Pure. */
export const runStatusOf = (n: NextStep): RunStatus => (n.action === 'done' ? n.status : n.action === 'wait' ? 'waiting' : 'running');

/** Whether someone may decide an approval gate: one of its named users, or at least its role on the app. Pure. */
export function mayApprove(spec: StageSpec, user: { readonly name: string; readonly isAdmin: boolean }, role: AppRole | null): boolean {
  if (spec.kind !== 'approval') return false;
  if (spec.users.includes(user.name)) return true;
  return spec.role !== null && role !== null && atLeast(role, spec.role);
}

/** Who may decide a gate, in words. Pure. */
export function gateDescription(spec: StageSpec): string {
  if (spec.kind === 'external') return 'a signed callback from CI';
  if (spec.kind !== 'approval') return '';
  const who = [...(spec.role ? [`an app ${spec.role}`] : []), ...spec.users.map((u) => `user ${u}`)];
  return `approval by ${who.join(' or ')}`;
}

/** One line per stage, for push output and listings. Pure. */
export function describeStage(s: StageSpec): string {
  switch (s.kind) {
    case 'test':
      return s.environment ? `test against ${s.environment}: ${s.command}` : `test the pushed tree: ${s.command}`;
    case 'build':
      return 'build the deployment unit';
    case 'deploy':
      return `deploy to ${s.environment}`;
    case 'promote':
      return `promote ${s.from}'s DU to ${s.environment} (no rebuild)`;
    case 'approval':
    case 'external':
      return `gate: ${gateDescription(s)}`;
  }
}

/** `sha256=<hex>` HMAC of a callback body with the pipeline's secret. */
export const signBody = (secret: string, body: Buffer | string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Whether a callback's signature header matches its body, compared in constant time. */
export function signatureValid(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header || !/^sha256=[0-9a-f]{64}$/.test(header)) return false;
  return sameSecret(signBody(secret, body), header);
}
