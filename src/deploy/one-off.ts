// One-off containers of a release: the release phase, postdeploy, scheduled jobs and `run`. Each is
// a new container of the release's DU on its target's own network (with the backing services linked
// to it), with the release's config and a process's limits, its command run after the DU's
// .profile.d scripts; it runs to its exit and is removed (a scheduled job's is kept for its logs).
import type { Readable } from 'node:stream';
import type { Containers, JobOutcome, NetworkRef } from '../containers/containers.js';
import { LABEL } from '../containers/labels.js';
import type { Release } from '../db/release-store.js';
import type { Logger } from '../logger.js';
import { processCommand, releaseEnv } from './process-command.js';
import type { DeployTarget } from './target.js';

export type OneOffKind = 'release' | 'postdeploy' | 'cron' | 'run';

export interface OneOffRequest {
  readonly kind: OneOffKind;
  readonly command: string;
  /** Its name as a process (SOLUM_PROCESS, the logs' prefix): `release`, `cron.backup`, `run.3`. */
  readonly process: string;
  readonly onOutput: (chunk: Buffer) => void;
  readonly timeoutMs: number;
  /** A user's input (`run`); with `tty` the container gets a terminal of this type. */
  readonly stdin?: Readable;
  readonly tty?: { readonly term: string; readonly cols: number; readonly rows: number };
  readonly labels?: Readonly<Record<string, string>>;
  /** Keeps the exited container, so its output can be read like a process's (scheduled jobs). */
  readonly keep?: boolean;
  readonly signal?: AbortSignal;
}

export interface OneOffSession {
  readonly containerId: string;
  resize(cols: number, rows: number): void;
  /** How it ended; the container is gone by then unless it was kept. */
  readonly done: Promise<JobOutcome>;
}

export interface OneOffs {
  /** Creates and starts the container; throws when it cannot be started (no DU, no firewall table). */
  start(target: DeployTarget, release: Release, request: OneOffRequest): Promise<OneOffSession>;
  /** Removes one-off containers a stopped Solum left behind (their callers are gone), but kept scheduled jobs'. */
  recover(): Promise<void>;
}

export function createOneOffs(d: {
  readonly containers: Containers;
  /** Runs before a container of the target starts on its network (linked services join it). */
  readonly beforeStart?: (target: DeployTarget, network: NetworkRef) => Promise<void>;
  readonly logger: Logger;
}): OneOffs {
  const log = d.logger.child({ component: 'one-offs' });
  return {
    async start(target, release, r) {
      const du = await d.containers.readDu(release.duId);
      if (!du && !(await d.containers.imageId(release.duId))) throw new Error(`the deployment unit ${release.duImage} (${release.duId}) is missing`);
      const network = await d.containers.networks.ofTarget({ key: target.key, app: target.app.name });
      await d.beforeStart?.(target, network);
      const env = releaseEnv(du?.manifest.env ?? {}, release.config, { target: target.name, version: release.version, process: r.process });
      const job = await d.containers.createOneOff({
        image: release.duId,
        cmd: processCommand(r.command),
        env: r.tty ? { ...env, TERM: r.tty.term, COLUMNS: String(r.tty.cols), LINES: String(r.tty.rows) } : env,
        labels: {
          ...r.labels,
          [LABEL.app]: target.app.name,
          [LABEL.target]: target.key,
          ...(target.environment ? { [LABEL.environment]: target.environment.name } : {}),
          [LABEL.release]: String(release.version),
          [LABEL.oneOff]: r.kind,
          [LABEL.processType]: r.process,
        },
        network,
        ...(r.stdin ? { interactive: { tty: r.tty !== undefined } } : {}),
      });
      log.info({ target: target.name, version: release.version, kind: r.kind, process: r.process, container: job.id }, 'one-off started');
      const done = job
        .run({ onOutput: r.onOutput, timeoutMs: r.timeoutMs, ...(r.stdin ? { stdin: r.stdin } : {}), ...(r.signal ? { signal: r.signal } : {}) })
        .finally(async () => {
          if (!r.keep) await job.remove().catch((err: unknown) => { log.warn({ err, container: job.id }, 'removing a one-off failed'); });
        });
      if (r.tty) {
        const { cols, rows } = r.tty;
        // The size once it runs (a terminal is sized only while its container runs).
        setTimeout(() => { void job.resize(cols, rows).catch(() => undefined); }, 200).unref();
      }
      return {
        containerId: job.id,
        resize: (cols, rows) => { void job.resize(cols, rows).catch(() => undefined); },
        done,
      };
    },
    async recover() {
      for (const c of await d.containers.list({ [LABEL.role]: 'one-off' })) {
        if (c.labels[LABEL.oneOff] === 'cron') continue;
        log.warn({ container: c.id, app: c.labels[LABEL.app], kind: c.labels[LABEL.oneOff] }, 'removing a one-off left by a stopped Solum');
        await d.containers.remove(c.id).catch((err: unknown) => { log.error({ err }, 'removing it failed'); });
      }
    },
  };
}

/** Why a one-off's end means failure, or undefined when it exited 0. Pure. */
export function oneOffFailure(what: string, r: JobOutcome, timeoutMs: number): string | undefined {
  if (r.timedOut) return `${what} did not finish within ${Math.round(timeoutMs / 1000)}s and was stopped`;
  if (r.oomKilled) return `${what} ran out of memory and was killed`;
  if (r.aborted) return `${what} was stopped`;
  return r.exitCode === 0 ? undefined : `${what} exited with status ${r.exitCode}`;
}
