// In-process pub/sub of build output and build ends, for pushes and API followers waiting on a build.
import type { Build } from '../../db/build-store.js';

export interface BuildListener {
  /** `index` counts the build's log lines from 1, matching the stored log. */
  onLine(line: string, index: number): void;
  onFinished(build: Build): void;
}

/** A state change users may watch (`GET /v1/events`): a build or a release of an app. */
export interface StateChange {
  readonly type: 'build' | 'release';
  readonly app: string;
  /** Build number or release version. */
  readonly number: number;
  readonly status: string;
  readonly id?: number;
}

export interface BuildEvents {
  /** Publishes a state change to every state subscriber. */
  state(change: StateChange): void;
  subscribeState(listener: (change: StateChange) => void): () => void;
  subscribe(buildId: number, listener: BuildListener): () => void;
  /** Whether anyone in this process follows the build. */
  following(buildId: number): boolean;
  /** The builds someone in this process follows. */
  followed(): number[];
  line(buildId: number, line: string, index: number): void;
  /** The number of the last line published for a running build (0 when none). */
  lastLine(buildId: number): number;
  finished(build: Build): void;
}

export function createBuildEvents(): BuildEvents {
  const listeners = new Map<number, Set<BuildListener>>();
  const last = new Map<number, number>();
  const stateListeners = new Set<(change: StateChange) => void>();
  const state = (change: StateChange): void => {
    for (const l of [...stateListeners]) l(change);
  };
  return {
    state,
    subscribeState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    subscribe(buildId, listener) {
      let set = listeners.get(buildId);
      if (!set) listeners.set(buildId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(buildId);
      };
    },
    following: (buildId) => listeners.has(buildId),
    followed: () => [...listeners.keys()],
    line(buildId, line, index) {
      last.set(buildId, index);
      for (const l of listeners.get(buildId) ?? []) l.onLine(line, index);
    },
    lastLine: (buildId) => last.get(buildId) ?? 0,
    finished(build) {
      last.delete(build.id);
      state({ type: 'build', app: build.app, number: build.number, status: build.status, id: build.id });
      for (const l of [...(listeners.get(build.id) ?? [])]) l.onFinished(build);
    },
  };
}
