// The container port: everything Solum runs in Docker goes through here, so every builder, job,
// process and image build gets the same settings (installation label, limits, CA bundle, proxies)
// and DU labels are written through one checked schema. Only the engine below knows Docker.
import type { Readable } from 'node:stream';
import { readFilesFrom, type FileRead, type FilesRead, type FileSource } from './bounded-read.js';
import type { AppContainerSpec, BuilderContainer, ContainerEngine, ContainerState, ExecProcess } from './container-engine.js';
import { readDuLabels, type DuLabels } from './du-labels.js';
import { LABEL, type Role } from './labels.js';
import { CA_PATH, hostNetworks, type EgressSettings, type NetworkRef, type Networks } from './networks.js';

export { CA_PATH, type BuildNetwork, type EgressSettings, type NetworkRef } from './networks.js';

export interface Limits {
  readonly memoryBytes: number;
  readonly nanoCpus: number;
  readonly pids: number;
}

export interface ContainerSettings {
  /** Labels everything this installation creates (see SettingsStore.installationId). */
  readonly installation: string;
  readonly egress: EgressSettings;
  /** Limits of builders and jobs unless a job names its own (an app's build limits). */
  readonly jobLimits: Limits;
  /** Memory of app processes (and the default for backing services). */
  readonly processMemoryBytes: number;
  /** CPU limit of app processes (and the default for backing services), in 1e-9 CPUs. */
  readonly processNanoCpus?: number;
  /** Where containers are attached; default: the host's network (host mode). */
  readonly networks?: Networks;
}

/** A job's network: none at all, or a Solum network (the host's in host mode). */
export type JobNetwork = 'none' | NetworkRef;

/** A container that runs one script to its exit: a builder, a pipeline test, a save-artifacts step. */
export interface JobSpec {
  readonly image: string;
  /** Run with /bin/sh -c. */
  readonly script: string;
  /** Environment of the script only: passed on its command line, so a commit keeps none of it. */
  readonly env?: Readonly<Record<string, string>>;
  /** Default /app; '' keeps the image's own working directory. */
  readonly workingDir?: string;
  readonly role: Role;
  /** Labels naming what the job is for (app, build); the installation and role are added. */
  readonly labels: Readonly<Record<string, string>>;
  readonly network: JobNetwork;
  readonly limits?: Limits;
  /** named volume → container path, read-write (build caches) */
  readonly volumes?: ReadonlyArray<readonly [string, string]>;
}

export interface JobOutcome {
  readonly exitCode: number;
  readonly oomKilled: boolean;
  /** Stopped because `timeoutMs` passed. */
  readonly timedOut: boolean;
  /** Stopped because `signal` was aborted. */
  readonly aborted: boolean;
}

export interface RunOptions {
  readonly onOutput: (chunk: Buffer) => void;
  /** Piped to an interactive container's standard input; its end closes it. */
  readonly stdin?: Readable;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** What a DU commit needs; labels come from writeDuLabels. */
export interface CommitSpec {
  readonly repo: string;
  readonly tag: string;
  readonly workingDir?: string;
  readonly cmd: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface Job extends FileSource {
  readonly id: string;
  putArchive(tar: Readable, dir: string): Promise<void>;
  /** Starts the job and resolves when it exits (or was stopped by the signal or the timeout). */
  run(options: RunOptions): Promise<JobOutcome>;
  /** A tar of a path inside the (stopped) container, or undefined when there is no such path. */
  readArchive(path: string): Promise<Buffer | undefined>;
  /** Commits the container as a DU image; returns its image ID. */
  commit(spec: CommitSpec): Promise<string>;
  /** A terminal's new size (an interactive one-off with a tty, while it runs). */
  resize(cols: number, rows: number): Promise<void>;
  remove(): Promise<void>;
}

/**
 * A container of a release that runs one command to its exit (release phase, postdeploy, a scheduled
 * job, `run`): an app process in all but its lifetime, so it gets a process's limits, no capabilities
 * and its target's network, never a builder's.
 */
export interface OneOffSpec {
  readonly image: string;
  readonly cmd: readonly string[];
  /** The container's environment (the release's config among it; one-offs are never committed). */
  readonly env: Readonly<Record<string, string>>;
  /** Labels naming what it is for (app, target, release, kind); the installation and role are added. */
  readonly labels: Readonly<Record<string, string>>;
  readonly network: NetworkRef;
  /** Standard input open (and a terminal when `tty`): `run` with a user at the other end. */
  readonly interactive?: { readonly tty: boolean };
}

export interface ProcessSpec {
  readonly image: string;
  readonly name: string;
  readonly role: Role;
  readonly network: NetworkRef;
  /** Names the process is reached by on its network. */
  readonly aliases?: readonly string[];
  readonly nanoCpus?: number;
  /** The command to run; undefined keeps the image's CMD. */
  readonly cmd: readonly string[] | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly memoryBytes?: number;
  readonly volumes?: ReadonlyArray<readonly [string, string]>;
}

export interface ImageBuildSpec {
  readonly tag: string;
  readonly labels: Readonly<Record<string, string>>;
  /** 'host' only for images an admin registers (language packs): builds of apps get a build network. */
  readonly network: JobNetwork | 'host';
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly memoryBytes?: number;
  /** CPU and process limits of the build's RUN steps (an app's build gets a builder's). */
  readonly nanoCpus?: number;
  readonly pids?: number;
  readonly signal?: AbortSignal;
  readonly onOutput?: (text: string) => void;
}

export interface ContainerSummary {
  readonly id: string;
  readonly created: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Containers {
  readonly installation: string;
  readonly networks: Networks;
  /** The container's address on `ref`, where the router and health checks reach it (loopback in host mode). */
  addressOf(id: string, ref: NetworkRef): Promise<string | undefined>;
  /** Creates a job container (not started); the caller must remove() it. */
  createJob(spec: JobSpec): Promise<Job>;
  /** Creates a one-off container of a release (not started); the caller must remove() it (or keep it for its logs). */
  createOneOff(spec: OneOffSpec): Promise<Job>;
  /** Creates a job, puts `archive` in, runs it to its exit and removes it, whatever happens. */
  runToExit(spec: JobSpec & RunOptions & { readonly archive?: { readonly tar: () => Readable; readonly dir: string } }): Promise<JobOutcome>;
  /** Creates and starts a long-running container (app process, backing service); returns its ID. */
  startProcess(spec: ProcessSpec): Promise<string>;
  /** `docker build` of a tar context; proxies are handed over as build args when it has network. */
  buildImage(context: Readable, spec: ImageBuildSpec): Promise<string>;

  /** Containers of this installation carrying all the given labels, newest first. */
  list(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]>;
  inspect(id: string): Promise<ContainerState | undefined>;
  start(id: string): Promise<void>;
  /** Stops (SIGTERM, then SIGKILL after `graceSeconds`) and removes a container. */
  stopAndRemove(id: string, graceSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  logs(id: string, options: { follow: boolean; tail: number }): Promise<NodeJS.ReadableStream & { destroy(): void }>;
  exec(id: string, options: { cmd: readonly string[]; env?: readonly string[]; stdin?: Readable }): Promise<ExecProcess>;

  imageId(ref: string): Promise<string | undefined>;
  imageLabels(ref: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** A DU's labels, parsed; undefined when there is no such image or it is no DU. */
  readDu(ref: string): Promise<DuLabels | undefined>;
  readImagePath(image: string, path: string): Promise<Buffer | undefined>;
  /** Reads an image's files (within each read's limits: the image may be a tenant's) from one container never started. */
  readImage<T>(image: string, use: (source: FileSource) => Promise<T>): Promise<T>;
  /** Images of this installation carrying all the given labels. */
  listImages(labels: Readonly<Record<string, string>>): Promise<Array<{ id: string; labels: Readonly<Record<string, string>> }>>;
  removeImage(id: string): Promise<void>;
  removeImages(labels: Readonly<Record<string, string>>): Promise<number>;

  ensureVolume(name: string, labels: Readonly<Record<string, string>>): Promise<void>;
  listVolumes(labels: Readonly<Record<string, string>>): Promise<Array<{ name: string; labels: Readonly<Record<string, string>> }>>;
  removeVolumes(labels: Readonly<Record<string, string>>): Promise<number>;
  ping(): Promise<void>;
}

/**
 * A Dockerfile LABEL/ENV value, double-quoted with JSON escaping (which Docker's parser accepts);
 * `$` is escaped too, or Docker would substitute variables (`$PORT` in a process type) with nothing.
 */
export const quote = (v: string): string => JSON.stringify(v).replace(/\$/g, '\\$');

/** The pids limit of app processes and of one-offs of their releases. */
const PROCESS_PIDS = 512;

export function createContainers(engine: ContainerEngine, s: ContainerSettings): Containers {
  const networks = s.networks ?? hostNetworks(s.egress);
  const mine = (labels: Readonly<Record<string, string>>): Record<string, string> => ({ ...labels, [LABEL.installation]: s.installation });

  const job = (container: BuilderContainer): Job => ({
    id: container.id,
    putArchive: (tar, dir) => container.putArchive(tar, dir),
    async run({ onOutput, signal, timeoutMs, stdin }) {
      let timedOut = false;
      const stop = (): void => {
        container.stop().catch(() => undefined);
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        timedOut = true;
        stop();
      }, timeoutMs);
      if (signal?.aborted) stop();
      signal?.addEventListener('abort', stop, { once: true });
      try {
        const { exitCode, oomKilled } = await container.run(onOutput, stdin);
        return { exitCode, oomKilled, timedOut, aborted: signal?.aborted ?? false };
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', stop);
      }
    },
    readArchive: (path) => container.readArchive(path),
    readFiles: (read: FileRead): Promise<FilesRead> => readFilesFrom((p) => container.readArchiveStream(p), read),
    stat: (path) => container.statPath(path),
    commit: (c) =>
      container.commit({
        repo: c.repo,
        tag: c.tag,
        changes: [
          ...(c.workingDir ? [`WORKDIR ${c.workingDir}`] : []),
          'ENTRYPOINT []',
          `CMD ${JSON.stringify(c.cmd)}`,
          ...Object.entries(c.labels).map(([k, v]) => `LABEL ${k}=${quote(v)}`),
        ],
      }),
    resize: (cols, rows) => container.resize(cols, rows),
    remove: () => container.remove(),
  });

  const createJob = async (spec: JobSpec): Promise<Job> => {
    if (spec.network !== 'none') await networks.guard();
    // Every job gets the same egress settings: whatever runs with network sees the CA bundle and
    // the proxies, and they stay out of anything committed (they live on the command line only).
    const egress = spec.network === 'none' ? {} : networks.egressEnv(spec.network);
    const env = { ...egress, ...(spec.env ?? {}) };
    const limits = spec.limits ?? s.jobLimits;
    return job(
      await engine.createBuilder({
        image: spec.image,
        cmd: ['/usr/bin/env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), '/bin/sh', '-c', spec.script],
        workingDir: spec.workingDir ?? '/app',
        labels: mine({ ...spec.labels, [LABEL.role]: spec.role }),
        network: spec.network === 'none' ? 'none' : spec.network.name,
        memoryBytes: limits.memoryBytes,
        nanoCpus: limits.nanoCpus,
        pids: limits.pids,
        readOnlyMounts: s.egress.caBundle && 'NODE_EXTRA_CA_CERTS' in egress ? [[s.egress.caBundle, CA_PATH]] : [],
        volumes: spec.volumes ?? [],
      }),
    );
  };

  return {
    installation: s.installation,
    networks,
    async addressOf(id, ref) {
      if (ref.kind === 'host') return '127.0.0.1';
      return (await engine.inspectContainer(id))?.addresses?.[ref.name];
    },
    createJob,
    async createOneOff(spec) {
      await networks.guard();
      // An app target's network may egress (SOLUM_APP_EGRESS): its one-offs then get the proxy too.
      const egress = spec.network.kind === 'target' && spec.network.egress ? networks.egressEnv(spec.network) : {};
      return job(
        await engine.createBuilder({
          image: spec.image,
          cmd: spec.cmd,
          // The DU's own working directory (/app for built DUs), as its processes have.
          workingDir: '',
          labels: mine({ ...spec.labels, [LABEL.role]: 'one-off' }),
          network: spec.network.name,
          memoryBytes: s.processMemoryBytes,
          nanoCpus: s.processNanoCpus ?? 0,
          pids: PROCESS_PIDS,
          capAdd: [],
          env: Object.entries({ ...egress, ...spec.env }).map(([k, v]) => `${k}=${v}`),
          readOnlyMounts: [],
          volumes: [],
          ...(spec.interactive ? { interactive: spec.interactive } : {}),
        }),
      );
    },
    async runToExit(spec) {
      const j = await createJob(spec);
      try {
        if (spec.archive) await j.putArchive(spec.archive.tar(), spec.archive.dir);
        return await j.run(spec);
      } finally {
        await j.remove();
      }
    },
    async startProcess(spec) {
      await networks.guard();
      // An app target's network may egress (SOLUM_APP_EGRESS): its processes then get the proxy.
      const egress = spec.network.kind === 'target' && spec.network.egress ? networks.egressEnv(spec.network) : {};
      const app: AppContainerSpec = {
        image: spec.image,
        name: spec.name,
        cmd: spec.cmd,
        env: Object.entries({ ...egress, ...spec.env }).map(([k, v]) => `${k}=${v}`),
        labels: mine({ ...spec.labels, [LABEL.role]: spec.role }),
        network: spec.network.name,
        ...(spec.aliases ? { aliases: spec.aliases } : {}),
        nanoCpus: spec.nanoCpus ?? s.processNanoCpus ?? 0,
        memoryBytes: spec.memoryBytes ?? s.processMemoryBytes,
        pids: PROCESS_PIDS,
        ...(spec.volumes ? { volumes: spec.volumes } : {}),
      };
      return engine.runApp(app);
    },
    async buildImage(context, spec) {
      const net = spec.network;
      if (net !== 'none' && net !== 'host') await networks.guard();
      // The proxies as Docker's predefined build args, which stay out of the image's history.
      const egress = net === 'none' ? {} : net === 'host' ? hostNetworks(s.egress).egressEnv({ name: 'host', gateway: '127.0.0.1', kind: 'host', egress: true }) : networks.egressEnv(net);
      return engine.buildImage(context, {
        tag: spec.tag,
        labels: mine(spec.labels),
        network: net === 'none' || net === 'host' ? net : net.name,
        buildArgs: { ...Object.fromEntries(Object.entries(egress).filter(([k]) => /PROXY$/i.test(k))), ...(spec.buildArgs ?? {}) },
        memoryBytes: spec.memoryBytes ?? s.jobLimits.memoryBytes,
        ...(spec.nanoCpus !== undefined ? { nanoCpus: spec.nanoCpus } : {}),
        ...(spec.pids !== undefined ? { pids: spec.pids } : {}),
        signal: spec.signal ?? new AbortController().signal,
        onOutput: spec.onOutput ?? (() => undefined),
      });
    },
    list: (labels) => engine.listContainers(mine(labels)),
    inspect: (id) => engine.inspectContainer(id),
    start: (id) => engine.startContainer(id),
    stopAndRemove: (id, grace) => engine.stopAndRemove(id, grace),
    remove: (id) => engine.removeContainer(id),
    logs: (id, o) => engine.logs(id, o),
    exec: (id, o) => engine.exec(id, o),
    imageId: (ref) => engine.imageId(ref),
    imageLabels: (ref) => engine.imageLabels(ref),
    async readDu(ref) {
      return readDuLabels(await engine.imageLabels(ref));
    },
    readImagePath: (image, path) => engine.readImagePath(image, path),
    async readImage(image, use) {
      const reader = await engine.openImageReader(image);
      try {
        return await use({ stat: (p) => reader.statPath(p), readFiles: (read) => readFilesFrom((p) => reader.readArchiveStream(p), read) });
      } finally {
        await reader.close();
      }
    },
    listImages: (labels) => engine.listImages(mine(labels)),
    removeImage: (id) => engine.removeImage(id),
    removeImages: (labels) => engine.removeImages(mine(labels)),
    ensureVolume: (name, labels) => engine.ensureVolume(name, mine(labels)),
    listVolumes: (labels) => engine.listVolumes(mine(labels)),
    removeVolumes: (labels) => engine.removeVolumes(mine(labels)),
    ping: () => engine.ping(),
  };
}
