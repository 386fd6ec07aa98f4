// What the build runner needs from a container engine; docker-engine.ts implements it with Docker.
import type { Readable } from 'node:stream';
import type { PathStat } from './bounded-read.js';

export interface BuilderSpec {
  readonly image: string;
  readonly cmd: readonly string[];
  readonly workingDir: string;
  readonly labels: Readonly<Record<string, string>>;
  /** 'none', 'host' or the name of a network Solum made. */
  readonly network: string;
  readonly memoryBytes: number;
  readonly nanoCpus: number;
  readonly pids: number;
  /** host path → container path, read-only */
  readonly readOnlyMounts: ReadonlyArray<readonly [string, string]>;
  /** named volume → container path, read-write (build caches) */
  readonly volumes: ReadonlyArray<readonly [string, string]>;
  /** Capabilities given back after all are dropped; default: what package managers need (builders). */
  readonly capAdd?: readonly string[];
  /** The container's own environment (one-off containers, which are never committed). */
  readonly env?: readonly string[];
  /** Standard input kept open for the one client that attaches; with `tty`, a terminal (output not multiplexed). */
  readonly interactive?: { readonly tty: boolean };
}

export interface BuilderContainer {
  readonly id: string;
  putArchive(tar: Readable, dir: string): Promise<void>;
  /**
   * Starts the container and resolves when it exits; output arrives through `onOutput`. `stdin`
   * (interactive containers) is piped to the container; its end closes the container's input.
   */
  run(onOutput: (chunk: Buffer) => void, stdin?: Readable): Promise<{ exitCode: number; oomKilled: boolean }>;
  /** A terminal's new size (interactive containers with a tty, while they run). */
  resize(cols: number, rows: number): Promise<void>;
  /** Stops a running builder (SIGTERM, SIGKILL after a moment); run() then resolves. */
  stop(): Promise<void>;
  /** A tar of a path inside the (stopped) container, or undefined when there is no such path. */
  readArchive(path: string): Promise<Buffer | undefined>;
  /** The same tar as it streams, for reads that may stop early (bounded-read.ts). */
  readArchiveStream(path: string): Promise<Readable | undefined>;
  /** A path's size, mode, mtime and link target without reading it; undefined when absent. */
  statPath(path: string): Promise<PathStat | undefined>;
  /** Commits the container as an image; returns the image ID. */
  commit(opts: { repo: string; tag: string; changes: readonly string[] }): Promise<string>;
  remove(): Promise<void>;
}

/** A long-running container of a deployment unit (one process of a release). */
export interface AppContainerSpec {
  readonly image: string;
  readonly name: string;
  /** The command to run; undefined keeps the image's CMD. */
  readonly cmd: readonly string[] | undefined;
  readonly env: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** 'host' or the name of a network Solum made. */
  readonly network: string;
  /** Names other containers of that network reach this one by. */
  readonly aliases?: readonly string[];
  readonly memoryBytes: number;
  /** CPU limit in units of 1e-9 CPUs (0: none). */
  readonly nanoCpus: number;
  readonly pids: number;
  /** named volume → container path, read-write (backing services' data) */
  readonly volumes?: ReadonlyArray<readonly [string, string]>;
}

/** A command run inside a running container (`docker exec`). */
export interface ExecProcess {
  /** The command's standard output. */
  readonly stdout: Readable;
  /** Resolves once the command has ended, with its exit code and (the first 64 KiB of) its standard error. */
  readonly done: Promise<{ exitCode: number; stderr: string }>;
}

export interface ContainerState {
  readonly id: string;
  readonly running: boolean;
  readonly exitCode: number;
  /** How often Docker restarted it after it exited. */
  readonly restartCount: number;
  readonly labels: Readonly<Record<string, string>>;
  /** The container's IPv4 address on each network it is attached to. */
  readonly addresses?: Readonly<Record<string, string>>;
}

/** A Docker network Solum made: a user-defined internal bridge on a subnet of its own. */
export interface NetworkSpec {
  readonly name: string;
  readonly subnet: string;
  readonly gateway: string;
  /** The bridge's interface name on the host, which Solum's firewall rules match. */
  readonly bridge: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NetworkSummary {
  readonly name: string;
  /** IPv4 subnets (a network made by anyone else may have several, or none). */
  readonly subnets: readonly string[];
  readonly bridge: string;
  readonly labels: Readonly<Record<string, string>>;
  /** IDs of the containers attached to it. */
  readonly containers: readonly string[];
  /** Seconds since the epoch. */
  readonly created: number;
}

/** What the network layer needs from the engine; docker-engine.ts implements it with Docker. */
export interface NetworkEngine {
  /** Creates the network; rejects with `overlap` true when Docker refuses its subnet as taken. */
  createNetwork(spec: NetworkSpec): Promise<void>;
  /** Disconnects whatever is still attached and removes the network; a missing one is not an error. */
  removeNetwork(name: string): Promise<void>;
  /** Networks carrying all the given labels (every network with none given). */
  listNetworks(labels: Readonly<Record<string, string>>): Promise<NetworkSummary[]>;
  /** Attaches a container to a network (already attached is not an error). */
  connectNetwork(name: string, containerId: string, aliases: readonly string[]): Promise<void>;
  /** Detaches a container (not attached, or gone, is not an error). */
  disconnectNetwork(name: string, containerId: string): Promise<void>;
}

export interface ContainerEngine {
  /** Labels of an image, or undefined when there is no such image. */
  imageLabels(ref: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** Creates and starts an app container (restarted by Docker unless stopped). */
  runApp(spec: AppContainerSpec): Promise<string>;
  /** Stops (SIGTERM, then SIGKILL after `graceSeconds`) and removes a container. */
  stopAndRemove(id: string, graceSeconds: number): Promise<void>;
  startContainer(id: string): Promise<void>;
  inspectContainer(id: string): Promise<ContainerState | undefined>;
  /** The container's output (stdout and stderr), from `tail` lines back, optionally followed. */
  logs(id: string, options: { follow: boolean; tail: number }): Promise<NodeJS.ReadableStream & { destroy(): void }>;
  /** The image ID (sha256:…) of a reference, or undefined when there is no such image. */
  imageId(ref: string): Promise<string | undefined>;
  createBuilder(spec: BuilderSpec): Promise<BuilderContainer>;
  /** A tar of a path inside an image (read from a container never started), or undefined when absent. */
  readImagePath(image: string, path: string): Promise<Buffer | undefined>;
  /** Several paths of an image as streamed tars, from one container never started; close() removes it. */
  openImageReader(image: string): Promise<{ readArchiveStream(path: string): Promise<Readable | undefined>; statPath(path: string): Promise<PathStat | undefined>; close(): Promise<void> }>;
  /** Containers (running or not) carrying all the given labels, newest first. */
  listContainers(labels: Readonly<Record<string, string>>): Promise<Array<{ id: string; created: number; labels: Readonly<Record<string, string>> }>>;
  /**
   * Builds an image from a tar context with its Dockerfile (`docker build`); output arrives through
   * `onOutput`; aborting `signal` stops the build. Resolves with the image ID, or rejects with the
   * build's error.
   */
  buildImage(context: Readable, opts: { tag: string; labels: Readonly<Record<string, string>>; network: string; buildArgs: Readonly<Record<string, string>>; memoryBytes: number; nanoCpus?: number; pids?: number; signal: AbortSignal; onOutput: (text: string) => void }): Promise<string>;
  /** Creates a named volume with labels unless it exists. */
  ensureVolume(name: string, labels: Readonly<Record<string, string>>): Promise<void>;
  /** Removes volumes carrying all the given labels; returns how many. */
  removeVolumes(labels: Readonly<Record<string, string>>): Promise<number>;
  /** Images carrying all the given labels. */
  listImages(labels: Readonly<Record<string, string>>): Promise<Array<{ id: string; labels: Readonly<Record<string, string>> }>>;
  /** Removes one image (all its tags); a missing one is not an error. */
  removeImage(id: string): Promise<void>;
  /** Volumes carrying all the given labels. */
  listVolumes(labels: Readonly<Record<string, string>>): Promise<Array<{ name: string; labels: Readonly<Record<string, string>> }>>;
  /** Removes images carrying all the given labels (and their tags); returns how many. */
  removeImages(labels: Readonly<Record<string, string>>): Promise<number>;
  /** Force-removes a container; a missing one is not an error. */
  removeContainer(id: string): Promise<void>;
  ping(): Promise<void>;
  /**
   * Runs a command in a running container; `stdin`, when given, is piped to it and closed at its
   * end. Read `stdout` to the end (or destroy it) for the command to finish.
   */
  exec(id: string, options: { cmd: readonly string[]; env?: readonly string[]; stdin?: Readable }): Promise<ExecProcess>;
}
